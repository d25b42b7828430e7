import { log } from '@temporalio/activity';
import { bertEmbedding } from '../embeddings/bert';
import { describeModelLocation, loadBertModel, ModelFileNotFoundError } from '../embeddings/bert/model';
import { scalarEmbedding } from '../embeddings/scalar';
import {
  encodeBatch,
  type EmbeddingContext,
  type EmbeddingFactory,
  type EmbeddingStrategy,
} from '../embeddings/strategy';
import { word2vecEmbedding } from '../embeddings/word2vec';
import type { EmbeddingStrategyName, StorageConfig } from '../infra/config';
import { ParquetS3Writer, describeSchema, readParquetFiles, type TableSchema } from '../infra/parquet';
import { createStorage, getBytes, type Storage } from '../infra/s3';
import {
  inputOf,
  putArtifact,
  readManifest,
  runStage,
  tableFiles,
  type StageManifest,
  type StageResult,
} from '../infra/stages';
import { Random } from '../lib/random';
import type { EmbedStageOptions } from '../workflows/branches';
import type { TokenRow } from './tokenize';
import { Progress, invalidInput } from './progress';

/**
 * Columns of the embed stage's `train` and `test` tables. `values` packs the text's encoding as
 * little-endian float32, [length, dimension] row-major, with no padding: training pads or cuts
 * to its own sequence length. One BYTE_ARRAY per row writes several times faster with
 * parquetjs-lite than a repeated FLOAT column (whose record shredding dominates), and DuckDB
 * reads it as a BLOB.
 */
export const ENCODED_SCHEMA: TableSchema = {
  id: { type: 'INT32' },
  label: { type: 'INT32' },
  length: { type: 'INT32' },
  values: { type: 'BYTE_ARRAY' },
};

export interface EncodedRow extends Record<string, unknown> {
  id: number;
  label: number;
  length: number;
  values: Buffer;
}

export interface EmbedInput {
  storage: StorageConfig;
  tokenizeManifestKey: string;
  options: EmbedStageOptions;
}

const EMBED_VERSION = 2;

const FACTORIES: Record<EmbeddingStrategyName, EmbeddingFactory<never>> = {
  scalar: scalarEmbedding,
  word2vec: word2vecEmbedding,
  bert: bertEmbedding,
};

function splitTokens(tokens: string): string[] {
  return tokens.length === 0 ? [] : tokens.split(' ');
}

/**
 * Chooses which rows of a split a strategy encodes: all of them without a limit, otherwise a
 * uniform random sample of `limit` row positions (a partial Fisher-Yates shuffle), seeded so a
 * retried or resumed stage picks the same rows.
 */
export function sampleRows(total: number, limit: number | undefined, seed: number): Set<number> | undefined {
  if (limit === undefined || limit >= total) return undefined;
  const random = Random.fromSeed(seed);
  const positions = new Map<number, number>();
  const chosen = new Set<number>();
  for (let i = 0; i < limit; i++) {
    const j = i + random.nextInt(total - i);
    const picked = positions.get(j) ?? j;
    positions.set(j, positions.get(i) ?? i);
    chosen.add(picked);
  }
  return chosen;
}

async function* splitRows(
  storage: Storage,
  manifest: StageManifest,
  split: 'train' | 'test',
  chosen: Set<number> | undefined,
): AsyncGenerator<TokenRow> {
  let position = 0;
  for await (const row of readParquetFiles<TokenRow>(storage, tableFiles(manifest, split), [
    'id',
    'label',
    'tokens',
  ])) {
    if (!chosen || chosen.has(position)) yield row;
    position += 1;
  }
}

async function* tokensOf(rows: AsyncIterable<TokenRow>): AsyncGenerator<string[]> {
  for await (const row of rows) yield splitTokens(row.tokens);
}

function contextFor(storage: Storage, progress?: Progress): EmbeddingContext {
  return { storage, onProgress: (message) => progress?.describe(message) };
}

/** Loads the fitted strategy an embed stage stored. */
export async function loadStrategy(
  storage: Storage,
  embedManifest: StageManifest,
): Promise<EmbeddingStrategy> {
  const artifact = embedManifest.artifacts.strategy;
  if (!artifact) throw new Error(`Embed manifest ${embedManifest.manifestKey} lists no strategy artifact`);
  const name = (embedManifest.counts as { strategy?: string }).strategy;
  const factory = FACTORIES[name as EmbeddingStrategyName] as EmbeddingFactory<never> | undefined;
  if (!factory) {
    throw new Error(`Unknown embedding strategy "${String(name)}" in ${embedManifest.manifestKey}`);
  }
  return factory.load(await getBytes(storage, artifact.key), { storage });
}

function bertSkipReason(error: unknown, where: string): string {
  if (error instanceof ModelFileNotFoundError) {
    return (
      `BERT skipped: no ${error.file} in the model location ${where}. ` +
      'Run `bash infra/scripts/install-bert.sh` to install the default all-MiniLM-L6-v2, or set ' +
      'stages.embed.bert.model to a folder or s3:// prefix holding config.json, vocab.txt and ' +
      'model.safetensors of a BERT model such as bert-base-uncased (README, "BERT models").'
    );
  }
  const reason = error instanceof Error ? error.message : String(error);
  return (
    `BERT skipped: the model at ${where} could not be loaded (${reason}). ` +
    'Supply config.json, vocab.txt and model.safetensors of a BERT model (README, "BERT models").'
  );
}

export interface StrategyCheckInput {
  storage: StorageConfig;
  strategies: EmbeddingStrategyName[];
  bertModel: string;
}

export interface StrategyCheck {
  /** Strategies whose inputs are present, in the configured order. */
  ready: EmbeddingStrategyName[];
  /** Strategies left out, each with the reason and how to enable it. */
  skipped: Partial<Record<EmbeddingStrategyName, string>>;
  /** Strategies whose branch failed, each with the error; set by the workflow after the branches. */
  failed?: Partial<Record<EmbeddingStrategyName, string>>;
}

/**
 * Checks on the worker that will run them which configured strategies can run. Only BERT needs
 * anything beyond the data: a model folder (or S3 prefix) that loads.
 */
export async function checkEmbeddingStrategies(input: StrategyCheckInput): Promise<StrategyCheck> {
  const storage = createStorage(input.storage);
  const result: StrategyCheck = { ready: [], skipped: {} };
  for (const strategy of input.strategies) {
    if (strategy === 'bert') {
      // Loading the model here turns a missing or broken model (invalid config, vocabulary or
      // weights) into a skip with the reason, instead of an embed stage that fails on every retry.
      const where = describeModelLocation(input.bertModel);
      try {
        (await loadBertModel(input.bertModel, { storage })).dispose();
      } catch (error) {
        result.skipped.bert = bertSkipReason(error, where);
        log.warn('embedding strategy skipped', {
          strategy,
          location: where,
          error: error instanceof Error ? error.message : String(error),
        });
        continue;
      }
    }
    result.ready.push(strategy);
  }
  return result;
}

/** Texts per call to the strategy while encoding a split; the stage heartbeats between calls. */
const ENCODE_CHUNK = 64;
/** Max size of one padded batch of encodings, in bytes. */
const ENCODE_BUDGET_BYTES = 64 * 1024 * 1024;

/** Option fields that change only speed or memory, never the encodings, per strategy. */
const SPEED_ONLY_SETTINGS: Partial<Record<EmbeddingStrategyName, string[]>> = {
  bert: ['batchSize', 'cacheMegabytes'],
};

/**
 * Returns the options that decide the embed stage's output, for its fingerprint. Batch sizes and
 * caches are left out, so tuning them reuses finished stages, and the sample seed counts only
 * when a limit makes the stage sample.
 */
// NOTE: a BERT model is identified by its location only. Replacing the files at the same location
// reuses stages encoded with the old model, so put a new model in a new folder.
export function fingerprintOptions(options: EmbedStageOptions): Record<string, unknown> {
  const settings = { ...(options.settings as Record<string, unknown>) };
  for (const field of SPEED_ONLY_SETTINGS[options.strategy] ?? []) delete settings[field];
  const samples = options.limits.train !== undefined || options.limits.test !== undefined;
  return {
    strategy: options.strategy,
    settings,
    limits: options.limits,
    ...(samples ? { sampleSeed: options.sampleSeed } : {}),
  };
}

/**
 * Rows per Parquet row group for encodings of `dimension` values per word: the configured count
 * for narrow encodings, fewer for wide ones, so a BERT row group stays a few megabytes.
 */
function rowGroupRows(batchRows: number, dimension: number): number {
  return Math.max(64, Math.min(batchRows, Math.floor((batchRows * 16) / dimension)));
}

async function encodeSplit(
  storage: Storage,
  upstream: StageManifest,
  split: 'train' | 'test',
  chosen: Set<number> | undefined,
  strategy: EmbeddingStrategy,
  options: EmbedStageOptions,
  key: string,
  progress: Progress,
): Promise<StageManifest['tables'][string]> {
  const writer = await ParquetS3Writer.open<EncodedRow>(
    storage,
    key,
    ENCODED_SCHEMA,
    rowGroupRows(options.batchRows, strategy.dimension),
  );
  // Rows and their token lists side by side, so each text is split once.
  let batch: TokenRow[] = [];
  let texts: string[][] = [];
  let longest = 0;
  const flush = async (): Promise<void> => {
    if (batch.length === 0) return;
    // Heartbeats between chunks: one BERT chunk takes seconds on a CPU backend.
    const values = await encodeBatch(strategy, texts, longest, ENCODE_CHUNK, () => progress.advance(0));
    const stride = longest * strategy.dimension;
    for (let index = 0; index < batch.length; index++) {
      const row = batch[index] as TokenRow;
      const length = (texts[index] as string[]).length;
      const encoded = values.slice(index * stride, index * stride + length * strategy.dimension);
      await writer.append({
        id: row.id,
        label: row.label,
        length,
        values: Buffer.from(encoded.buffer, encoded.byteOffset, encoded.byteLength),
      });
    }
    progress.advance(batch.length);
    batch = [];
    texts = [];
    longest = 0;
  };
  try {
    for await (const row of splitRows(storage, upstream, split, chosen)) {
      // The batch is padded to its longest text, so one long text can make it large: flush early
      // when the padded batch would pass ENCODE_BUDGET_BYTES.
      const tokens = splitTokens(row.tokens);
      const padded = (batch.length + 1) * Math.max(longest, tokens.length) * strategy.dimension * 4;
      if (batch.length > 0 && padded > ENCODE_BUDGET_BYTES) await flush();
      batch.push(row);
      texts.push(tokens);
      longest = Math.max(longest, tokens.length);
      if (batch.length >= options.encodeBatch) await flush();
    }
    await flush();
    const file = await writer.close();
    return { schema: describeSchema(ENCODED_SCHEMA), rows: file.rows, files: [file] };
  } catch (error) {
    await writer.abort();
    throw error;
  }
}

/**
 * Fits one embedding strategy on the train split, stores it, and encodes both splits once so
 * that training and evaluation read ready-made inputs. Each strategy gets its own stage folder,
 * because the strategy and its options are part of the stage fingerprint.
 */
export async function embedTokens(input: EmbedInput): Promise<StageResult> {
  const storage = createStorage(input.storage);
  const upstream = await readManifest(storage, input.tokenizeManifestKey);
  const { options } = input;
  const factory = FACTORIES[options.strategy] as EmbeddingFactory<unknown> | undefined;
  if (!factory) {
    throw invalidInput(
      `Unknown embedding strategy "${String(options.strategy)}"; use one of ${Object.keys(FACTORIES).join(', ')}`,
    );
  }
  return runStage(
    storage,
    {
      stage: 'embed',
      version: EMBED_VERSION,
      prefix: input.storage.prefix,
      inputs: [inputOf(upstream)],
      options: fingerprintOptions(options),
    },
    async (dir) => {
      const progress = new Progress(`embed ${options.strategy}`, 'texts');
      const totals = { train: upstream.tables.train?.rows ?? 0, test: upstream.tables.test?.rows ?? 0 };
      const chosen = {
        train: sampleRows(totals.train, options.limits.train, options.sampleSeed),
        test: sampleRows(totals.test, options.limits.test, options.sampleSeed + 1),
      };
      progress.start(`fitting ${options.strategy}`, chosen.train?.size ?? totals.train);
      const texts = tokensOf(splitRows(storage, upstream, 'train', chosen.train));
      const strategy = await factory.fit(texts, options.settings, contextFor(storage, progress));
      try {
        const strategyArtifact = await putArtifact(
          storage,
          `${dir}/strategy.bin`,
          strategy.save(),
          'application/octet-stream',
        );
        const tables: StageManifest['tables'] = {};
        for (const split of ['train', 'test'] as const) {
          progress.start(`encoding ${split}`, chosen[split]?.size ?? totals[split]);
          tables[split] = await encodeSplit(
            storage,
            upstream,
            split,
            chosen[split],
            strategy,
            options,
            `${dir}/${split}/part-00000.parquet`,
            progress,
          );
        }
        const counts = {
          strategy: strategy.name,
          dimension: strategy.dimension,
          vocabulary: strategy.vocabularySize,
          train: tables.train?.rows ?? 0,
          test: tables.test?.rows ?? 0,
          trainAvailable: totals.train,
          testAvailable: totals.test,
        };
        log.info('embed finished', counts);
        return { tables, artifacts: { strategy: strategyArtifact }, counts };
      } finally {
        strategy.dispose?.();
      }
    },
  );
}
