/**
 * Text the CLI prints comes from the API, and so from people: control characters (an escape
 * sequence that clears the screen or forges a line) are replaced before it reaches a terminal.
 */
export function printable(value: string): string {
  // eslint-disable-next-line no-control-regex
  return value.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g, '\ufffd');
}

/** Columns a character takes in a terminal: East Asian wide and full-width forms take two. */
function charWidth(code: number): number {
  if (code < 0x1100) return 1;
  return (code <= 0x115f) || // Hangul Jamo
    (code >= 0x2e80 && code <= 0xa4cf && code !== 0x303f) || // CJK radicals … Yi
    (code >= 0xac00 && code <= 0xd7a3) || // Hangul syllables
    (code >= 0xf900 && code <= 0xfaff) || // CJK compatibility ideographs
    (code >= 0xfe30 && code <= 0xfe4f) || // CJK compatibility forms
    (code >= 0xff00 && code <= 0xff60) || // full-width forms
    (code >= 0xffe0 && code <= 0xffe6) ||
    (code >= 0x1f300 && code <= 0x1faff) || // emoji
    (code >= 0x20000 && code <= 0x3fffd)
    ? 2
    : 1;
}

export function displayWidth(s: string): number {
  let width = 0;
  for (const ch of s) width += charWidth(ch.codePointAt(0)!);
  return width;
}

/** Cuts `s` to at most `max` columns, with an ellipsis when it was longer. */
function fit(s: string, max: number): string {
  if (displayWidth(s) <= max) return s;
  let out = '';
  let width = 0;
  for (const ch of s) {
    const w = charWidth(ch.codePointAt(0)!);
    if (width + w > max - 1) break;
    out += ch;
    width += w;
  }
  return `${out}…`;
}

/** Prints rows as an aligned text table (by terminal columns, so Japanese text lines up); long cells are cut. */
export function table(rows: Record<string, unknown>[], columns: string[], maxWidth = 40): string {
  if (rows.length === 0) return '(none)';
  const cell = (v: unknown) => fit(printable(v === undefined || v === null ? '' : String(v)).replace(/[\r\n\t]+/g, ' '), maxWidth);
  const widths = columns.map((c) => Math.max(displayWidth(c), ...rows.map((r) => displayWidth(cell(r[c])))));
  const pad = (v: string, w: number) => v + ' '.repeat(Math.max(0, w - displayWidth(v)));
  const line = (values: string[]) => values.map((v, i) => pad(v, widths[i]!)).join('  ').trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n');
}
