import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CsvError, CsvParser, readCsv } from '../../../shared/platform/csv.js';

async function* bytes(...parts: (string | Buffer)[]) {
  for (const p of parts) yield typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
}
const all = async (source: AsyncIterable<Uint8Array> | string, options = {}) => {
  const rows: string[][] = [];
  for await (const row of readCsv(source, options)) rows.push(row);
  return rows;
};
/** Parses text fed in chunks of `size` characters. */
function parseInChunks(text: string, size: number, delimiter = ','): string[][] {
  const parser = new CsvParser({ delimiter });
  const rows: string[][] = [];
  for (let i = 0; i < text.length; i += size) rows.push(...parser.push(text.slice(i, i + size)));
  rows.push(...parser.end());
  return rows;
}
/** What a spreadsheet writes for these rows. */
const toCsv = (rows: string[][], eol: string) => rows.map((r) => r.map((c) => (/[",\r\n]/.test(c) || c === '' ? `"${c.replaceAll('"', '""')}"` : c)).join(',')).join(eol) + eol;

describe('CSV reader', () => {
  it('reads quoted fields holding the delimiter, doubled quotes and line breaks', async () => {
    const text = 'id,description,n\r\n1,"glass, in the ""jar""\nbottom",3\r\n2,plain,4\n';
    expect(await all(bytes(text))).toEqual([
      ['id', 'description', 'n'],
      ['1', 'glass, in the "jar"\nbottom', '3'],
      ['2', 'plain', '4'],
    ]);
  });

  it('gives the same rows whatever the chunk boundaries (a quote, CRLF or multibyte character split)', () => {
    const text = 'a,b\r\n"x""",y\r\n"1\r\n2",あい\r\n,\r\n"",""\r\nlast,row';
    const whole = parseInChunks(text, text.length);
    expect(whole).toEqual([['a', 'b'], ['x"', 'y'], ['1\r\n2', 'あい'], ['', ''], ['', ''], ['last', 'row']]);
    for (let size = 1; size < 12; size++) expect(parseInChunks(text, size), `chunks of ${size}`).toEqual(whole);
  });

  it('round-trips anything a spreadsheet writes (property)', () => {
    const cell = fc.string({ unit: fc.constantFrom('a', 'Z', '0', ' ', ',', '"', '\n', '\r\n', 'あ', '①') });
    fc.assert(
      fc.property(fc.array(fc.array(cell, { minLength: 2, maxLength: 4 }), { minLength: 1, maxLength: 6 }), fc.integer({ min: 1, max: 9 }), (rows, size) => {
        expect(parseInChunks(toCsv(rows, '\r\n'), size)).toEqual(rows);
      }),
      { numRuns: 300 },
    );
  });

  it('strips a UTF-8 byte-order mark, split across chunks or not', async () => {
    const bom = Buffer.from([0xef, 0xbb, 0xbf]);
    expect(await all(bytes(Buffer.concat([bom, Buffer.from('id,name\n1,あ\n')])))).toEqual([['id', 'name'], ['1', 'あ']]);
    expect(await all(bytes(bom.subarray(0, 2), Buffer.concat([bom.subarray(2), Buffer.from('id\n7\n')])))).toEqual([['id'], ['7']]);
  });

  it('reads Shift_JIS / CP932 as Excel in Japan writes it, detected or given', async () => {
    // "id,品名\r\n1,チョコ①～\r\n" in CP932 (① and ～ are Microsoft's extensions to Shift_JIS).
    const cp932 = Buffer.from([0x69, 0x64, 0x2c, 0x95, 0x69, 0x96, 0xbc, 0x0d, 0x0a, 0x31, 0x2c, 0x83, 0x60, 0x83, 0x87, 0x83, 0x52, 0x87, 0x40, 0x81, 0x60, 0x0d, 0x0a]);
    const expected = [['id', '品名'], ['1', 'チョコ①～']];
    expect(await all(bytes(cp932))).toEqual(expected);
    expect(await all(bytes(cp932.subarray(0, 12), cp932.subarray(12)), { encoding: 'shift_jis' })).toEqual(expected);
    // Given as UTF-8, the same bytes are refused with advice, not read as mojibake.
    await expect(all(bytes(cp932), { encoding: 'utf-8' })).rejects.toThrow(/not valid UTF-8.*--encoding shift_jis/);
  });

  it('tells Japanese Shift_JIS from Western windows-1252 exports, which it refuses with advice rather than misread', async () => {
    // Half-width katakana, as point-of-sale exports write product names: ﾁｮｺﾚｰﾄ (one byte each in Shift_JIS).
    const halfWidth = (text: string) => Buffer.from([...text].map((c) => (c.charCodeAt(0) >= 0xff61 ? c.charCodeAt(0) - 0xff61 + 0xa1 : c.charCodeAt(0))));
    expect(await all(bytes(halfWidth('sku,name\n1,ﾁｮｺﾚｰﾄ ﾊﾞｰ\n2,ｸｯｷｰ\n')))).toEqual([['sku', 'name'], ['1', 'ﾁｮｺﾚｰﾄ ﾊﾞｰ'], ['2', 'ｸｯｷｰ']]);
    // French, German and Spanish in windows-1252: read as Shift_JIS they would be kanji inside words (référence → r馭駻ence).
    const western = Buffer.from('code;category\n1;élément chauffant\n2;référence erronée\n3;Räder\n4;señal\n', 'latin1');
    await expect(all(bytes(western), { delimiter: ';' })).rejects.toThrow(/neither UTF-8 nor Japanese Shift_JIS; give --encoding windows-1252/);
    expect((await all(bytes(western), { delimiter: ';', encoding: 'windows-1252' })).map((r) => r[1])).toEqual(['category', 'élément chauffant', 'référence erronée', 'Räder', 'señal']);
    // Western bytes after the first chunk (detection saw ASCII only): the advice names both encodings.
    await expect(all(bytes(Buffer.from('a\n1\n'), western), { delimiter: ';' })).rejects.toThrow(/not valid UTF-8 after byte 4.*--encoding windows-1252.*--encoding shift_jis/);
  });

  it('takes another delimiter, tab included', async () => {
    expect(await all(bytes('a;b\n"1;2";3\n'), { delimiter: ';' })).toEqual([['a', 'b'], ['1;2', '3']]);
    expect(await all(bytes('a\tb\n1\t2\n'), { delimiter: '\t' })).toEqual([['a', 'b'], ['1', '2']]);
    expect(() => new CsvParser({ delimiter: ';;' })).toThrow(/one character/);
  });

  it('skips blank lines and names the line of a quote left open', async () => {
    expect(await all(bytes('a\n\n\nb\n'))).toEqual([['a'], ['b']]);
    await expect(all(bytes('a,b\n1,2\n3,"open\n4,5\n'))).rejects.toThrow(CsvError);
    await expect(all(bytes('a,b\n1,2\n3,"open\n4,5\n'))).rejects.toThrow(/line 3: a quoted field is not closed/);
    const parser = new CsvParser({ maxRowChars: 100 });
    expect(() => parser.push(`"${'x'.repeat(200)}`)).toThrow(/longer than 100 characters/);
  });

  it('streams a file from disk', async () => {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'csv-')), 'rows.csv');
    writeFileSync(file, toCsv(Array.from({ length: 5000 }, (_, i) => [String(i), `line\n${i}`]), '\n'));
    const rows = await all(file);
    expect(rows).toHaveLength(5000);
    expect(rows[4999]).toEqual(['4999', 'line\n4999']);
  });
});
