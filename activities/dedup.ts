import { createHash } from 'node:crypto';
import { log } from '@temporalio/activity';
import type { DedupOptions, StorageConfig } from '../infra/config';
import { ParquetS3Writer, describeSchema, readParquetFiles, type TableSchema } from '../infra/parquet';
import { createStorage } from '../infra/s3';
import { inputOf, readManifest, runStage, tableFiles, type StageResult } from '../infra/stages';
import type { RawRow } from './fetch';
import { Progress } from './progress';

/** Columns of the dedup stage's `rows` table: the raw columns plus a dense `id` in output order. */
export const DEDUP_SCHEMA: TableSchema = {
  id: { type: 'INT32' },
  text: { type: 'UTF8' },
  label: { type: 'INT32' },
  source: { type: 'UTF8' },
  annotation: { type: 'UTF8', optional: true },
  source_file: { type: 'UTF8' },
  source_row: { type: 'INT32' },
};

export interface DedupRow extends Record<string, unknown> {
  id: number;
  text: string;
  label: number;
  source: string;
  annotation?: string;
  source_file: string;
  source_row: number;
}

export interface DedupInput {
  storage: StorageConfig;
  fetchManifestKey: string;
  options: DedupOptions;
}

const DEDUP_VERSION = 1;

/**
 * Normalizes a text for the near-duplicate count that dedup reports but does not apply: lowercase,
 * URLs and @mentions replaced by placeholders, runs of whitespace collapsed. The count shows how
 * much near-duplication the study's exact-equality rule leaves in.
 */
export function normalizeForReport(text: string): string {
  return text
    .toLowerCase()
    .replace(/\bhttps?:\/\/\S+|\bwww\.\S+/g, '<url>')
    .replace(/@\w+/g, '<user>')
    .replace(/\s+/g, ' ')
    .trim();
}

/** Hashes a text to 128 bits, which keeps the seen-set small; collisions are negligible even at billions of rows. */
function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64').slice(0, 22);
}

interface PerSource {
  rowsIn: number;
  kept: number;
  duplicates: number;
  empty: number;
}

/**
 * Drops rows whose text exactly equals an earlier row's text (the first occurrence in fetch order
 * wins), and rows whose text is only whitespace. Memory grows with the number of distinct texts
 * (one 22-character digest each), not with their length.
 */
export async function dedupComments(input: DedupInput): Promise<StageResult> {
  const storage = createStorage(input.storage);
  const upstream = await readManifest(storage, input.fetchManifestKey);
  return runStage(
    storage,
    {
      stage: 'dedup',
      version: DEDUP_VERSION,
      prefix: input.storage.prefix,
      inputs: [inputOf(upstream)],
      options: input.options,
    },
    async (dir) => {
      const total = upstream.tables.rows?.rows;
      const writer = await ParquetS3Writer.open<DedupRow>(
        storage,
        `${dir}/rows/part-00000.parquet`,
        DEDUP_SCHEMA,
        input.options.batchRows,
      );
      const progress = new Progress('dedup', 'rows');
      progress.start('deduplicating', total);
      const seen = new Set<string>();
      const seenNormalized = new Set<string>();
      let normalizedDuplicates = 0;
      const perSource: Record<string, PerSource> = {};
      let rowsIn = 0;
      try {
        for await (const row of readParquetFiles<RawRow>(storage, tableFiles(upstream, 'rows'))) {
          rowsIn += 1;
          const counts = (perSource[row.source] ??= { rowsIn: 0, kept: 0, duplicates: 0, empty: 0 });
          counts.rowsIn += 1;
          progress.advance();
          if (row.text.trim().length === 0) {
            counts.empty += 1;
            continue;
          }
          const key = digest(row.text);
          if (seen.has(key)) {
            counts.duplicates += 1;
            continue;
          }
          seen.add(key);
          const normalized = digest(normalizeForReport(row.text));
          if (seenNormalized.has(normalized)) normalizedDuplicates += 1;
          else seenNormalized.add(normalized);
          counts.kept += 1;
          await writer.append({
            id: seen.size - 1,
            text: row.text,
            label: row.label,
            source: row.source,
            annotation: row.annotation ?? undefined,
            source_file: row.source_file,
            source_row: row.source_row,
          });
        }
        const file = await writer.close();
        const values = Object.values(perSource);
        const counts = {
          rowsIn,
          kept: file.rows,
          duplicates: values.reduce((n, s) => n + s.duplicates, 0),
          empty: values.reduce((n, s) => n + s.empty, 0),
          normalization: {
            rule: 'lowercase, URLs to <url>, @mentions to <user>, whitespace collapsed',
            wouldAlsoMerge: normalizedDuplicates,
          },
          perSource,
        };
        log.info('dedup finished', {
          rowsIn,
          kept: counts.kept,
          duplicates: counts.duplicates,
          empty: counts.empty,
        });
        return {
          tables: { rows: { schema: describeSchema(DEDUP_SCHEMA), rows: file.rows, files: [file] } },
          counts,
        };
      } catch (error) {
        await writer.abort();
        throw error;
      }
    },
  );
}
