import { log } from '@temporalio/activity';
import { MarkovChainBuilder } from '../eval/markov';
import type { MarkovOptions, StorageConfig } from '../infra/config';
import { describeSchema, readParquetFiles, writeParquet, type TableSchema } from '../infra/parquet';
import { createStorage } from '../infra/s3';
import { inputOf, putArtifact, readManifest, runStage, tableFiles, type StageResult } from '../infra/stages';
import { Random } from '../lib/random';
import { Progress } from './progress';
import type { TokenRow } from './tokenize';

/** Columns of a table of generated texts (Markov or GAN samples). */
export const SAMPLES_SCHEMA: TableSchema = {
  sample: { type: 'INT32' },
  tokens: { type: 'UTF8' },
  length: { type: 'INT32' },
  /** Positions that decoded to padding or to no known word; always 0 for the Markov chain. */
  unknown: { type: 'INT32' },
};

export interface SampleRow extends Record<string, unknown> {
  sample: number;
  tokens: string;
  length: number;
  unknown: number;
}

export interface MarkovInput {
  storage: StorageConfig;
  tokenizeManifestKey: string;
  options: MarkovOptions;
}

const MARKOV_VERSION = 1;

/**
 * Fits the study's Markov-chain baseline on the train split and generates its samples. The first
 * word is uniform over the vocabulary, each next word follows bigram counts, and the length is
 * drawn from the train lengths. Words appear in their most frequent surface form.
 */
export async function fitMarkov(input: MarkovInput): Promise<StageResult> {
  const storage = createStorage(input.storage);
  const upstream = await readManifest(storage, input.tokenizeManifestKey);
  const { options } = input;
  return runStage(
    storage,
    {
      stage: 'markov',
      version: MARKOV_VERSION,
      prefix: input.storage.prefix,
      inputs: [inputOf(upstream)],
      options,
    },
    async (dir) => {
      const progress = new Progress('markov', 'texts');
      progress.start('counting bigrams', upstream.tables.train?.rows);
      const builder = new MarkovChainBuilder();
      for await (const row of readParquetFiles<TokenRow>(storage, tableFiles(upstream, 'train'), [
        'tokens',
      ])) {
        builder.add(row.tokens.length === 0 ? [] : row.tokens.split(' '));
        progress.advance();
      }
      const chain = builder.build();
      progress.start('generating', options.samples);
      const texts = chain.generate(options.samples, Random.fromSeed(options.seed));
      const samples = await writeParquet<SampleRow>(
        storage,
        `${dir}/samples/part-00000.parquet`,
        SAMPLES_SCHEMA,
        texts.map((tokens, sample) => ({
          sample,
          tokens: tokens.join(' '),
          length: tokens.length,
          unknown: 0,
        })),
      );
      const chainArtifact = await putArtifact(
        storage,
        `${dir}/chain.bin`,
        chain.serialize(),
        'application/octet-stream',
      );
      const counts = { ...chain.stats, samples: samples.rows };
      log.info('markov finished', counts);
      return {
        tables: { samples: { schema: describeSchema(SAMPLES_SCHEMA), rows: samples.rows, files: [samples] } },
        artifacts: { chain: chainArtifact },
        counts,
      };
    },
  );
}
