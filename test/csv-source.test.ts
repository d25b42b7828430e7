import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  InputError,
  decodeUtf8,
  maybeGunzip,
  parseCommentCsv,
  parseLabel,
  type ColumnMapping,
  type CsvItem,
} from '../lib/csv-source';

const mapping: ColumnMapping = {
  file: 'sample.csv',
  textColumn: 'Text',
  labelColumn: 'oh_label',
  annotationColumn: undefined,
  maxTextChars: 1000,
};

async function* bytes(...chunks: Array<string | Buffer>): AsyncGenerator<Buffer> {
  for (const chunk of chunks) yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
}

async function parseAll(input: Buffer | string, options: Partial<ColumnMapping> = {}): Promise<CsvItem[]> {
  const items: CsvItem[] = [];
  const source = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  for await (const item of parseCommentCsv(decodeUtf8(maybeGunzip(bytes(source)), 'sample.csv'), {
    ...mapping,
    ...options,
  })) {
    items.push(item);
  }
  return items;
}

function rows(items: CsvItem[]) {
  return items.flatMap((item) => (item.kind === 'row' ? [item.row] : []));
}

function rejects(items: CsvItem[]) {
  return items.flatMap((item) => (item.kind === 'reject' ? [item.reject] : []));
}

describe('parseLabel', () => {
  it.each([
    ['0', 0],
    ['1', 1],
    ['0.0', 0],
    ['1.0', 1],
    [' 1 ', 1],
  ])('accepts %j as %d', (raw, expected) => {
    expect(parseLabel(raw)).toEqual({ label: expected });
  });

  it.each([
    ['', 'label is missing'],
    [undefined, 'label is missing'],
    ['2', 'label 2 is not 0 or 1'],
    ['-1', 'label "-1" is not a number'],
    ['0.5', 'label 0.5 is not 0 or 1'],
    ['yes', 'label "yes" is not a number'],
  ])('rejects %j', (raw, message) => {
    expect(parseLabel(raw)).toEqual({ error: message });
  });
});

describe('parseCommentCsv', () => {
  it('keeps quoted newlines inside one record', async () => {
    const items = await parseAll('index,Text,oh_label\n0,"first line\nsecond line",1\n1,plain,0\n');
    expect(rows(items).map((row) => row.text)).toEqual(['first line\nsecond line', 'plain']);
    expect(rows(items).map((row) => row.sourceRow)).toEqual([1, 2]);
    expect(rows(items).map((row) => row.sourceLine)).toEqual([3, 4]);
  });

  it('strips a byte order mark and handles CRLF', async () => {
    const items = await parseAll('\uFEFFindex,Text,oh_label\r\n0,hello there,0\r\n1,"a\r\nb",1\r\n');
    expect(rows(items).map((row) => row.text)).toEqual(['hello there', 'a\r\nb']);
  });

  it('reads float labels and ids in scientific notation', async () => {
    const items = await parseAll(
      'index,id,Text,Annotation,oh_label\n0,5.74948705591165E+17,some text,none,0.0\n1,5.7E+17,more text,racism,1.0\n',
      {
        annotationColumn: 'Annotation',
      },
    );
    expect(rows(items).map((row) => [row.label, row.annotation])).toEqual([
      [0, 'none'],
      [1, 'racism'],
    ]);
  });

  it('rejects empty labels and empty texts with the field named', async () => {
    const items = await parseAll('index,Text,oh_label\n0,text with no label,\n1,,1\n2,fine,0\n');
    expect(rows(items)).toHaveLength(1);
    expect(rejects(items).map((r) => [r.sourceRow, r.field, r.reason])).toEqual([
      [1, 'oh_label', 'label is missing'],
      [2, 'Text', 'text is empty'],
    ]);
    expect(JSON.parse(rejects(items)[0]?.record ?? '[]')).toEqual(['0', 'text with no label', '']);
  });

  it('keeps emoji, URLs and mentions unchanged', async () => {
    const text = '@someone see https://example.com/a?b=1 🙂';
    const items = await parseAll(`index,Text,oh_label\n0,"${text}",0\n`);
    expect(rows(items)[0]?.text).toBe(text);
  });

  it('reads gzip-compressed input', async () => {
    const items = await parseAll(gzipSync(Buffer.from('index,Text,oh_label\n0,zipped,1\n')));
    expect(rows(items).map((row) => row.text)).toEqual(['zipped']);
  });

  it('rejects labels outside 0 and 1', async () => {
    const items = await parseAll('index,Text,oh_label\n0,a,2\n1,b,-1\n2,c,1\n');
    expect(rejects(items).map((r) => r.reason)).toEqual([
      'label 2 is not 0 or 1',
      'label "-1" is not a number',
    ]);
  });

  it('rejects records with the wrong number of fields', async () => {
    const items = await parseAll('index,Text,oh_label\n0,a,1,extra\n1,b\n2,c,0\n');
    expect(rejects(items).map((r) => r.reason)).toEqual([
      'expected 3 fields, found 4',
      'expected 3 fields, found 2',
    ]);
    expect(rows(items)).toHaveLength(1);
  });

  it('rejects a text over the length limit', async () => {
    const long = 'x'.repeat(10 * 1024 * 1024);
    const items = await parseAll(`index,Text,oh_label\n0,${long},1\n1,short,0\n`);
    expect(rejects(items)[0]?.reason).toBe(`text has ${long.length} characters, more than the limit of 1000`);
    expect(rows(items).map((row) => row.text)).toEqual(['short']);
  });

  it('returns no rows for a header without data', async () => {
    expect(await parseAll('index,Text,oh_label\n')).toEqual([]);
  });
});

describe('parseCommentCsv errors', () => {
  async function errorOf(input: Buffer | string, options: Partial<ColumnMapping> = {}): Promise<Error> {
    try {
      await parseAll(input, options);
    } catch (error) {
      return error as Error;
    }
    throw new Error('expected an error');
  }

  it('names the line of an unclosed quote', async () => {
    const error = await errorOf('index,Text,oh_label\n0,fine,1\n1,"never closed,1\n2,x,0\n');
    expect(error).toBeInstanceOf(InputError);
    expect(error.message).toMatch(/^sample\.csv: invalid CSV at line \d+: .*unclosed quote/);
  });

  it('explains a missing text column and a likely wrong delimiter', async () => {
    const error = await errorOf('index;Text;oh_label\n0;a;1\n');
    expect(error.message).toContain('text column "Text" not found in the header');
    expect(error.message).toContain('another delimiter');
  });

  it('rejects duplicate header names', async () => {
    const error = await errorOf('index,Text,Text,oh_label\n0,a,b,1\n');
    expect(error.message).toBe(
      'sample.csv: header repeats the column name "Text" on line 1. Rename one of them.',
    );
  });

  it('rejects an empty file', async () => {
    const error = await errorOf('');
    expect(error.message).toBe(
      "sample.csv: the file is empty (no header row). Check the source's path or URL.",
    );
  });

  it('rejects invalid UTF-8 with the byte range', async () => {
    const error = await errorOf(
      Buffer.concat([Buffer.from('index,Text,oh_label\n0,'), Buffer.from([0xc3, 0x28]), Buffer.from(',1\n')]),
    );
    expect(error.message).toMatch(/^sample\.csv: invalid UTF-8 in bytes 0-\d+/);
  });

  it('rejects binary garbage', async () => {
    const garbage = Buffer.from([0x00, 0x01, 0x02, 0x03, 0x41, 0x00, 0x42]);
    const error = await errorOf(garbage);
    expect(error.message).toContain('looks binary');
  });
});
