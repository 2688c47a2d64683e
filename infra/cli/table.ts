/** Prints rows as an aligned text table; long cells are cut with an ellipsis. */
export function table(rows: Record<string, unknown>[], columns: string[], maxWidth = 40): string {
  if (rows.length === 0) return '(none)';
  const cell = (v: unknown) => {
    const s = v === undefined || v === null ? '' : String(v);
    return s.length > maxWidth ? `${s.slice(0, maxWidth - 1)}…` : s;
  };
  const widths = columns.map((c) => Math.max(c.length, ...rows.map((r) => cell(r[c]).length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...rows.map((r) => line(columns.map((c) => cell(r[c]))))].join('\n');
}
