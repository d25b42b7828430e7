import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { bertOptionsSchema } from '../embeddings/bert-options';
import { scalarOptionsSchema } from '../embeddings/scalar';
import { word2vecOptionsSchema } from '../embeddings/word2vec-options';
import { ganConfigSchema } from '../ml/config';
import { cyberbullyDataset } from './datasets';

/**
 * One run's configuration: the dataset manifest, where artifacts go, and each stage's options.
 * Every default lives in this file. The whole object travels in the workflow input and history,
 * so it must never contain credentials: S3 keys come from the worker's environment.
 */

const nonEmpty = z.string().min(1, 'must not be empty');

export const labelMappingSchema = z.object({
  /** Column with the 0/1 flag. Values "0", "1", "0.0" and "1.0" are accepted; anything else is rejected per row. */
  column: nonEmpty,
});

export const sourceSchema = z.object({
  /** Short name stored in the `source` column and used in artifact keys: letters, digits, `_` and `-`. */
  name: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/,
      'use 1-64 letters, digits, "_" or "-", starting with a letter or digit',
    ),
  /** Local path (relative to the working folder), file:// URL, http(s) URL or s3://bucket/key. Gzip is detected. */
  uri: nonEmpty,
  format: z.literal('csv').default('csv'),
  textColumn: nonEmpty.default('Text'),
  label: labelMappingSchema.default({ column: 'oh_label' }),
  /** Optional column copied into `annotation` (for example none/racism/sexism). */
  annotationColumn: z.string().min(1).optional(),
  /** When true, an unreachable source is skipped with a warning instead of failing the run. */
  optional: z.boolean().default(false),
  /** Expected SHA-256 of the file's bytes; filled in by the CLI for local files it uploads. */
  sha256: z
    .string()
    .regex(/^[0-9a-f]{64}$/)
    .optional(),
});

export const datasetSchema = z.object({
  name: nonEmpty,
  sources: z.array(sourceSchema).min(1, 'list at least one source'),
});

export const storageSchema = z.object({
  /** S3 endpoint URL; leave unset for AWS S3 itself. */
  endpoint: z.string().url().optional(),
  region: nonEmpty.default('us-east-1'),
  bucket: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
      'must be a valid S3 bucket name (3-63 lowercase letters, digits, "." or "-")',
    ),
  /** Key prefix for all artifacts of this deployment; stage outputs go under `<prefix>/stages/`. */
  prefix: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9/_.-]*$/, 'use letters, digits, "/", "_", "." or "-"')
    .refine((p) => !p.split('/').includes('..'), 'must not contain ".." segments')
    .default('textgan'),
  /** Path-style addressing (http://host/bucket/key), which SeaweedFS and MinIO need. */
  forcePathStyle: z.boolean().default(true),
});

export const fetchOptionsSchema = z.object({
  /** Rows per Parquet row group, which bounds the memory a stage uses at once. */
  batchRows: z.number().int().min(1).max(1_000_000).default(8192),
  /** Texts longer than this many characters are rejected with a reason rather than stored. */
  maxTextChars: z.number().int().min(1).default(100_000),
  /** Seconds to wait for an http(s) source to respond before it counts as unreachable. */
  httpTimeoutSeconds: z.number().positive().default(20),
});

export const dedupOptionsSchema = z.object({
  batchRows: z.number().int().min(1).max(1_000_000).default(8192),
});

export const tokenizeOptionsSchema = z.object({
  batchRows: z.number().int().min(1).max(1_000_000).default(8192),
  /** Lowercase tokens before storing them. The embeddings lowercase on their own, so the default keeps case. */
  lowercase: z.boolean().default(false),
  /** Texts with more word tokens than this are dropped or truncated (the reference study dropped them at 1,200). */
  maxTokens: z.number().int().min(1).default(1200),
  overLength: z.enum(['drop', 'truncate']).default('drop'),
  /** Share of texts assigned to the test split, decided per text by a seeded hash so it is reproducible. */
  testFraction: z.number().gt(0).lt(1).default(0.2),
  seed: z.number().int().min(0).default(42),
});

/** Embedding strategies in the order the report shows them. */
export const EMBEDDING_STRATEGIES = ['scalar', 'word2vec', 'bert'] as const;
export type EmbeddingStrategyName = (typeof EMBEDDING_STRATEGIES)[number];

/** Most texts a strategy encodes per split; unset encodes the whole split. */
const splitLimitsSchema = z.strictObject({
  train: z.number().int().min(1).optional(),
  test: z.number().int().min(1).optional(),
});

// Strict, so a misspelt field (or the old single `strategy`) is an error instead of being ignored.
export const embedOptionsSchema = z.strictObject({
  /**
   * Strategies trained side by side, each in its own branch of embed, train and evaluate. A
   * strategy whose model is missing (BERT without a model folder) is skipped with a message.
   */
  strategies: z
    .array(z.enum(EMBEDDING_STRATEGIES))
    .min(1)
    .refine((names) => new Set(names).size === names.length, 'must not name a strategy twice')
    .default([...EMBEDDING_STRATEGIES]),
  scalar: scalarOptionsSchema.default(scalarOptionsSchema.parse({})),
  word2vec: word2vecOptionsSchema.default(word2vecOptionsSchema.parse({})),
  bert: bertOptionsSchema.default(bertOptionsSchema.parse({})),
  /**
   * Texts each strategy encodes per split. BERT runs a transformer over every text, so by default
   * it encodes a uniform random sample of each split, drawn with `sampleSeed`. Training and
   * evaluation then see only those texts for that strategy.
   */
  maxTexts: z
    .strictObject({
      scalar: splitLimitsSchema.default({}),
      word2vec: splitLimitsSchema.default({}),
      bert: splitLimitsSchema.default({ train: 2000, test: 500 }),
    })
    .default({ scalar: {}, word2vec: {}, bert: { train: 2000, test: 500 } }),
  sampleSeed: z.number().int().min(0).max(4294967295).default(11),
  /** Rows per Parquet row group of the encoded tables. */
  batchRows: z.number().int().min(1).max(1_000_000).default(8192),
  /** Texts per call to the strategy's encoder: bounds the memory a model-backed strategy uses at once. */
  encodeBatch: z.number().int().min(1).max(100_000).default(256),
});

export const trainOptionsSchema = z.object({
  /**
   * Starting hyperparameters. "default" has short sequences and the corrected objective and takes
   * minutes on CPU. "study" has the published settings (1,200 tokens, batch 500, 10 epochs) and takes hours per epoch on CPU.
   */
  preset: z.enum(['default', 'study']).default('default'),
  /** Fields that replace the preset's values, e.g. {"epochs": 5}. */
  overrides: ganConfigSchema.partial().default({}),
  /** Seed of initial weights, noise, dropout masks and batch order. */
  seed: z.number().int().min(0).max(4294967295).default(1234),
  /** Checkpoints kept in S3; older ones are deleted after each new one. */
  keepCheckpoints: z.number().int().min(1).default(3),
  /**
   * Seconds without a heartbeat after which Temporal gives the training attempt to another
   * worker. A step of the default preset takes well under a second; the study preset's can take minutes.
   */
  heartbeatTimeoutSeconds: z.number().int().min(1).default(300),
});

export const markovOptionsSchema = z.object({
  /** Sentences the chain generates for evaluation. */
  samples: z.number().int().min(1).max(1_000_000).default(1000),
  seed: z.number().int().min(0).max(4294967295).default(99),
});

export const evaluateOptionsSchema = z.object({
  /** Generator samples scored and judged (the study used 5,000). */
  generatorSamples: z.number().int().min(2).max(1_000_000).default(5000),
  /** Most real texts per split scored by the discriminator; the default scores them all. */
  scoreLimit: z.number().int().min(1).default(1_000_000),
  /** Samples per source for self-BLEU-4; it compares every pair, so cost grows with the square. */
  selfBleuSamples: z.number().int().min(2).default(500),
  twoSample: z
    .object({
      /** Real and generated texts each used to train the fresh classifier. */
      trainPerClass: z.number().int().min(1).default(2000),
      /** Held-out real test texts and generated texts each used to score it. */
      testPerClass: z.number().int().min(1).default(1000),
      epochs: z.number().int().min(1).default(3),
      batchSize: z.number().int().min(1).default(64),
      learningRate: z.number().positive().default(0.005),
    })
    .default({ trainPerClass: 2000, testPerClass: 1000, epochs: 3, batchSize: 64, learningRate: 0.005 }),
  seed: z.number().int().min(0).max(4294967295).default(2024),
});

export const stagesSchema = z.object({
  fetch: fetchOptionsSchema.default(fetchOptionsSchema.parse({})),
  dedup: dedupOptionsSchema.default(dedupOptionsSchema.parse({})),
  tokenize: tokenizeOptionsSchema.default(tokenizeOptionsSchema.parse({})),
  embed: embedOptionsSchema.default(embedOptionsSchema.parse({})),
  train: trainOptionsSchema.default(trainOptionsSchema.parse({})),
  markov: markovOptionsSchema.default(markovOptionsSchema.parse({})),
  evaluate: evaluateOptionsSchema.default(evaluateOptionsSchema.parse({})),
});

export const runConfigSchema = z.object({
  /** Free-form label shown in the Web UI and the report. */
  runName: z.string().max(200).optional(),
  /**
   * Last stage to run: "tokenize" stops after the data stages (no TensorFlow.js worker needed),
   * "train" after training; the default runs everything through the report.
   */
  runUntil: z.enum(['tokenize', 'train', 'report']).default('report'),
  dataset: datasetSchema,
  storage: storageSchema,
  stages: stagesSchema.default(stagesSchema.parse({})),
});

export type SourceConfig = z.infer<typeof sourceSchema>;
export type DatasetConfig = z.infer<typeof datasetSchema>;
export type StorageConfig = z.infer<typeof storageSchema>;
export type FetchOptions = z.infer<typeof fetchOptionsSchema>;
export type DedupOptions = z.infer<typeof dedupOptionsSchema>;
export type TokenizeOptions = z.infer<typeof tokenizeOptionsSchema>;
export type EmbedOptions = z.infer<typeof embedOptionsSchema>;
export type SplitLimits = z.infer<typeof splitLimitsSchema>;
export type TrainOptions = z.infer<typeof trainOptionsSchema>;
export type MarkovOptions = z.infer<typeof markovOptionsSchema>;
export type EvaluateOptions = z.infer<typeof evaluateOptionsSchema>;
export type RunConfig = z.infer<typeof runConfigSchema>;
/** The shape a user writes: every field with a default may be left out. */
export type RunConfigInput = z.input<typeof runConfigSchema>;

export class ConfigError extends Error {
  constructor(
    message: string,
    readonly problems: string[],
  ) {
    super(message);
    this.name = 'ConfigError';
  }
}

/** Formats zod issues as "path: reason" lines, one per bad field. */
export function describeIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => {
    const path = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    return `${path}: ${issue.message}`;
  });
}

/** Validates a raw object as a run config, throwing a ConfigError that lists every invalid field. */
export function parseRunConfig(raw: unknown, origin = 'config'): RunConfig {
  const result = runConfigSchema.safeParse(upgradeRunConfig(raw));
  if (!result.success) {
    const problems = describeIssues(result.error);
    throw new ConfigError(`Invalid ${origin}:\n  ${problems.join('\n  ')}`, problems);
  }
  return result.data;
}

/**
 * Rewrites fields of older configs into their current form, so `resume` works on runs made
 * before the strategies ran side by side: `stages.embed.strategy: "x"` becomes
 * `stages.embed.strategies: ["x"]`.
 */
function upgradeRunConfig(raw: unknown): unknown {
  const embed = (raw as { stages?: { embed?: Record<string, unknown> } } | undefined)?.stages?.embed;
  if (!embed || typeof embed.strategy !== 'string' || embed.strategies !== undefined) return raw;
  const { strategy, ...rest } = embed;
  const stages = (raw as { stages: Record<string, unknown> }).stages;
  return { ...(raw as object), stages: { ...stages, embed: { ...rest, strategies: [strategy] } } };
}

/** Returns the configuration of a run with no file and no flags: the bundled comment corpus and local storage. */
export function defaultRunConfigInput(storage: { endpoint?: string; bucket: string }): RunConfigInput {
  return {
    dataset: cyberbullyDataset(),
    storage: { endpoint: storage.endpoint, bucket: storage.bucket },
  };
}

/**
 * Sets a dotted path in a plain object, parsing the value as JSON when it parses (numbers, booleans,
 * arrays) and keeping it as a string otherwise. Used for `--set stages.tokenize.maxTokens=60` flags.
 */
export function setPath(target: Record<string, unknown>, dottedPath: string, rawValue: string): void {
  const parts = dottedPath.split('.');
  if (
    parts.some(
      (part) => part === '' || part === '__proto__' || part === 'constructor' || part === 'prototype',
    )
  ) {
    throw new ConfigError(`Invalid --set path "${dottedPath}"`, [`${dottedPath}: invalid path`]);
  }
  let value: unknown = rawValue;
  try {
    value = JSON.parse(rawValue);
  } catch {
    // Not JSON, so the flag's value is a plain string.
  }
  let node: Record<string, unknown> = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next === undefined || next === null || typeof next !== 'object' || Array.isArray(next)) {
      node[part] = {};
    }
    node = node[part] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] as string] = value;
}

/** Reads a JSON config file, naming the file in any parse error. */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`Config file not found or unreadable: ${path} (${(error as Error).message})`, [
      `${path}: cannot read`,
    ]);
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new Error('the top level must be a JSON object');
    }
    return parsed as Record<string, unknown>;
  } catch (error) {
    throw new ConfigError(`Invalid JSON in config file ${path}: ${(error as Error).message}`, [
      `${path}: invalid JSON`,
    ]);
  }
}
