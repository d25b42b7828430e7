import { log } from '@temporalio/activity';
import { BigramLanguageModel } from '../eval/bigram-language-model';
import { BleuReferenceIndex, averageSentenceBleu, selfBleu } from '../eval/bleu';
import { accuracyAt, classifierTwoSampleTest, distinctN, meanSquaredError } from '../eval/metrics';
import { encodeBatch, wordsOf, type EmbeddingStrategy } from '../embeddings/strategy';
import type { EvaluateOptions, StorageConfig } from '../infra/config';
import { describeSchema, readParquetFiles, writeParquet, type TableSchema } from '../infra/parquet';
import { createStorage, getBytes, type Storage } from '../infra/s3';
import {
  inputOf,
  readManifest,
  runStage,
  tableFiles,
  type StageManifest,
  type StageResult,
} from '../infra/stages';
import { Random } from '../lib/random';
import type { LoadedTensorFlow } from '../ml/backend';
import { loadNetwork } from '../ml/checkpoint';
import { predictReal, trainTwoSampleClassifier, type EncodedTexts } from '../ml/classifier';
import type { GanConfig } from '../ml/config';
import { generateSamples, scoreSamples } from '../ml/gan';
import type { DiscriminatorRow, Evaluation, TextMetrics } from '../eval/evaluation';
import { NgramClassifier } from '../eval/ngram-classifier';
import { loadStrategy } from './embed';
import { loadEncodedSplit } from './encoded-data';
import { SAMPLES_SCHEMA, type SampleRow } from './markov';
import { Progress } from './progress';
import type { TokenRow } from './tokenize';

/** Long-format metrics table: one row per (model, metric), easy to pivot in DuckDB or pandas. */
export const METRICS_SCHEMA: TableSchema = {
  model: { type: 'UTF8' },
  metric: { type: 'UTF8' },
  value: { type: 'DOUBLE', optional: true },
};

export type { DiscriminatorRow, Evaluation, TextMetrics } from '../eval/evaluation';

export interface EvaluateInput {
  storage: StorageConfig;
  tokenizeManifestKey: string;
  embedManifestKey: string;
  trainManifestKey: string;
  markovManifestKey: string;
  options: EvaluateOptions;
}

const EVALUATE_VERSION = 1;

function lower(tokens: readonly string[]): string[] {
  return tokens.map((token) => token.toLowerCase());
}

async function readTokens(
  storage: Storage,
  manifest: StageManifest,
  table: string,
  limit = Number.POSITIVE_INFINITY,
): Promise<string[][]> {
  const texts: string[][] = [];
  for await (const row of readParquetFiles<TokenRow | SampleRow>(storage, tableFiles(manifest, table), [
    'tokens',
  ])) {
    if (texts.length >= limit) break;
    texts.push(row.tokens.length === 0 ? [] : row.tokens.split(' '));
  }
  return texts;
}

function encodeTexts(
  strategy: EmbeddingStrategy,
  texts: ReadonlyArray<readonly string[]>,
  seqLen: number,
): { values: Float32Array; lengths: Int32Array; count: number } {
  return {
    values: encodeBatch(strategy, texts, seqLen),
    lengths: Int32Array.from(texts, (tokens) => Math.max(1, Math.min(seqLen, tokens.length))),
    count: texts.length,
  };
}

function discriminatorRow(
  data: DiscriminatorRow['data'],
  scores: Float32Array,
  label: 0 | 1,
): DiscriminatorRow {
  const labels = new Float32Array(scores.length).fill(label);
  return {
    data,
    count: scores.length,
    accuracy: accuracyAt(scores, labels),
    mse: meanSquaredError(scores, labels),
  };
}

/**
 * Creates the evaluate activity bound to a loaded TensorFlow.js backend. It runs on the training
 * task queue because it generates samples and trains the two-sample classifiers.
 */
export function createEvaluateActivities(loaded: LoadedTensorFlow) {
  const { tf } = loaded;

  async function twoSample(
    config: GanConfig,
    dimension: number,
    strategy: EmbeddingStrategy,
    real: { train: string[][]; test: string[][] },
    fake: string[][],
    options: EvaluateOptions,
  ): Promise<
    Pick<
      TextMetrics,
      | 'twoSampleAccuracy'
      | 'twoSampleLow'
      | 'twoSampleHigh'
      | 'twoSampleTrainAccuracy'
      | 'ngramTwoSampleAccuracy'
      | 'ngramTwoSampleLow'
      | 'ngramTwoSampleHigh'
    >
  > {
    const perClassTrain = Math.min(
      options.twoSample.trainPerClass,
      real.train.length,
      Math.floor(fake.length / 2),
    );
    const perClassTest = Math.min(
      options.twoSample.testPerClass,
      real.test.length,
      fake.length - perClassTrain,
    );
    const sets = {
      realTrain: real.train.slice(0, perClassTrain),
      fakeTrain: fake.slice(0, perClassTrain),
      realTest: real.test.slice(0, perClassTest),
      fakeTest: fake.slice(perClassTrain, perClassTrain + perClassTest),
    };
    const asEncoded = (texts: string[][]): EncodedTexts => ({
      values: encodeBatch(strategy, texts, config.seqLen),
      count: texts.length,
    });

    const ngram = NgramClassifier.train(sets.realTrain, sets.fakeTrain, Random.fromSeed(options.seed));
    const ngramResult = classifierTwoSampleTest(ngram.predict(sets.realTest), ngram.predict(sets.fakeTest));

    const model = await trainTwoSampleClassifier(
      tf,
      config,
      dimension,
      asEncoded(sets.realTrain),
      asEncoded(sets.fakeTrain),
      {
        ...options.twoSample,
        seed: options.seed,
      },
    );
    try {
      const score = (texts: string[][]) =>
        predictReal(tf, model, asEncoded(texts), config.seqLen, dimension, config.batchSize);
      const result = classifierTwoSampleTest(score(sets.realTest), score(sets.fakeTest));
      const onTraining = classifierTwoSampleTest(score(sets.realTrain), score(sets.fakeTrain));
      return {
        twoSampleAccuracy: result.accuracy,
        twoSampleLow: result.confidenceInterval[0],
        twoSampleHigh: result.confidenceInterval[1],
        twoSampleTrainAccuracy: onTraining.accuracy,
        ngramTwoSampleAccuracy: ngramResult.accuracy,
        ngramTwoSampleLow: ngramResult.confidenceInterval[0],
        ngramTwoSampleHigh: ngramResult.confidenceInterval[1],
      };
    } finally {
      model.dispose();
    }
  }

  /**
   * Judges the trained GAN and the Markov baseline: the study's discriminator table, text metrics
   * (BLEU against the test split, self-BLEU, distinct-n, bigram perplexity) and a classifier
   * two-sample test for each generator, with real test text as the reference row.
   */
  async function evaluateRun(input: EvaluateInput): Promise<StageResult> {
    const storage = createStorage(input.storage);
    const [tokenized, embedded, trained, markov] = await Promise.all([
      readManifest(storage, input.tokenizeManifestKey),
      readManifest(storage, input.embedManifestKey),
      readManifest(storage, input.trainManifestKey),
      readManifest(storage, input.markovManifestKey),
    ]);
    const { options } = input;
    return runStage(
      storage,
      {
        stage: 'evaluate',
        version: EVALUATE_VERSION,
        prefix: input.storage.prefix,
        inputs: [inputOf(tokenized), inputOf(embedded), inputOf(trained), inputOf(markov)],
        options,
      },
      async (dir) => {
        const progress = new Progress('evaluate', 'steps');
        const heartbeat = (phase: string) => progress.start(phase);
        heartbeat('loading models');
        const strategy = await loadStrategy(storage, embedded);
        const generator = await loadNetwork(
          tf,
          await getBytes(storage, trained.artifacts.generator!.key),
          'generator',
        );
        const discriminator = await loadNetwork(
          tf,
          await getBytes(storage, trained.artifacts.discriminator!.key),
          'discriminator',
        );
        const config = generator.config;
        const dimension = generator.inputSize;
        try {
          heartbeat('generating samples');
          const random = Random.fromSeed(options.seed);
          const raw = generateSamples(
            tf,
            generator.model,
            config,
            dimension,
            options.generatorSamples,
            random,
          );
          const decoded = strategy.decodeBatch(raw, options.generatorSamples, config.seqLen);
          const unknownPositions = decoded.reduce(
            (sum, text) => sum + text.filter((word) => word === null).length,
            0,
          );
          const ganTexts = decoded.map(wordsOf);

          heartbeat('scoring with the discriminator');
          const trainReal = await loadEncodedSplit(
            storage,
            embedded,
            'train',
            config.seqLen,
            dimension,
            options.scoreLimit,
          );
          const testReal = await loadEncodedSplit(
            storage,
            embedded,
            'test',
            config.seqLen,
            dimension,
            options.scoreLimit,
          );
          const markovTexts = await readTokens(storage, markov, 'samples');
          const score = (batch: { values: Float32Array; lengths: Int32Array }) =>
            scoreSamples(tf, discriminator.model, config, dimension, batch);
          const full = Int32Array.from({ length: options.generatorSamples }, () => config.seqLen);
          const discriminatorTable: DiscriminatorRow[] = [
            discriminatorRow('train (real)', score(trainReal), 1),
            discriminatorRow('test (real)', score(testReal), 1),
            discriminatorRow('generator (fake)', score({ values: raw, lengths: full }), 0),
            discriminatorRow('markov (fake)', score(encodeTexts(strategy, markovTexts, config.seqLen)), 0),
          ];

          heartbeat('text metrics');
          const trainTexts = (await readTokens(storage, tokenized, 'train')).map(lower);
          const testTexts = (await readTokens(storage, tokenized, 'test')).map(lower);
          const references = new BleuReferenceIndex(testTexts, 4);
          const languageModel = BigramLanguageModel.fit(trainTexts);
          // The real row scores train texts against the test references: the ceiling a generator could reach.
          const realSample = Random.fromSeed(options.seed + 1)
            .shuffle([...trainTexts])
            .slice(0, options.generatorSamples);
          const sources: Array<{
            model: TextMetrics['model'];
            texts: string[][];
            perplexityTexts: string[][];
          }> = [
            { model: 'real', texts: realSample, perplexityTexts: testTexts },
            { model: 'gan', texts: ganTexts.map(lower), perplexityTexts: ganTexts.map(lower) },
            { model: 'markov', texts: markovTexts.map(lower), perplexityTexts: markovTexts.map(lower) },
          ];
          const text: TextMetrics[] = [];
          for (const source of sources) {
            const nonEmpty = source.texts.filter((tokens) => tokens.length > 0);
            const bleuOf = (n: number) =>
              nonEmpty.length > 0 ? averageSentenceBleu(nonEmpty, references, n) : 0;
            const selfBleuTexts = nonEmpty.length >= 2 ? nonEmpty : [];
            text.push({
              model: source.model,
              texts: source.texts.length,
              emptyTexts: source.texts.length - nonEmpty.length,
              bleu2: bleuOf(2),
              bleu3: bleuOf(3),
              bleu4: bleuOf(4),
              selfBleu4:
                selfBleuTexts.length > 0
                  ? selfBleu(selfBleuTexts, 4, {
                      subsetSize: Math.min(options.selfBleuSamples, selfBleuTexts.length),
                      random: Random.fromSeed(options.seed + 2),
                    })
                  : 0,
              distinct1: distinctN(source.texts, 1),
              distinct2: distinctN(source.texts, 2),
              perplexityStudy: languageModel.perplexity(source.perplexityTexts, 'maximum-likelihood')
                .perplexity,
              perplexityKneserNey: languageModel.perplexity(source.perplexityTexts, 'kneser-ney').perplexity,
              unknownShare:
                source.model === 'gan'
                  ? unknownPositions / Math.max(1, options.generatorSamples * config.seqLen)
                  : null,
              twoSampleAccuracy: null,
              twoSampleLow: null,
              twoSampleHigh: null,
              twoSampleTrainAccuracy: null,
              ngramTwoSampleAccuracy: null,
              ngramTwoSampleLow: null,
              ngramTwoSampleHigh: null,
            });
          }

          heartbeat('two-sample tests');
          const realSplits = {
            train: await readTokens(storage, tokenized, 'train', options.twoSample.trainPerClass),
            test: await readTokens(storage, tokenized, 'test', options.twoSample.testPerClass),
          };
          for (const row of text) {
            if (row.model === 'real') continue;
            const fake = row.model === 'gan' ? ganTexts : markovTexts;
            Object.assign(row, await twoSample(config, dimension, strategy, realSplits, fake, options));
          }

          const samples = await writeParquet<SampleRow>(
            storage,
            `${dir}/generator_samples/part-00000.parquet`,
            SAMPLES_SCHEMA,
            decoded.map((words, sample) => ({
              sample,
              tokens: wordsOf(words).join(' '),
              length: wordsOf(words).length,
              unknown: words.length - wordsOf(words).length,
            })),
          );
          const metricRows = [
            ...discriminatorTable.flatMap((row) => [
              { model: `discriminator on ${row.data}`, metric: 'accuracy', value: row.accuracy },
              { model: `discriminator on ${row.data}`, metric: 'mse', value: row.mse },
            ]),
            ...text.flatMap((row) =>
              Object.entries(row)
                .filter(([key]) => key !== 'model')
                .map(([metric, value]) => ({
                  model: row.model,
                  metric,
                  value: typeof value === 'number' && Number.isFinite(value) ? value : undefined,
                })),
            ),
          ];
          const metrics = await writeParquet(
            storage,
            `${dir}/metrics/part-00000.parquet`,
            METRICS_SCHEMA,
            metricRows,
          );
          const evaluation: Evaluation = { discriminator: discriminatorTable, text };
          log.info('evaluate finished', {
            generatorSamples: options.generatorSamples,
            markovSamples: markovTexts.length,
          });
          return {
            tables: {
              generator_samples: {
                schema: describeSchema(SAMPLES_SCHEMA),
                rows: samples.rows,
                files: [samples],
              },
              metrics: { schema: describeSchema(METRICS_SCHEMA), rows: metrics.rows, files: [metrics] },
            },
            counts: { evaluation },
          };
        } finally {
          generator.model.dispose();
          discriminator.model.dispose();
        }
      },
    );
  }

  return { evaluateRun };
}

export type EvaluateActivities = ReturnType<typeof createEvaluateActivities>;
