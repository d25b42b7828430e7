import { activityInfo, log } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { DatasetConfig, FetchOptions, SourceConfig, StorageConfig } from '../infra/config';
import { ParquetS3Writer, describeSchema, type TableSchema } from '../infra/parquet';
import { createStorage, type Storage } from '../infra/s3';
import { runStage, type StageResult } from '../infra/stages';
import { InputError, decodeUtf8, maybeGunzip, parseCommentCsv } from '../lib/csv-source';
import { Progress, invalidInput } from './progress';
import { SourceNotFoundError, SourceUnreachableError, openSource } from './sources';

/** Columns of the fetch stage's `rows` table: one comment per row, in source order then file order. */
export const RAW_SCHEMA: TableSchema = {
  text: { type: 'UTF8' },
  label: { type: 'INT32' },
  source: { type: 'UTF8' },
  annotation: { type: 'UTF8', optional: true },
  source_file: { type: 'UTF8' },
  source_row: { type: 'INT32' },
  source_line: { type: 'INT32' },
};

/** Columns of the `rejects` table: every record that could not be used, with the reason. */
export const REJECTS_SCHEMA: TableSchema = {
  source: { type: 'UTF8' },
  source_file: { type: 'UTF8' },
  source_row: { type: 'INT32' },
  source_line: { type: 'INT32' },
  field: { type: 'UTF8' },
  reason: { type: 'UTF8' },
  record: { type: 'UTF8' },
};

export interface RawRow extends Record<string, unknown> {
  text: string;
  label: number;
  source: string;
  annotation?: string;
  source_file: string;
  source_row: number;
  source_line: number;
}

export interface SourceCounts {
  name: string;
  file: string;
  status: 'read' | 'skipped';
  reason?: string;
  rowsRead: number;
  rowsKept: number;
  rowsRejected: number;
  bytes: number;
}

export interface FetchInput {
  storage: StorageConfig;
  dataset: DatasetConfig;
  options: FetchOptions;
}

const FETCH_VERSION = 1;
/** Attempts of the fetch stage before a required source that cannot be reached fails the run. */
const UNREACHABLE_ATTEMPTS = 3;

function fileNameOf(uri: string): string {
  const withoutQuery = uri.split(/[?#]/)[0] ?? uri;
  return withoutQuery.split('/').pop() || withoutQuery;
}

/**
 * Reads every source of the dataset manifest into one raw table and one rejects table. Sources that
 * are marked optional and cannot be reached are skipped with a warning. Any other failure to read a
 * source fails the stage, naming the file.
 */
export async function fetchComments(input: FetchInput): Promise<StageResult> {
  const storage = createStorage(input.storage);
  return runStage(
    storage,
    {
      stage: 'fetch',
      version: FETCH_VERSION,
      prefix: input.storage.prefix,
      inputs: [],
      options: { dataset: input.dataset, options: input.options },
    },
    async (dir) => {
      const rowsWriter = await ParquetS3Writer.open<RawRow>(
        storage,
        `${dir}/rows/part-00000.parquet`,
        RAW_SCHEMA,
        input.options.batchRows,
      );
      const rejectsWriter = await ParquetS3Writer.open(
        storage,
        `${dir}/rejects/part-00000.parquet`,
        REJECTS_SCHEMA,
        input.options.batchRows,
      );
      const progress = new Progress('fetch', 'rows');
      const sources: SourceCounts[] = [];
      try {
        for (const source of input.dataset.sources) {
          sources.push(await readSource(storage, source, input.options, rowsWriter, rejectsWriter, progress));
        }
        const rowsFile = await rowsWriter.close();
        const rejectsFile = await rejectsWriter.close();
        const read = sources.filter((source) => source.status === 'read');
        if (read.length === 0) {
          throw invalidInput(
            'No source of the dataset could be read; every source was skipped. See the warnings for each source.',
            { sources },
          );
        }
        const counts = {
          rowsRead: sum(sources, 'rowsRead'),
          rowsKept: rowsFile.rows,
          rowsRejected: rejectsFile.rows,
          sourcesRead: read.length,
          sourcesSkipped: sources.length - read.length,
          sources,
        };
        log.info('fetch finished', {
          rowsRead: counts.rowsRead,
          rowsKept: counts.rowsKept,
          rowsRejected: counts.rowsRejected,
          sourcesSkipped: counts.sourcesSkipped,
        });
        return {
          tables: {
            rows: { schema: describeSchema(RAW_SCHEMA), rows: rowsFile.rows, files: [rowsFile] },
            rejects: { schema: describeSchema(REJECTS_SCHEMA), rows: rejectsFile.rows, files: [rejectsFile] },
          },
          counts,
        };
      } catch (error) {
        await rowsWriter.abort();
        await rejectsWriter.abort();
        throw error;
      }
    },
  );
}

function sum(items: SourceCounts[], field: 'rowsRead' | 'rowsKept' | 'rowsRejected'): number {
  return items.reduce((total, item) => total + item[field], 0);
}

async function readSource(
  storage: Storage,
  source: SourceConfig,
  options: FetchOptions,
  rowsWriter: ParquetS3Writer<RawRow>,
  rejectsWriter: ParquetS3Writer<Record<string, unknown>>,
  progress: Progress,
): Promise<SourceCounts> {
  const file = fileNameOf(source.uri);
  const counts: SourceCounts = {
    name: source.name,
    file,
    status: 'read',
    rowsRead: 0,
    rowsKept: 0,
    rowsRejected: 0,
    bytes: 0,
  };
  let opened;
  try {
    opened = await openSource(source.uri, storage, { timeoutMs: options.httpTimeoutSeconds * 1000 });
  } catch (error) {
    const message = (error as Error).message;
    if (
      source.optional &&
      (error instanceof SourceUnreachableError || error instanceof SourceNotFoundError)
    ) {
      log.warn('optional source skipped', { source: source.name, uri: source.uri, reason: message });
      return { ...counts, status: 'skipped', reason: message };
    }
    if (error instanceof SourceNotFoundError)
      throw invalidInput(`Source "${source.name}": ${message}`, { source: source.name });
    if (error instanceof SourceUnreachableError) {
      // A network blip deserves a retry, but a wrong host stays unreachable, so give up after a few attempts.
      const attempt = activityInfo().attempt;
      if (attempt >= UNREACHABLE_ATTEMPTS) {
        throw ApplicationFailure.nonRetryable(
          `Source "${source.name}": ${message} (tried ${attempt} times). Check the URL, or set "optional": true on the source to skip it when it cannot be reached.`,
          'SourceUnreachable',
        );
      }
      throw ApplicationFailure.retryable(`Source "${source.name}": ${message}`, 'SourceUnreachable');
    }
    throw error;
  }

  progress.start(`reading ${source.name}`, undefined);
  const countBytes = async function* (stream: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    for await (const chunk of stream) {
      counts.bytes += chunk.length;
      yield chunk;
    }
  };
  const mapping = {
    file,
    textColumn: source.textColumn,
    labelColumn: source.label.column,
    annotationColumn: source.annotationColumn,
    maxTextChars: options.maxTextChars,
  };
  try {
    const items = parseCommentCsv(decodeUtf8(maybeGunzip(countBytes(opened.stream)), file), mapping);
    for await (const item of items) {
      counts.rowsRead += 1;
      if (item.kind === 'row') {
        counts.rowsKept += 1;
        await rowsWriter.append({
          text: item.row.text,
          label: item.row.label,
          source: source.name,
          annotation: item.row.annotation,
          source_file: file,
          source_row: item.row.sourceRow,
          source_line: item.row.sourceLine,
        });
      } else {
        counts.rowsRejected += 1;
        await rejectsWriter.append({
          source: source.name,
          source_file: file,
          source_row: item.reject.sourceRow,
          source_line: item.reject.sourceLine,
          field: item.reject.field,
          reason: item.reject.reason,
          record: item.reject.record,
        });
      }
      progress.advance();
    }
  } catch (error) {
    if (error instanceof InputError)
      throw invalidInput(`Source "${source.name}": ${error.message}`, { source: source.name, file });
    throw error;
  }
  log.info('source read', {
    source: source.name,
    file,
    rowsRead: counts.rowsRead,
    rowsRejected: counts.rowsRejected,
    bytes: counts.bytes,
  });
  return counts;
}
