// Type declarations for the parts of parquetjs-lite 0.8 that this project uses; the package ships none.
declare module 'parquetjs-lite' {
  import type { Writable } from 'node:stream';

  export interface FieldDefinition {
    type?: string;
    optional?: boolean;
    repeated?: boolean;
    compression?: 'UNCOMPRESSED' | 'GZIP' | 'SNAPPY';
    encoding?: 'PLAIN' | 'RLE';
    fields?: Record<string, FieldDefinition>;
  }

  export class ParquetSchema {
    constructor(fields: Record<string, FieldDefinition>);
    fieldList: Array<{ name: string; path: string[]; primitiveType?: string; originalType?: string }>;
  }

  export interface WriterOptions {
    rowGroupSize?: number;
    pageSize?: number;
    useDataPageV2?: boolean;
  }

  export class ParquetWriter {
    static openStream(
      schema: ParquetSchema,
      outputStream: Writable,
      opts?: WriterOptions,
    ): Promise<ParquetWriter>;
    appendRow(row: Record<string, unknown>): Promise<void>;
    close(): Promise<void>;
    setMetadata(key: string, value: string): void;
  }

  export interface ParquetCursor {
    next(): Promise<Record<string, unknown> | null>;
    rewind(): void;
  }

  export class ParquetEnvelopeReader {
    constructor(
      readFn: (offset: number, length: number) => Promise<Buffer>,
      closeFn: () => Promise<void>,
      fileSize: number,
      options?: Record<string, unknown>,
    );
  }

  export class ParquetReader {
    static openBuffer(buffer: Buffer): Promise<ParquetReader>;
    static openEnvelopeReader(reader: ParquetEnvelopeReader): Promise<ParquetReader>;
    getCursor(columns?: string[]): ParquetCursor;
    getRowCount(): number | { toNumber(): number };
    getSchema(): ParquetSchema;
    getMetadata(): Record<string, string>;
    close(): Promise<void>;
  }
}
