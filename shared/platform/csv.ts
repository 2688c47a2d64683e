import { createReadStream } from 'node:fs';
import { TextDecoder } from 'node:util';

/**
 * A streaming CSV reader (RFC 4180 and what spreadsheets write): quoted fields with the
 * delimiter, doubled quotes and line breaks inside; CRLF or LF; a UTF-8 byte-order mark;
 * UTF-8 or Shift_JIS / CP932 (Excel in Japan), detected or given; any one-character
 * delimiter. Rows come in batches (one per chunk read), so a million rows do not cost a
 * million promises; memory is bounded by the chunk and the longest row, whatever the file.
 */
export type CsvEncoding = 'auto' | 'utf-8' | 'shift_jis' | 'windows-1252';
export const CSV_ENCODINGS: readonly CsvEncoding[] = ['auto', 'utf-8', 'shift_jis', 'windows-1252'];

export interface CsvOptions {
  /** One character; default `,`. `\t` for tab-separated files. */
  readonly delimiter?: string;
  /**
   * `auto` (default): UTF-8 when the bytes are valid UTF-8 (with or without BOM), else
   * Shift_JIS when they read as Japanese text; anything else is refused with advice (a
   * Western Windows export read as Shift_JIS would be half-width katakana, not an error).
   * `windows-1252`: Western European Windows and Excel exports.
   */
  readonly encoding?: CsvEncoding;
  /** A row longer than this (characters) is an error: almost always an unclosed quote. */
  readonly maxRowChars?: number;
}

export class CsvError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvError';
  }
}

const QUOTE = 34;
const LF = 10;
const CR = 13;

/** Parses text chunk by chunk; `push` returns the rows completed so far, `end` the rest. */
export class CsvParser {
  private readonly delimiter: number;
  private readonly maxRowChars: number;
  private pending = '';
  /** Line number (1-based) where `pending` starts. */
  private line = 1;

  constructor(options: Pick<CsvOptions, 'delimiter' | 'maxRowChars'> = {}) {
    const d = options.delimiter ?? ',';
    if (d.length !== 1 || d === '"' || d === '\n' || d === '\r') throw new Error(`The delimiter must be one character other than a quote or line break (got ${JSON.stringify(d)}).`);
    this.delimiter = d.charCodeAt(0);
    this.maxRowChars = options.maxRowChars ?? 1_000_000;
  }

  private started = false;

  push(chunk: string): string[][] {
    let text = this.pending + chunk;
    if (!this.started && text.length > 0) {
      this.started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a BOM the caller did not strip
    }
    const rows: string[][] = [];
    const consumed = this.parse(text, false, rows);
    this.pending = text.slice(consumed);
    if (this.pending.length > this.maxRowChars) {
      throw new CsvError(`a row longer than ${this.maxRowChars.toLocaleString('en')} characters: is a quote left open?`, this.line);
    }
    return rows;
  }

  /** The line the parser has reached (1-based): where an error points. */
  get lineNumber(): number {
    return this.line;
  }

  end(): string[][] {
    const rows: string[][] = [];
    if (this.pending.length > 0) this.parse(this.pending, true, rows);
    this.pending = '';
    return rows;
  }

  /** Parses complete rows from `text` into `rows`; returns how many characters were consumed. */
  private parse(text: string, final: boolean, rows: string[][]): number {
    const n = text.length;
    const delimiter = this.delimiter;
    let rowStart = 0;
    let i = 0;
    let row: string[] = [];
    let linesInRow = 0;
    while (i <= n) {
      // At the start of a field.
      if (i === n) {
        if (!final) return rowStart;
        if (row.length > 0) {
          row.push('');
          rows.push(row);
        }
        return n;
      }
      let c = text.charCodeAt(i);
      if (c === QUOTE) {
        // Quoted field: up to the closing quote; "" is one quote.
        let value = '';
        let j = i + 1;
        for (;;) {
          const q = text.indexOf('"', j);
          if (q < 0) {
            if (!final) return rowStart;
            throw new CsvError('a quoted field is not closed before the end of the file', this.line);
          }
          if (q + 1 < n && text.charCodeAt(q + 1) === QUOTE) {
            value += text.slice(j, q + 1);
            j = q + 2;
            continue;
          }
          if (q + 1 === n && !final) return rowStart; // a quote at the chunk's end may be doubled
          value += text.slice(j, q);
          for (let k = i; k < q; k++) if (text.charCodeAt(k) === LF) linesInRow++;
          i = q + 1;
          break;
        }
        // Anything between the closing quote and the delimiter is kept (lenient, as spreadsheets are).
        let k = i;
        while (k < n) {
          c = text.charCodeAt(k);
          if (c === delimiter || c === LF || c === CR) break;
          k++;
        }
        if (k > i) value += text.slice(i, k);
        i = k;
        row.push(value);
      } else {
        let k = i;
        while (k < n) {
          c = text.charCodeAt(k);
          if (c === delimiter || c === LF || c === CR) break;
          k++;
        }
        row.push(text.slice(i, k));
        i = k;
      }
      // After a field: a delimiter, a line break or the end.
      if (i === n) {
        if (!final) return rowStart;
        rows.push(row);
        return n;
      }
      c = text.charCodeAt(i);
      if (c === delimiter) {
        i++;
        continue;
      }
      // Line break: CRLF, LF or a lone CR.
      if (c === CR) {
        if (i + 1 === n && !final) return rowStart;
        i += i + 1 < n && text.charCodeAt(i + 1) === LF ? 2 : 1;
      } else i++;
      if (!(row.length === 1 && row[0] === '')) rows.push(row); // blank lines are skipped
      this.line += 1 + linesInRow;
      linesInRow = 0;
      row = [];
      rowStart = i;
    }
    return rowStart;
  }
}

/** Decodes byte chunks: BOM stripped; `auto` reads UTF-8, or Shift_JIS when the first chunk reads as Japanese text, else fails with advice. */
function decoderFor(encoding: CsvEncoding, head: Uint8Array): TextDecoder {
  // A zip archive (what an Excel workbook is) read as text is noise: say what it is.
  if (head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04) {
    throw new CsvError('the file is a zip archive (an Excel .xlsx workbook?), not text: export the sheet as CSV and give that file', 1);
  }
  if (encoding === 'shift_jis') return new TextDecoder('shift_jis');
  if (encoding === 'windows-1252') return new TextDecoder('windows-1252');
  if (encoding === 'utf-8') return new TextDecoder('utf-8', { fatal: true });
  const hasBom = head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf;
  if (hasBom) return new TextDecoder('utf-8', { fatal: true });
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(head, { stream: true });
    return new TextDecoder('utf-8', { fatal: true });
  } catch {
    if (looksJapanese(head)) return new TextDecoder('shift_jis');
    throw new CsvError(
      'the file is neither UTF-8 nor Japanese Shift_JIS; give --encoding windows-1252 (Western European Windows or Excel) or --encoding shift_jis, or convert it to UTF-8',
      1,
    );
  }
}

/**
 * Whether bytes that are not UTF-8 read as Japanese Shift_JIS text: without errors, and with
 * its runs of kana and kanji (品番, 異物混入, ﾁｮｺﾚｰﾄ) mostly standing apart from Latin letters.
 * Western text read as Shift_JIS turns an accented letter and the letter after it into a
 * kanji inside a word (Räder → R臈er, référence → r馭駻ence), or into private-use characters.
 */
function looksJapanese(head: Uint8Array): boolean {
  let text: string;
  try {
    // Streaming: the chunk may end inside a character.
    text = new TextDecoder('shift_jis', { fatal: true }).decode(head, { stream: true });
  } catch {
    return false;
  }
  // Kana, kanji, full-width forms and half-width katakana (not the private-use area).
  const japanese = (c: number) => (c >= 0x3000 && c <= 0x9fff) || (c >= 0xff01 && c <= 0xff9f);
  const letter = (i: number) => {
    const c = i >= 0 && i < text.length ? text.charCodeAt(i) : 0;
    return (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  };
  let apart = 0;
  let inWords = 0;
  for (let i = 0; i < text.length; i++) {
    if (!japanese(text.charCodeAt(i))) continue;
    let end = i;
    while (end + 1 < text.length && japanese(text.charCodeAt(end + 1))) end++;
    if (letter(i - 1) || letter(end + 1)) inWords++;
    else apart++;
    i = end;
  }
  return apart > inWords;
}

/** Streams a CSV file (or any byte stream) as batches of rows, the header row first. */
export async function* readCsvBatches(source: string | AsyncIterable<Uint8Array>, options: CsvOptions = {}): AsyncGenerator<string[][]> {
  const parser = new CsvParser(options);
  const input = typeof source === 'string' ? createReadStream(source, { highWaterMark: 1 << 20 }) : source;
  let decoder: TextDecoder | undefined;
  let bytes = 0;
  for await (const chunk of input) {
    const data = chunk as Uint8Array;
    decoder ??= decoderFor(options.encoding ?? 'auto', data);
    let text: string;
    try {
      text = decoder.decode(data, { stream: true });
    } catch {
      throw new CsvError(
        `the file is not valid UTF-8 after byte ${bytes.toLocaleString('en')} (in the rows from here on); give --encoding windows-1252 (Western European Windows or Excel) or --encoding shift_jis (Excel in Japan), or convert it to UTF-8`,
        parser.lineNumber,
      );
    }
    bytes += data.byteLength;
    const rows = parser.push(text);
    if (rows.length > 0) yield rows;
  }
  let tail = '';
  try {
    tail = decoder?.decode() ?? '';
  } catch {
    throw new CsvError(`the file ends inside a character: it is not valid UTF-8; give --encoding windows-1252 (Western European Windows or Excel) or --encoding shift_jis (Excel in Japan), or convert it to UTF-8`, parser.lineNumber);
  }
  const rest = parser.push(tail);
  const last = [...rest, ...parser.end()];
  if (last.length > 0) yield last;
}

/** Row by row, for callers that do not care about batches. */
export async function* readCsv(source: string | AsyncIterable<Uint8Array>, options: CsvOptions = {}): AsyncGenerator<string[]> {
  for await (const batch of readCsvBatches(source, options)) yield* batch;
}
