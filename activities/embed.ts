import { log } from '@temporalio/activity';
import { scalarEmbedding } from '../embeddings/scalar';
import type { EmbeddingStrategy } from '../embeddings/strategy';
import type { EmbedOptions, StorageConfig } from '../infra/config';
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
import type { TokenRow } from './tokenize';
import { Progress } from './progress';

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
  options: EmbedOptions;
}

const EMBED_VERSION = 1;

function splitTokens(tokens: string): string[] {
  return tokens.length === 0 ? [] : tokens.split(' ');
}

async function* trainTexts(storage: Storage, manifest: StageManifest): AsyncGenerator<string[]> {
  for await (const row of readParquetFiles<TokenRow>(storage, tableFiles(manifest, 'train'), ['tokens'])) {
    yield splitTokens(row.tokens);
  }
}

async function fitStrategy(
  storage: Storage,
  manifest: StageManifest,
  options: EmbedOptions,
): Promise<EmbeddingStrategy> {
  switch (options.strategy) {
    case 'scalar':
      return scalarEmbedding.fit(trainTexts(storage, manifest), options.scalar);
  }
}

/** Loads the fitted strategy an embed stage stored. */
export async function loadStrategy(
  storage: Storage,
  embedManifest: StageManifest,
): Promise<EmbeddingStrategy> {
  const artifact = embedManifest.artifacts.strategy;
  if (!artifact) throw new Error(`Embed manifest ${embedManifest.manifestKey} lists no strategy artifact`);
  const name = (embedManifest.counts as { strategy?: string }).strategy;
  switch (name) {
    case 'scalar':
      return scalarEmbedding.load(await getBytes(storage, artifact.key));
    default:
      throw new Error(`Unknown embedding strategy "${String(name)}" in ${embedManifest.manifestKey}`);
  }
}

/**
 * Fits the configured embedding strategy on the train split, stores it, and encodes both splits
 * once so that training and evaluation read ready-made inputs.
 */
export async function embedTokens(input: EmbedInput): Promise<StageResult> {
  const storage = createStorage(input.storage);
  const upstream = await readManifest(storage, input.tokenizeManifestKey);
  const { options } = input;
  return runStage(
    storage,
    {
      stage: 'embed',
      version: EMBED_VERSION,
      prefix: input.storage.prefix,
      inputs: [inputOf(upstream)],
      options,
    },
    async (dir) => {
      const progress = new Progress('embed', 'rows');
      progress.start(`fitting ${options.strategy}`, upstream.tables.train?.rows);
      const strategy = await fitStrategy(storage, upstream, options);
      const strategyArtifact = await putArtifact(
        storage,
        `${dir}/strategy.bin`,
        strategy.save(),
        'application/octet-stream',
      );

      const tables: StageManifest['tables'] = {};
      for (const split of ['train', 'test'] as const) {
        progress.start(`encoding ${split}`, upstream.tables[split]?.rows);
        const writer = await ParquetS3Writer.open<EncodedRow>(
          storage,
          `${dir}/${split}/part-00000.parquet`,
          ENCODED_SCHEMA,
          options.batchRows,
        );
        try {
          for await (const row of readParquetFiles<TokenRow>(storage, tableFiles(upstream, split), [
            'id',
            'label',
            'tokens',
          ])) {
            const words = splitTokens(row.tokens);
            const values = new Float32Array(words.length * strategy.dimension);
            strategy.encodeInto(words, words.length, values, 0);
            await writer.append({
              id: row.id,
              label: row.label,
              length: words.length,
              values: Buffer.from(values.buffer, values.byteOffset, values.byteLength),
            });
            progress.advance();
          }
          const file = await writer.close();
          tables[split] = { schema: describeSchema(ENCODED_SCHEMA), rows: file.rows, files: [file] };
        } catch (error) {
          await writer.abort();
          throw error;
        }
      }
      const counts = {
        strategy: strategy.name,
        dimension: strategy.dimension,
        vocabulary: strategy.vocabularySize,
        train: tables.train?.rows ?? 0,
        test: tables.test?.rows ?? 0,
      };
      log.info('embed finished', {
        strategy: strategy.name,
        vocabulary: counts.vocabulary,
        train: counts.train,
        test: counts.test,
      });
      return { tables, artifacts: { strategy: strategyArtifact }, counts };
    },
  );
}
