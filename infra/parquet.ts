import { ParquetEnvelopeReader, ParquetReader, ParquetSchema, ParquetWriter } from 'parquetjs-lite';
import { getBytes, objectSize, openUploadStream, type Storage, type UploadResult } from './s3';

/**
 * Parquet tables in S3. Writers stream row groups into a multipart upload and readers fetch one
 * column chunk at a time with ranged GETs, so memory is bounded by the row-group size, not the table.
 */

export type ColumnType = 'UTF8' | 'INT32' | 'DOUBLE' | 'FLOAT' | 'BOOLEAN' | 'BYTE_ARRAY';

export interface ColumnSpec {
  type: ColumnType;
  optional?: boolean;
}

/** Column name to type; column order in files follows key order. */
export type TableSchema = Record<string, ColumnSpec>;

/** One Parquet file a stage wrote: where, how many rows, and a hash of its bytes. */
export interface ParquetFileInfo extends UploadResult {
  rows: number;
}

export const DEFAULT_ROW_GROUP_SIZE = 8192;

function toParquetSchema(schema: TableSchema): ParquetSchema {
  const fields: Record<string, { type: string; optional?: boolean; compression: 'SNAPPY' }> = {};
  for (const [name, spec] of Object.entries(schema)) {
    fields[name] = { type: spec.type, optional: spec.optional, compression: 'SNAPPY' };
  }
  return new ParquetSchema(fields);
}

/** Describes a schema in the stable text form stored in stage manifests, e.g. "text:UTF8,label:INT32". */
export function describeSchema(schema: TableSchema): string {
  return Object.entries(schema)
    .map(([name, spec]) => `${name}:${spec.type}${spec.optional ? '?' : ''}`)
    .join(',');
}

export class ParquetS3Writer<Row extends Record<string, unknown>> {
  private rows = 0;

  private constructor(
    private readonly writer: ParquetWriter,
    private readonly upload: ReturnType<typeof openUploadStream>,
  ) {}

  static async open<Row extends Record<string, unknown>>(
    storage: Storage,
    key: string,
    schema: TableSchema,
    rowGroupSize = DEFAULT_ROW_GROUP_SIZE,
  ): Promise<ParquetS3Writer<Row>> {
    const upload = openUploadStream(storage, key, 'application/vnd.apache.parquet');
    // Data page v1 is the layout every Parquet reader handles, DuckDB and pyarrow included.
    const writer = await ParquetWriter.openStream(toParquetSchema(schema), upload.stream, {
      rowGroupSize,
      useDataPageV2: false,
    });
    return new ParquetS3Writer<Row>(writer, upload);
  }

  async append(row: Row): Promise<void> {
    await this.writer.appendRow(row);
    this.rows += 1;
  }

  get rowCount(): number {
    return this.rows;
  }

  async close(): Promise<ParquetFileInfo> {
    await this.writer.close();
    const result = await this.upload.done();
    return { ...result, rows: this.rows };
  }

  async abort(): Promise<void> {
    await this.upload.abort();
  }
}

/** Writes all rows of an iterable to one Parquet object and returns its file info. */
export async function writeParquet<Row extends Record<string, unknown>>(
  storage: Storage,
  key: string,
  schema: TableSchema,
  rows: Iterable<Row> | AsyncIterable<Row>,
  rowGroupSize = DEFAULT_ROW_GROUP_SIZE,
): Promise<ParquetFileInfo> {
  const writer = await ParquetS3Writer.open<Row>(storage, key, schema, rowGroupSize);
  try {
    for await (const row of rows) await writer.append(row);
    return await writer.close();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

async function openReader(storage: Storage, key: string): Promise<ParquetReader> {
  const size = await objectSize(storage, key);
  const envelope = new ParquetEnvelopeReader(
    (offset, length) => getBytes(storage, key, { offset, length }),
    async () => undefined,
    size,
  );
  return ParquetReader.openEnvelopeReader(envelope);
}

export async function parquetRowCount(storage: Storage, key: string): Promise<number> {
  const reader = await openReader(storage, key);
  try {
    const count = reader.getRowCount();
    return typeof count === 'number' ? count : count.toNumber();
  } finally {
    await reader.close();
  }
}

/** Yields the rows of one Parquet object in file order, reading one row group at a time. */
export async function* readParquet<Row extends Record<string, unknown>>(
  storage: Storage,
  key: string,
  columns?: string[],
): AsyncGenerator<Row> {
  const reader = await openReader(storage, key);
  try {
    const cursor = reader.getCursor(columns);
    for (let row = await cursor.next(); row !== null; row = await cursor.next()) {
      yield row as Row;
    }
  } finally {
    await reader.close();
  }
}

/** Yields rows of several Parquet objects in the order given. */
export async function* readParquetFiles<Row extends Record<string, unknown>>(
  storage: Storage,
  keys: string[],
  columns?: string[],
): AsyncGenerator<Row> {
  for (const key of keys) yield* readParquet<Row>(storage, key, columns);
}
