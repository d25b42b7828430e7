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

const EVALUATE_VERSION = 2;

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

/**
 * Texts of one source, encoded on demand. The encoded prefix is kept, so the discriminator's
 * scoring and the two-sample tests, which read overlapping slices of the same texts, encode each
 * text once: with BERT, encoding is most of the evaluation's time.
 */
/** Texts per encode call; the stage heartbeats between calls. */
const ENCODE_CHUNK = 64;

class EncodedSource {
  private values: Float32Array;
  private encoded: number;
  private readonly stride: number;

  constructor(
    private readonly strategy: EmbeddingStrategy,
    private readonly texts: ReadonlyArray<readonly string[]>,
    private readonly seqLen: number,
    preEncoded?: { values: Float32Array; count: number },
    private readonly onChunk?: () => void,
  ) {
    this.stride = seqLen * strategy.dimension;
    this.values = preEncoded?.values ?? new Float32Array(0);
    this.encoded = preEncoded?.count ?? 0;
  }

  get seqLength(): number {
    return this.seqLen;
  }

  get size(): number {
    return Math.max(this.texts.length, this.encoded);
  }

  /** Encodings of texts [start, end), [end - start, seqLen, dimension]. */
  async range(start: number, end: number): Promise<EncodedTexts> {
    if (end > this.encoded) {
      const added = await encodeBatch(
        this.strategy,
        this.texts.slice(this.encoded, end),
        this.seqLen,
        ENCODE_CHUNK,
        this.onChunk,
      );
      const grown = new Float32Array(end * this.stride);
      grown.set(this.values.subarray(0, this.encoded * this.stride));
      grown.set(added, this.encoded * this.stride);
      this.values = grown;
      this.encoded = end;
    }
    return { values: this.values.subarray(start * this.stride, end * this.stride), count: end - start };
  }
}

/** Returns all of a source's encodings with the lengths the discriminator masks by. */
async function withLengths(
  source: EncodedSource,
  texts: ReadonlyArray<readonly string[]>,
): Promise<{ values: Float32Array; lengths: Int32Array }> {
  const seqLen = source.seqLength;
  const { values } = await source.range(0, texts.length);
  return {
    values,
    lengths: Int32Array.from(texts, (tokens) => Math.max(1, Math.min(seqLen, tokens.length))),
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

  /**
   * Runs both two-sample tests of one generator against real text. The n-gram classifier reads
   * words; the discriminator-shaped one reads encodings, for real texts the embed stage's own.
   */
  async function twoSample(
    config: GanConfig,
    dimension: number,
    real: { train: string[][]; test: string[][]; encodedTrain: EncodedSource; encodedTest: EncodedSource },
    fake: { texts: string[][]; encoded: EncodedSource },
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
      real.encodedTrain.size,
      Math.floor(fake.texts.length / 2),
    );
    const perClassTest = Math.min(
      options.twoSample.testPerClass,
      real.test.length,
      real.encodedTest.size,
      fake.texts.length - perClassTrain,
    );
    const testEnd = perClassTrain + perClassTest;
    const ngram = NgramClassifier.train(
      real.train.slice(0, perClassTrain),
      fake.texts.slice(0, perClassTrain),
      Random.fromSeed(options.seed),
    );
    const ngramResult = classifierTwoSampleTest(
      ngram.predict(real.test.slice(0, perClassTest)),
      ngram.predict(fake.texts.slice(perClassTrain, testEnd)),
    );

    const sets = {
      realTrain: await real.encodedTrain.range(0, perClassTrain),
      fakeTrain: await fake.encoded.range(0, perClassTrain),
      realTest: await real.encodedTest.range(0, perClassTest),
      fakeTest: await fake.encoded.range(perClassTrain, testEnd),
    };
    const model = await trainTwoSampleClassifier(tf, config, dimension, sets.realTrain, sets.fakeTrain, {
      ...options.twoSample,
      seed: options.seed,
    });
    try {
      const score = (texts: EncodedTexts) =>
        predictReal(tf, model, texts, config.seqLen, dimension, config.batchSize);
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
        const progress = new Progress(`evaluate ${String(embedded.counts.strategy)}`, 'steps');
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
          const keepAlive = () => progress.advance(0);
          const markovEncoded = new EncodedSource(strategy, markovTexts, config.seqLen, undefined, keepAlive);
          const score = (batch: { values: Float32Array; lengths: Int32Array }) =>
            scoreSamples(tf, discriminator.model, config, dimension, batch);
          const full = Int32Array.from({ length: options.generatorSamples }, () => config.seqLen);
          const discriminatorTable: DiscriminatorRow[] = [
            discriminatorRow('train (real)', score(trainReal), 1),
            discriminatorRow('test (real)', score(testReal), 1),
            discriminatorRow('generator (fake)', score({ values: raw, lengths: full }), 0),
            discriminatorRow('markov (fake)', score(await withLengths(markovEncoded, markovTexts)), 0),
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
          // The n-gram test reads the first real texts of each split. The discriminator-shaped test
          // reads the embed stage's encodings: the same texts in the same order unless the
          // strategy encodes a sample (BERT), which then replaces them.
          const real = {
            train: await readTokens(storage, tokenized, 'train', options.twoSample.trainPerClass),
            test: await readTokens(storage, tokenized, 'test', options.twoSample.testPerClass),
            encodedTrain: new EncodedSource(strategy, [], config.seqLen, trainReal),
            encodedTest: new EncodedSource(strategy, [], config.seqLen, testReal),
          };
          for (const row of text) {
            if (row.model === 'real') continue;
            const fake =
              row.model === 'gan'
                ? {
                    texts: ganTexts,
                    encoded: new EncodedSource(strategy, ganTexts, config.seqLen, undefined, keepAlive),
                  }
                : { texts: markovTexts, encoded: markovEncoded };
            Object.assign(row, await twoSample(config, dimension, real, fake, options));
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
            counts: { evaluation, strategy: strategy.name },
          };
        } finally {
          generator.model.dispose();
          discriminator.model.dispose();
          strategy.dispose?.();
        }
      },
    );
  }

  return { evaluateRun };
}

export type EvaluateActivities = ReturnType<typeof createEvaluateActivities>;
