import { createHash } from 'node:crypto';
import { log } from '@temporalio/activity';
import type { StorageConfig, TokenizeOptions } from '../infra/config';
import { ParquetS3Writer, describeSchema, readParquetFiles, type TableSchema } from '../infra/parquet';
import { createStorage } from '../infra/s3';
import { inputOf, readManifest, runStage, tableFiles, type StageResult } from '../infra/stages';
import { tokenizeWords } from '../lib/tokenize';
import type { DedupRow } from './dedup';
import { Progress } from './progress';

/**
 * Columns of the `train` and `test` tables. Tokens are joined with single spaces into one UTF8
 * column: a token never contains whitespace, so the join is lossless, and it writes about four
 * times faster with parquetjs-lite than a repeated (list) column.
 */
export const TOKENS_SCHEMA: TableSchema = {
  id: { type: 'INT32' },
  label: { type: 'INT32' },
  source: { type: 'UTF8' },
  tokens: { type: 'UTF8' },
  length: { type: 'INT32' },
};

/** Columns of the `vocabulary` table, sorted by descending count, then by word. */
export const VOCABULARY_SCHEMA: TableSchema = {
  word: { type: 'UTF8' },
  count: { type: 'INT32' },
  train_count: { type: 'INT32' },
};

export interface TokenRow extends Record<string, unknown> {
  id: number;
  label: number;
  source: string;
  tokens: string;
  length: number;
}

export interface TokenizeInput {
  storage: StorageConfig;
  dedupManifestKey: string;
  options: TokenizeOptions;
}

const TOKENIZE_VERSION = 1;

/**
 * Decides a text's split from a seeded hash of the text itself, so the split does not depend on row
 * order or on which other texts are present.
 */
export function isTestText(text: string, seed: number, testFraction: number): boolean {
  const hash = createHash('sha256').update(`${seed}\u0000${text}`).digest();
  return hash.readUInt32BE(0) / 4294967296 < testFraction;
}

/** Returns the value at quantile q (0..1) of sorted lengths by the nearest-rank method. */
export function quantile(sorted: Uint32Array, q: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank] as number;
}

/** Orders vocabulary entries by descending count, then by word in code-unit order (stable across locales). */
function byCountThenWord(a: [string, { count: number }], b: [string, { count: number }]): number {
  if (a[1].count !== b[1].count) return b[1].count - a[1].count;
  if (a[0] === b[0]) return 0;
  return a[0] < b[0] ? -1 : 1;
}

/**
 * Tokenizes each deduplicated text into words (spaCy's English rules, keeping tokens with a letter
 * or digit), applies the length limit, assigns the train/test split and counts the vocabulary.
 */
export async function tokenizeComments(input: TokenizeInput): Promise<StageResult> {
  const storage = createStorage(input.storage);
  const upstream = await readManifest(storage, input.dedupManifestKey);
  const options = input.options;
  return runStage(
    storage,
    {
      stage: 'tokenize',
      version: TOKENIZE_VERSION,
      prefix: input.storage.prefix,
      inputs: [inputOf(upstream)],
      options,
    },
    async (dir) => {
      const train = await ParquetS3Writer.open<TokenRow>(
        storage,
        `${dir}/train/part-00000.parquet`,
        TOKENS_SCHEMA,
        options.batchRows,
      );
      const test = await ParquetS3Writer.open<TokenRow>(
        storage,
        `${dir}/test/part-00000.parquet`,
        TOKENS_SCHEMA,
        options.batchRows,
      );
      const writers: Array<{ abort(): Promise<void> }> = [train, test];
      const progress = new Progress('tokenize', 'rows');
      progress.start('tokenizing', upstream.tables.rows?.rows);
      const vocabulary = new Map<string, { count: number; trainCount: number }>();
      const lengths: number[] = [];
      let rowsIn = 0;
      let droppedTooLong = 0;
      let truncated = 0;
      let droppedNoTokens = 0;
      let tokenCount = 0;
      try {
        for await (const row of readParquetFiles<DedupRow>(storage, tableFiles(upstream, 'rows'), [
          'id',
          'text',
          'label',
          'source',
        ])) {
          rowsIn += 1;
          progress.advance();
          let tokens = tokenizeWords(row.text);
          if (options.lowercase) tokens = tokens.map((token) => token.toLowerCase());
          if (tokens.length === 0) {
            droppedNoTokens += 1;
            continue;
          }
          if (tokens.length > options.maxTokens) {
            if (options.overLength === 'drop') {
              droppedTooLong += 1;
              continue;
            }
            tokens = tokens.slice(0, options.maxTokens);
            truncated += 1;
          }
          const inTest = isTestText(row.text, options.seed, options.testFraction);
          for (const token of tokens) {
            const entry = vocabulary.get(token);
            if (entry) {
              entry.count += 1;
              if (!inTest) entry.trainCount += 1;
            } else {
              vocabulary.set(token, { count: 1, trainCount: inTest ? 0 : 1 });
            }
          }
          tokenCount += tokens.length;
          lengths.push(tokens.length);
          await (inTest ? test : train).append({
            id: row.id,
            label: row.label,
            source: row.source,
            tokens: tokens.join(' '),
            length: tokens.length,
          });
        }
        const trainFile = await train.close();
        const testFile = await test.close();

        progress.start('writing vocabulary', vocabulary.size);
        const words = [...vocabulary.entries()].sort(byCountThenWord);
        const vocabularyWriter = await ParquetS3Writer.open(
          storage,
          `${dir}/vocabulary/part-00000.parquet`,
          VOCABULARY_SCHEMA,
          options.batchRows,
        );
        writers.push(vocabularyWriter);
        for (const [word, entry] of words) {
          await vocabularyWriter.append({ word, count: entry.count, train_count: entry.trainCount });
          progress.advance();
        }
        const vocabularyFile = await vocabularyWriter.close();

        const sorted = Uint32Array.from(lengths).sort();
        const counts = {
          rowsIn,
          kept: trainFile.rows + testFile.rows,
          train: trainFile.rows,
          test: testFile.rows,
          droppedTooLong,
          droppedNoTokens,
          truncated,
          tokens: tokenCount,
          vocabulary: vocabulary.size,
          length: {
            mean: lengths.length > 0 ? tokenCount / lengths.length : 0,
            p50: quantile(sorted, 0.5),
            p90: quantile(sorted, 0.9),
            p95: quantile(sorted, 0.95),
            p99: quantile(sorted, 0.99),
            max: sorted.length > 0 ? (sorted[sorted.length - 1] as number) : 0,
          },
        };
        log.info('tokenize finished', {
          rowsIn,
          train: counts.train,
          test: counts.test,
          vocabulary: counts.vocabulary,
          droppedTooLong,
          droppedNoTokens,
        });
        return {
          tables: {
            train: { schema: describeSchema(TOKENS_SCHEMA), rows: trainFile.rows, files: [trainFile] },
            test: { schema: describeSchema(TOKENS_SCHEMA), rows: testFile.rows, files: [testFile] },
            vocabulary: {
              schema: describeSchema(VOCABULARY_SCHEMA),
              rows: vocabularyFile.rows,
              files: [vocabularyFile],
            },
          },
          counts,
        };
      } catch (error) {
        for (const writer of writers) await writer.abort();
        throw error;
      }
    },
  );
}
