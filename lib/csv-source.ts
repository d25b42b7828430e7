import { createGunzip } from 'node:zlib';
import { Readable } from 'node:stream';
import { parse, CsvError } from 'csv-parse';

/**
 * Reads one comment file: gzip detected by its magic bytes, UTF-8 validated, CSV parsed with quoted
 * newlines, a BOM and CRLF line ends handled, and each record mapped to a row or a rejected row.
 * Nothing is dropped silently: every record becomes exactly one of the two.
 */

export interface ColumnMapping {
  /** File name used in messages and in the `source_file` column. */
  file: string;
  textColumn: string;
  labelColumn: string;
  annotationColumn?: string;
  maxTextChars: number;
}

export interface CommentRow {
  text: string;
  label: 0 | 1;
  annotation?: string;
  /** 1-based number of the record among the file's data records (the header is not counted). */
  sourceRow: number;
  /** 1-based line of the file on which the record ends; differs from sourceRow after quoted newlines. */
  sourceLine: number;
}

export interface RejectedRow {
  sourceRow: number;
  sourceLine: number;
  field: string;
  reason: string;
  /** The record's fields as a JSON array, so a rejected row can be inspected and repaired. */
  record: string;
}

export type CsvItem = { kind: 'row'; row: CommentRow } | { kind: 'reject'; reject: RejectedRow };

/** Bad input that retrying cannot fix; the message names the file and, where known, the line and field. */
export class InputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InputError';
  }
}

/** Parses a label cell: "0", "1", "0.0", "1.0" (and other spellings of exactly 0 or 1) are valid. */
export function parseLabel(raw: string | undefined): { label: 0 | 1 } | { error: string } {
  const value = (raw ?? '').trim();
  if (value === '') return { error: 'label is missing' };
  if (!/^[+]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(value))
    return { error: `label "${truncate(value, 40)}" is not a number` };
  const number = Number(value);
  if (number === 0) return { label: 0 };
  if (number === 1) return { label: 1 };
  return { error: `label ${truncate(value, 40)} is not 0 or 1` };
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}...`;
}

/** Decompresses gzip input (detected by its first two bytes) and passes other input through. */
export async function* maybeGunzip(input: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const iterator = input[Symbol.asyncIterator]();
  let first = await iterator.next();
  while (!first.done && first.value.length < 2) {
    const more = await iterator.next();
    if (more.done) break;
    first = { done: false, value: Buffer.concat([first.value, more.value]) };
  }
  if (first.done) return;
  const rest = async function* (): AsyncGenerator<Buffer> {
    yield first.value as Buffer;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
  };
  const head = first.value as Buffer;
  if (head[0] === 0x1f && head[1] === 0x8b) {
    yield* Readable.from(rest()).pipe(createGunzip()) as AsyncIterable<Buffer>;
  } else {
    yield* rest();
  }
}

/**
 * Decodes UTF-8 strictly. Invalid bytes and NUL characters (a sign of a binary file) raise an
 * InputError naming the file and the byte range where the problem was found.
 */
export async function* decodeUtf8(input: AsyncIterable<Buffer>, file: string): AsyncGenerator<string> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let offset = 0;
  for await (const chunk of input) {
    let text: string;
    try {
      text = decoder.decode(chunk, { stream: true });
    } catch {
      throw new InputError(
        `${file}: invalid UTF-8 in bytes ${offset}-${offset + chunk.length - 1}. Convert the file to UTF-8 (for example with iconv) and run again.`,
      );
    }
    const nul = text.indexOf('\u0000');
    if (nul >= 0) {
      throw new InputError(
        `${file}: NUL byte near byte ${offset}; the file looks binary, not CSV. Check that the source points at the CSV file.`,
      );
    }
    offset += chunk.length;
    if (text.length > 0) yield text;
  }
  try {
    const tail = decoder.decode();
    if (tail.length > 0) yield tail;
  } catch {
    throw new InputError(
      `${file}: the file ends inside a UTF-8 character. Convert the file to UTF-8 and run again.`,
    );
  }
}

function findColumn(header: string[], name: string, role: string, file: string): number {
  const index = header.indexOf(name);
  if (index < 0) {
    const shown = header.slice(0, 12).map((column) => JSON.stringify(truncate(column, 40)));
    const hint =
      header.length === 1 && /[;\t|]/.test(header[0] ?? '')
        ? ' The header is a single column containing ";", tab or "|": the file may use another delimiter; convert it to comma-separated CSV.'
        : ` Set the source's ${role} to one of the header's columns.`;
    throw new InputError(
      `${file}: ${role} "${name}" not found in the header (columns: ${shown.join(', ')}).${hint}`,
    );
  }
  return index;
}

/** Reads CSV text chunks and yields each data record as a row or a rejected row. */
export async function* parseCommentCsv(
  chunks: AsyncIterable<string>,
  mapping: ColumnMapping,
): AsyncGenerator<CsvItem> {
  const parser = parse({ bom: true, relax_column_count: true, skip_empty_lines: true, info: true });
  const feed = (async () => {
    try {
      for await (const chunk of chunks) {
        if (parser.destroyed) return;
        if (!parser.write(chunk)) {
          await new Promise<void>((resolve) => {
            const resume = () => {
              parser.off('drain', resume);
              parser.off('close', resume);
              resolve();
            };
            parser.once('drain', resume);
            parser.once('close', resume);
          });
        }
      }
      if (!parser.destroyed) parser.end();
    } catch (error) {
      parser.destroy(error as Error);
    }
  })();

  let header: string[] | undefined;
  let textIndex = -1;
  let labelIndex = -1;
  let annotationIndex = -1;
  let sourceRow = 0;
  try {
    for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      const { record, info } = item;
      if (!header) {
        header = record.map((column) => column.trim());
        const seen = new Set<string>();
        for (const column of header) {
          if (seen.has(column)) {
            throw new InputError(
              `${mapping.file}: header repeats the column name "${truncate(column, 40)}" on line 1. Rename one of them.`,
            );
          }
          seen.add(column);
        }
        textIndex = findColumn(header, mapping.textColumn, 'text column', mapping.file);
        labelIndex = findColumn(header, mapping.labelColumn, 'label column', mapping.file);
        if (mapping.annotationColumn !== undefined) {
          annotationIndex = findColumn(header, mapping.annotationColumn, 'annotation column', mapping.file);
        }
        continue;
      }
      sourceRow += 1;
      const reject = (field: string, reason: string): CsvItem => ({
        kind: 'reject',
        reject: { sourceRow, sourceLine: info.lines, field, reason, record: JSON.stringify(record) },
      });
      if (record.length !== header.length) {
        yield reject('(record)', `expected ${header.length} fields, found ${record.length}`);
        continue;
      }
      const text = record[textIndex] ?? '';
      if (text.length === 0) {
        yield reject(mapping.textColumn, 'text is empty');
        continue;
      }
      if (text.length > mapping.maxTextChars) {
        yield reject(
          mapping.textColumn,
          `text has ${text.length} characters, more than the limit of ${mapping.maxTextChars}`,
        );
        continue;
      }
      const label = parseLabel(record[labelIndex]);
      if ('error' in label) {
        yield reject(mapping.labelColumn, label.error);
        continue;
      }
      const annotation = annotationIndex >= 0 ? record[annotationIndex] : undefined;
      yield {
        kind: 'row',
        row: {
          text,
          label: label.label,
          annotation: annotation === '' ? undefined : annotation,
          sourceRow,
          sourceLine: info.lines,
        },
      };
    }
  } catch (error) {
    if (error instanceof CsvError) {
      const line = (error as CsvError & { lines?: number }).lines;
      throw new InputError(
        `${mapping.file}: invalid CSV${line !== undefined ? ` at line ${line}` : ''}: ${error.message}. Check for an unclosed quote near that line.`,
      );
    }
    throw error;
  } finally {
    parser.destroy();
    await feed;
  }
  if (!header) {
    throw new InputError(
      `${mapping.file}: the file is empty (no header row). Check the source's path or URL.`,
    );
  }
}
