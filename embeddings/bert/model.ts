/**
 * A BERT encoder (Devlin et al. 2018) in TensorFlow.js, loaded from the Hugging Face file layout:
 * config.json, vocab.txt, model.safetensors and, optionally, tokenizer_config.json.
 *
 * The forward pass is the post-LayerNorm encoder of Hugging Face's BertModel without dropout.
 * Token, absolute position and token type 0 embeddings are summed and normalized. Each layer then
 * applies multi-head self-attention, a residual connection and LayerNorm, followed by a
 * feed-forward block (dense, activation, dense) with another residual connection and LayerNorm.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { getBytes, isNotFound } from '../../infra/s3';
import type { EmbeddingContext } from '../strategy';
import { readSafetensors, type NamedTensor } from './safetensors';
import { WordPieceTokenizer, type TokenizerSettings } from './wordpiece';

export const CONFIG_FILE = 'config.json';
export const VOCABULARY_FILE = 'vocab.txt';
export const WEIGHTS_FILE = 'model.safetensors';
export const TOKENIZER_CONFIG_FILE = 'tokenizer_config.json';

/** Added to the attention scores of padding positions, so that softmax gives them weight 0. */
const MASKED_SCORE = -1e9;

export type HiddenActivation = 'gelu' | 'gelu_new' | 'gelu_pytorch_tanh' | 'relu';
const ACTIVATIONS: readonly HiddenActivation[] = ['gelu', 'gelu_new', 'gelu_pytorch_tanh', 'relu'];

/** Encoder sizes from config.json, with Hugging Face's BertConfig defaults for absent fields. */
export interface BertConfig {
  vocabSize: number;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  intermediateSize: number;
  maxPositions: number;
  typeVocabSize: number;
  layerNormEps: number;
  hiddenAct: HiddenActivation;
}

/** Validates a parsed config.json. `source` names the file in error messages. */
export function parseBertConfig(json: unknown, source: string): BertConfig {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new Error(`Invalid BERT config ${source}: expected a JSON object`);
  }
  const raw = json as Record<string, unknown>;
  const modelType = raw.model_type;
  if (modelType !== undefined && modelType !== 'bert') {
    throw new Error(`Unsupported model in ${source}: model_type is "${String(modelType)}", expected "bert"`);
  }
  const positionType = raw.position_embedding_type;
  if (positionType !== undefined && positionType !== 'absolute') {
    throw new Error(
      `Unsupported model in ${source}: position_embedding_type is "${String(positionType)}", ` +
        'expected "absolute"',
    );
  }
  const integer = (field: string, fallback: number): number => {
    const value = raw[field] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
      throw new Error(
        `Invalid BERT config ${source}: ${field} is ${JSON.stringify(value)}, expected a positive integer`,
      );
    }
    return value;
  };
  const config: BertConfig = {
    vocabSize: integer('vocab_size', 30522),
    hiddenSize: integer('hidden_size', 768),
    numLayers: integer('num_hidden_layers', 12),
    numHeads: integer('num_attention_heads', 12),
    intermediateSize: integer('intermediate_size', 3072),
    maxPositions: integer('max_position_embeddings', 512),
    typeVocabSize: integer('type_vocab_size', 2),
    layerNormEps: 1e-12,
    hiddenAct: 'gelu',
  };
  const eps = raw.layer_norm_eps ?? config.layerNormEps;
  if (typeof eps !== 'number' || !(eps > 0)) {
    throw new Error(
      `Invalid BERT config ${source}: layer_norm_eps is ${JSON.stringify(eps)}, expected a positive number`,
    );
  }
  config.layerNormEps = eps;
  const activation = raw.hidden_act ?? config.hiddenAct;
  if (!ACTIVATIONS.includes(activation as HiddenActivation)) {
    throw new Error(
      `Unsupported model in ${source}: hidden_act is ${JSON.stringify(activation)}, expected one of ${ACTIVATIONS.join(', ')}`,
    );
  }
  config.hiddenAct = activation as HiddenActivation;
  if (config.hiddenSize % config.numHeads !== 0) {
    throw new Error(
      `Invalid BERT config ${source}: hidden_size ${config.hiddenSize} is not a multiple of ` +
        `num_attention_heads ${config.numHeads}`,
    );
  }
  return config;
}

/** Reads tokenizer settings from a parsed tokenizer_config.json. Absent fields keep BERT's defaults. */
export function parseTokenizerSettings(json: unknown): TokenizerSettings {
  const raw = (typeof json === 'object' && json !== null ? json : {}) as Record<string, unknown>;
  const settings: TokenizerSettings = {};
  if (typeof raw.do_lower_case === 'boolean') settings.doLowerCase = raw.do_lower_case;
  if (typeof raw.strip_accents === 'boolean') settings.stripAccents = raw.strip_accents;
  if (typeof raw.tokenize_chinese_chars === 'boolean')
    settings.tokenizeChineseChars = raw.tokenize_chinese_chars;
  return settings;
}

// ---------------------------------------------------------------------------------------------------------
// Model locations: a local folder or an S3 prefix.

/** Resolves a model location for messages: an absolute folder path, or the s3:// prefix as given. */
export function describeModelLocation(location: string): string {
  return isS3Location(location) ? location : path.resolve(location);
}

function isS3Location(location: string): boolean {
  return location.startsWith('s3://');
}

/** Splits `s3://bucket/prefix` (prefix optional, slashes at either end ignored) into bucket and key. */
function s3KeyOf(location: string, file: string): { bucket: string; key: string } {
  const [bucket = '', ...parts] = location.slice('s3://'.length).split('/');
  if (bucket.length === 0) {
    throw new Error(`Invalid BERT model location "${location}": expected s3://bucket/prefix`);
  }
  const prefix = parts.filter((part) => part.length > 0).join('/');
  return { bucket, key: prefix.length > 0 ? `${prefix}/${file}` : file };
}

/** A required file of a BERT model is not at the model location. */
export class ModelFileNotFoundError extends Error {
  constructor(
    readonly location: string,
    readonly file: string,
    options?: ErrorOptions,
  ) {
    super(missingFileMessage(location, file), options);
    this.name = 'ModelFileNotFoundError';
  }
}

function missingFileMessage(location: string, file: string): string {
  const where = isS3Location(location)
    ? `s3://${s3KeyOf(location, file).bucket}/${s3KeyOf(location, file).key}`
    : path.join(path.resolve(location), file);
  return (
    `BERT model file not found: ${where}. Run \`bash infra/scripts/install-bert.sh\` to install the ` +
    'default all-MiniLM-L6-v2, or set the bert `model` option to a folder or s3:// prefix that ' +
    `holds ${CONFIG_FILE}, ${VOCABULARY_FILE} and ${WEIGHTS_FILE} of a BERT model.`
  );
}

/**
 * Reads one file of a model location. An `s3://` location is read through `context.storage`,
 * from the bucket that the location names. Returns undefined for a missing optional file. For a
 * missing required file, throws an error that names the file and how to supply a model.
 */
export async function readModelFile(
  location: string,
  file: string,
  context: EmbeddingContext | undefined,
  optional = false,
): Promise<Buffer | undefined> {
  if (isS3Location(location)) {
    const storage = context?.storage;
    if (!storage) {
      throw new Error(
        `BERT model location ${location} is in S3, but no object store was given to read it from`,
      );
    }
    const { bucket, key } = s3KeyOf(location, file);
    try {
      return await getBytes({ client: storage.client, bucket }, key);
    } catch (error) {
      if (!isNotFound(error)) throw error;
      if (optional) return undefined;
      throw new ModelFileNotFoundError(location, file, { cause: error });
    }
  }
  try {
    return await readFile(path.join(path.resolve(location), file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (optional) return undefined;
    throw new ModelFileNotFoundError(location, file, { cause: error });
  }
}

function parseJsonFile(buffer: Buffer, source: string): unknown {
  try {
    return JSON.parse(buffer.toString('utf8'));
  } catch (error) {
    throw new Error(`Invalid JSON in ${source}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Loads the model at a local folder or `s3://bucket/prefix`. Relative folder paths resolve
 * against the working directory.
 */
export async function loadBertModel(location: string, context?: EmbeddingContext): Promise<BertModel> {
  const where = describeModelLocation(location);
  const configBytes = (await readModelFile(location, CONFIG_FILE, context)) as Buffer;
  const config = parseBertConfig(
    parseJsonFile(configBytes, `${where}/${CONFIG_FILE}`),
    `${where}/${CONFIG_FILE}`,
  );
  const vocabulary = (await readModelFile(location, VOCABULARY_FILE, context)) as Buffer;
  const tokenizerConfig = await readModelFile(location, TOKENIZER_CONFIG_FILE, context, true);
  const settings = tokenizerConfig
    ? parseTokenizerSettings(parseJsonFile(tokenizerConfig, `${where}/${TOKENIZER_CONFIG_FILE}`))
    : {};
  const tokenizer = WordPieceTokenizer.fromVocabText(vocabulary.toString('utf8'), settings);
  const weights = (await readModelFile(location, WEIGHTS_FILE, context)) as Buffer;
  return BertModel.fromSafetensors(config, tokenizer, weights, `${where}/${WEIGHTS_FILE}`);
}

// ---------------------------------------------------------------------------------------------------------
// Weights and forward pass.

// Type aliases rather than interfaces, so that tf.tidy accepts them as tensor containers.
type LayerWeights = {
  /** Query projection, pre-scaled by 1/sqrt(head size). */
  queryKernel: tf.Tensor2D;
  queryBias: tf.Tensor1D;
  keyKernel: tf.Tensor2D;
  keyBias: tf.Tensor1D;
  valueKernel: tf.Tensor2D;
  valueBias: tf.Tensor1D;
  attentionOutputKernel: tf.Tensor2D;
  attentionOutputBias: tf.Tensor1D;
  attentionNormGamma: tf.Tensor1D;
  attentionNormBeta: tf.Tensor1D;
  intermediateKernel: tf.Tensor2D;
  intermediateBias: tf.Tensor1D;
  outputKernel: tf.Tensor2D;
  outputBias: tf.Tensor1D;
  outputNormGamma: tf.Tensor1D;
  outputNormBeta: tf.Tensor1D;
};

type ModelWeights = {
  wordEmbeddings: tf.Tensor2D;
  positionEmbeddings: tf.Tensor2D;
  /** Row 0 of the token type embeddings: every input is a single segment. */
  tokenTypeEmbedding: tf.Tensor2D;
  embeddingNormGamma: tf.Tensor1D;
  embeddingNormBeta: tf.Tensor1D;
  layers: LayerWeights[];
};

/** Resolves tensor names with or without the `bert.` prefix and checks their shapes. */
class WeightSource {
  private readonly prefix: string;

  constructor(
    private readonly tensors: Map<string, NamedTensor>,
    private readonly source: string,
  ) {
    const probe = 'embeddings.word_embeddings.weight';
    if (tensors.has(probe)) {
      this.prefix = '';
    } else if (tensors.has(`bert.${probe}`)) {
      this.prefix = 'bert.';
    } else {
      const sample = [...tensors.keys()].slice(0, 5).join(', ');
      throw new Error(
        `${source} contains no BERT encoder: no tensor ${probe} or bert.${probe} (first tensors: ${sample || 'none'})`,
      );
    }
  }

  /**
   * Returns the named tensor as a tf tensor. A LayerNorm's `weight` and `bias` may also be named
   * `gamma` and `beta`, as in checkpoints converted from TensorFlow.
   */
  take(name: string, shape: number[]): tf.Tensor {
    const tensor = this.find(name);
    if (!tensor) throw new Error(`${this.source} has no tensor ${this.prefix}${name}`);
    if (tensor.shape.length !== shape.length || tensor.shape.some((size, axis) => size !== shape[axis])) {
      throw new Error(
        `${this.source}: tensor ${this.prefix}${name} has shape [${tensor.shape.join(', ')}], ` +
          `expected [${shape.join(', ')}] from config.json`,
      );
    }
    return tf.tensor(tensor.values, shape, 'float32');
  }

  private find(name: string): NamedTensor | undefined {
    const tensor = this.tensors.get(this.prefix + name);
    if (tensor) return tensor;
    const legacy = name
      .replace(/LayerNorm\.weight$/, 'LayerNorm.gamma')
      .replace(/LayerNorm\.bias$/, 'LayerNorm.beta');
    return this.tensors.get(this.prefix + legacy);
  }
}

function buildWeights(config: BertConfig, weights: WeightSource): ModelWeights {
  const hidden = config.hiddenSize;
  const intermediate = config.intermediateSize;
  // Folding 1/sqrt(head size) into the query projection saves one multiply per attention score.
  const queryScale = 1 / Math.sqrt(hidden / config.numHeads);
  // PyTorch stores Linear weights as [out, in], so they are transposed to [in, out] kernels for x·W.
  const kernel = (name: string, outputs: number, inputs: number): tf.Tensor2D =>
    tf.transpose(weights.take(name, [outputs, inputs])) as tf.Tensor2D;
  const vector = (name: string, size: number): tf.Tensor1D => weights.take(name, [size]) as tf.Tensor1D;

  return tf.tidy(() => {
    const layers: LayerWeights[] = [];
    for (let index = 0; index < config.numLayers; index++) {
      const at = `encoder.layer.${index}.`;
      layers.push({
        queryKernel: tf.mul<tf.Tensor2D>(
          kernel(`${at}attention.self.query.weight`, hidden, hidden),
          queryScale,
        ),
        queryBias: tf.mul<tf.Tensor1D>(vector(`${at}attention.self.query.bias`, hidden), queryScale),
        keyKernel: kernel(`${at}attention.self.key.weight`, hidden, hidden),
        keyBias: vector(`${at}attention.self.key.bias`, hidden),
        valueKernel: kernel(`${at}attention.self.value.weight`, hidden, hidden),
        valueBias: vector(`${at}attention.self.value.bias`, hidden),
        attentionOutputKernel: kernel(`${at}attention.output.dense.weight`, hidden, hidden),
        attentionOutputBias: vector(`${at}attention.output.dense.bias`, hidden),
        attentionNormGamma: vector(`${at}attention.output.LayerNorm.weight`, hidden),
        attentionNormBeta: vector(`${at}attention.output.LayerNorm.bias`, hidden),
        intermediateKernel: kernel(`${at}intermediate.dense.weight`, intermediate, hidden),
        intermediateBias: vector(`${at}intermediate.dense.bias`, intermediate),
        outputKernel: kernel(`${at}output.dense.weight`, hidden, intermediate),
        outputBias: vector(`${at}output.dense.bias`, hidden),
        outputNormGamma: vector(`${at}output.LayerNorm.weight`, hidden),
        outputNormBeta: vector(`${at}output.LayerNorm.bias`, hidden),
      });
    }
    const tokenTypes = weights.take('embeddings.token_type_embeddings.weight', [
      config.typeVocabSize,
      hidden,
    ]);
    return {
      wordEmbeddings: weights.take('embeddings.word_embeddings.weight', [
        config.vocabSize,
        hidden,
      ]) as tf.Tensor2D,
      positionEmbeddings: weights.take('embeddings.position_embeddings.weight', [
        config.maxPositions,
        hidden,
      ]) as tf.Tensor2D,
      tokenTypeEmbedding: tf.slice(tokenTypes, [0, 0], [1, hidden]) as tf.Tensor2D,
      embeddingNormGamma: vector('embeddings.LayerNorm.weight', hidden),
      embeddingNormBeta: vector('embeddings.LayerNorm.bias', hidden),
      layers,
    };
  });
}

export class BertModel {
  private disposed = false;

  private constructor(
    readonly config: BertConfig,
    readonly tokenizer: WordPieceTokenizer,
    private readonly weights: ModelWeights,
  ) {}

  /** Builds the model from the bytes of model.safetensors. `source` names the file in errors. */
  static fromSafetensors(
    config: BertConfig,
    tokenizer: WordPieceTokenizer,
    safetensors: Uint8Array,
    source: string,
  ): BertModel {
    if (tokenizer.size > config.vocabSize) {
      throw new Error(
        `${source}: vocab.txt lists ${tokenizer.size} tokens, more than the model's vocab_size ${config.vocabSize}`,
      );
    }
    // Only encoder tensors are converted: position_ids, the pooler and pre-training heads are skipped.
    const content = readSafetensors(
      safetensors,
      (name) => /^(bert\.)?(embeddings|encoder)\./.test(name) && !name.endsWith('position_ids'),
    );
    const weights = buildWeights(config, new WeightSource(content.tensors, source));
    return new BertModel(config, tokenizer, weights);
  }

  /** Number of hidden states `hiddenStates` returns: the embedding output and one per layer. */
  get stateCount(): number {
    return this.config.numLayers + 1;
  }

  /**
   * Runs the encoder on `inputIds` ([batch, length] int32) with `attentionMask` ([batch, length],
   * 1 for tokens and 0 for padding) and returns the embedding output followed by every layer's
   * output, each [batch, length, hidden]. The caller disposes the returned tensors, for example
   * by calling this inside tf.tidy. Outputs at padding positions are meaningless.
   */
  hiddenStates(inputIds: tf.Tensor2D, attentionMask: tf.Tensor2D): tf.Tensor3D[] {
    if (this.disposed) throw new Error('BERT model used after dispose()');
    const [batch, length] = inputIds.shape;
    if (length > this.config.maxPositions) {
      throw new Error(
        `BERT input of ${length} tokens exceeds the model's ${this.config.maxPositions} positions`,
      );
    }
    const maskBias = tf.tidy(() =>
      tf.reshape(tf.mul(tf.sub(1, tf.cast(attentionMask, 'float32')), MASKED_SCORE), [batch, 1, 1, length]),
    );
    const states: tf.Tensor3D[] = [];
    try {
      let hidden = tf.tidy(() => this.embed(inputIds));
      states.push(hidden);
      for (const layer of this.weights.layers) {
        const input = hidden;
        hidden = tf.tidy(() => this.encoderLayer(input, layer, maskBias));
        states.push(hidden);
      }
    } catch (error) {
      tf.dispose(states);
      throw error;
    } finally {
      maskBias.dispose();
    }
    return states;
  }

  /**
   * Runs the encoder on padded id sequences and returns the sum of the last `count` hidden states
   * as [sequences.length, maxLength, hidden] values, where maxLength is the longest sequence.
   * Sequences should start with [CLS] and end with [SEP]. Positions past a sequence's end are zero.
   */
  sumLastHiddenStates(
    sequences: ReadonlyArray<readonly number[]>,
    count: number,
  ): { values: Float32Array; length: number } {
    const batch = sequences.length;
    const length = Math.max(0, ...sequences.map((ids) => ids.length));
    const hidden = this.config.hiddenSize;
    if (batch === 0 || length === 0) return { values: new Float32Array(batch * length * hidden), length };
    const ids = new Int32Array(batch * length).fill(this.tokenizer.paddingId);
    const mask = new Float32Array(batch * length);
    sequences.forEach((sequence, row) => {
      const invalid = sequence.find((id) => !Number.isInteger(id) || id < 0 || id >= this.config.vocabSize);
      if (invalid !== undefined) {
        throw new Error(
          `Invalid token id ${invalid}: expected an integer from 0 to ${this.config.vocabSize - 1}`,
        );
      }
      ids.set(sequence, row * length);
      mask.fill(1, row * length, row * length + sequence.length);
    });
    const used = Math.min(Math.max(1, count), this.stateCount);
    const summed = tf.tidy(() => {
      const states = this.hiddenStates(
        tf.tensor2d(ids, [batch, length], 'int32'),
        tf.tensor2d(mask, [batch, length]),
      );
      const sum = tf.addN(states.slice(states.length - used));
      // Padding positions are zeroed instead of keeping the states of the padding tokens.
      return tf.mul(sum, tf.tensor3d(mask, [batch, length, 1]));
    });
    const values = summed.dataSync() as Float32Array;
    summed.dispose();
    return { values, length };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    const { layers, ...embeddings } = this.weights;
    tf.dispose(Object.values(embeddings));
    for (const layer of layers) tf.dispose(Object.values(layer));
  }

  private embed(inputIds: tf.Tensor2D): tf.Tensor3D {
    const [, length] = inputIds.shape;
    const hidden = this.config.hiddenSize;
    const words = tf.gather(this.weights.wordEmbeddings, inputIds);
    const positions = tf.slice(this.weights.positionEmbeddings, [0, 0], [length, hidden]);
    const sum = tf.add(tf.add(words, positions), this.weights.tokenTypeEmbedding);
    return this.layerNorm(
      sum,
      this.weights.embeddingNormGamma,
      this.weights.embeddingNormBeta,
    ) as tf.Tensor3D;
  }

  private encoderLayer(input: tf.Tensor3D, weights: LayerWeights, maskBias: tf.Tensor): tf.Tensor3D {
    const [batch, length, hidden] = input.shape;
    const heads = this.config.numHeads;
    const headSize = hidden / heads;
    const rows = tf.reshape(input, [batch * length, hidden]);

    // Self-attention with per-head scaled dot products. Three products for queries, keys and values
    // ran faster on the WASM backend than one concatenated product followed by a split.
    const project = (kernel: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor3D =>
      tf.reshape(
        tf.transpose(
          tf.reshape(tf.fused.matMul({ a: rows, b: kernel, bias }), [batch, length, heads, headSize]),
          [0, 2, 1, 3],
        ),
        [batch * heads, length, headSize],
      );
    const query = project(weights.queryKernel, weights.queryBias);
    const key = project(weights.keyKernel, weights.keyBias);
    const value = project(weights.valueKernel, weights.valueBias);
    const scores = tf.matMul(query, key, false, true);
    const probabilities = tf.softmax(tf.add(tf.reshape(scores, [batch, heads, length, length]), maskBias));
    const context = tf.matMul(tf.reshape(probabilities, [batch * heads, length, length]), value);
    const merged = tf.reshape(
      tf.transpose(tf.reshape(context, [batch, heads, length, headSize]), [0, 2, 1, 3]),
      [batch * length, hidden],
    );
    const attended = tf.fused.matMul({
      a: merged,
      b: weights.attentionOutputKernel,
      bias: weights.attentionOutputBias,
    });
    const attention = this.layerNorm(
      tf.add(attended, rows),
      weights.attentionNormGamma,
      weights.attentionNormBeta,
    );

    // Feed-forward block.
    const intermediate = this.activate(
      tf.fused.matMul({ a: attention, b: weights.intermediateKernel, bias: weights.intermediateBias }),
    );
    const output = tf.fused.matMul({ a: intermediate, b: weights.outputKernel, bias: weights.outputBias });
    const normalized = this.layerNorm(
      tf.add(output, attention),
      weights.outputNormGamma,
      weights.outputNormBeta,
    );
    return tf.reshape(normalized, [batch, length, hidden]);
  }

  /** LayerNorm over the last axis with the biased variance, as torch.nn.LayerNorm computes it. */
  private layerNorm(x: tf.Tensor, gamma: tf.Tensor1D, beta: tf.Tensor1D): tf.Tensor {
    const mean = tf.mean(x, -1, true);
    const centered = tf.sub(x, mean);
    const variance = tf.mean(tf.square(centered), -1, true);
    const normalized = tf.mul(centered, tf.rsqrt(tf.add(variance, this.config.layerNormEps)));
    return tf.add(tf.mul(normalized, gamma), beta);
  }

  private activate(x: tf.Tensor): tf.Tensor {
    switch (this.config.hiddenAct) {
      case 'gelu':
        // GELU with the error function: x/2 * (1 + erf(x/sqrt(2))).
        return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.erf(tf.mul(x, Math.SQRT1_2))));
      case 'gelu_new':
      case 'gelu_pytorch_tanh': {
        // The tanh approximation: x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))).
        const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
        return tf.mul(tf.mul(x, 0.5), tf.add(1, tf.tanh(inner)));
      }
      case 'relu':
        return tf.relu(x);
    }
  }
}
