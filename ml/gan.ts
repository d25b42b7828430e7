import type { MomentumOptimizer, Sequential, Tensor, Variable } from '@tensorflow/tfjs';
import { Random, type RandomState } from '../lib/random';
import type { TensorFlow } from './backend';
import { ganConfigSchema, type GanConfig } from './config';

const LEAKY_RELU_ALPHA = 0.2;

type Layer = Sequential['layers'][number];
type Initializer = ReturnType<TensorFlow['initializers']['glorotUniform']>;

/**
 * Builds the generator: noise [batch, seqLen, inputSize] -> `cfg.layers` stacked LSTMs over the
 * time axis, each returning its whole sequence -> flatten to [batch, seqLen * hiddenSize] ->
 * linear dense layer with seqLen * inputSize units -> reshape to [batch, seqLen, inputSize].
 * The output is unbounded because embedding vectors are.
 *
 * With `random`, every initializer is seeded from it, so equal seeds give equal weights;
 * without it, tfjs draws unseeded initial weights.
 */
export function buildGenerator(
  tf: TensorFlow,
  cfg: GanConfig,
  inputSize: number,
  random?: Random,
): Sequential {
  validateInputSize(inputSize);
  const model = tf.sequential({ name: 'generator' });
  for (let i = 1; i <= cfg.layers; i++) {
    model.add(
      tf.layers.lstm({
        name: `generator_lstm_${i}`,
        units: cfg.hiddenSize,
        returnSequences: true,
        ...(i === 1 ? { inputShape: [cfg.seqLen, inputSize] } : {}),
        ...lstmInitializers(tf, random),
      }),
    );
  }
  model.add(tf.layers.flatten({ name: 'generator_flatten' }));
  model.add(
    tf.layers.dense({
      name: 'generator_dense',
      units: cfg.seqLen * inputSize,
      kernelInitializer: glorotUniform(tf, random),
    }),
  );
  model.add(tf.layers.reshape({ name: 'generator_reshape', targetShape: [cfg.seqLen, inputSize] }));
  return model;
}

/**
 * Builds the discriminator: [batch, seqLen, inputSize] -> `cfg.layers` stacked LSTMs with
 * dropout between them -> the last LSTM's output at the final time step -> dense to hiddenSize ->
 * LeakyReLU(0.2) -> dropout -> dense to one logit -> sigmoid. Output: [batch, 1] in (0, 1), the
 * probability that a sample is real.
 *
 * Like PyTorch's `nn.LSTM(dropout=...)`, dropout follows every LSTM layer except the last.
 * `model.predict` ignores dropout and reads the last time step. The trainer runs the layers one by
 * one instead, so that it can apply seeded dropout masks and read each sample at its own length.
 */
export function buildDiscriminator(
  tf: TensorFlow,
  cfg: GanConfig,
  inputSize: number,
  random?: Random,
): Sequential {
  validateInputSize(inputSize);
  const model = tf.sequential({ name: 'discriminator' });
  for (let i = 1; i <= cfg.layers; i++) {
    const isLast = i === cfg.layers;
    model.add(
      tf.layers.lstm({
        name: `discriminator_lstm_${i}`,
        units: cfg.hiddenSize,
        returnSequences: !isLast,
        ...(i === 1 ? { inputShape: [cfg.seqLen, inputSize] } : {}),
        ...lstmInitializers(tf, random),
      }),
    );
    if (!isLast) model.add(tf.layers.dropout({ name: `discriminator_dropout_${i}`, rate: cfg.dropout }));
  }
  model.add(
    tf.layers.dense({
      name: 'discriminator_hidden',
      units: cfg.hiddenSize,
      kernelInitializer: glorotUniform(tf, random),
    }),
  );
  model.add(tf.layers.leakyReLU({ name: 'discriminator_leaky_relu', alpha: LEAKY_RELU_ALPHA }));
  model.add(tf.layers.dropout({ name: 'discriminator_dropout_hidden', rate: cfg.dropout }));
  model.add(
    tf.layers.dense({ name: 'discriminator_logit', units: 1, kernelInitializer: glorotUniform(tf, random) }),
  );
  // The sigmoid is a layer of its own so that training can stop one layer early and compute the
  // cross-entropy from logits, which stays finite where sigmoid saturates to 0 or 1.
  model.add(tf.layers.activation({ name: 'discriminator_sigmoid', activation: 'sigmoid' }));
  return model;
}

function validateInputSize(inputSize: number): void {
  if (!Number.isInteger(inputSize) || inputSize < 1) {
    throw new RangeError(`inputSize must be a positive integer (features per token), got ${inputSize}`);
  }
}

function lstmInitializers(
  tf: TensorFlow,
  random: Random | undefined,
): { kernelInitializer?: Initializer; recurrentInitializer?: Initializer } {
  if (random === undefined) return {};
  return {
    kernelInitializer: tf.initializers.glorotUniform({ seed: random.nextUint32() }),
    recurrentInitializer: tf.initializers.orthogonal({ seed: random.nextUint32() }),
  };
}

function glorotUniform(tf: TensorFlow, random: Random | undefined): Initializer | undefined {
  return random === undefined ? undefined : tf.initializers.glorotUniform({ seed: random.nextUint32() });
}

/** A batch of real samples. */
export interface RealBatch {
  /** Row-major [batch, seqLen, inputSize] embedding values. */
  values: Float32Array;
  /**
   * Tokens per sample before padding, each an integer in [1, seqLen]. The discriminator reads
   * every sample at its last real token, so padding never reaches its output. Omitted: every
   * sample fills all seqLen steps.
   */
  lengths?: ArrayLike<number>;
}

export interface StepResult {
  /** Discriminator binary cross-entropy: mean over real samples plus mean over fake samples. */
  dLoss: number;
  /** Generator loss of the configured objective. */
  gLoss: number;
  /** Mean D(x) over the real batch during the discriminator update, in (0, 1). */
  dRealScore: number;
  /** Mean D(G(z)) over the fake batch during the discriminator update, in (0, 1). */
  dFakeScore: number;
  /** Global L2 norm of the discriminator gradient before clipping. */
  dGradNorm: number;
  /** Global L2 norm of the generator gradient before clipping. */
  gGradNorm: number;
}

export interface StepRecord extends StepResult {
  /** Steps completed before this one, over all epochs. */
  step: number;
  epoch: number;
  /** Index of this step within its epoch. */
  batch: number;
}

/** Position of the training run, counted in completed units. */
export interface TrainingProgress {
  /** Training steps completed over all epochs. */
  step: number;
  /** Index of the current epoch, starting at 0. */
  epoch: number;
  /** Training steps completed in the current epoch. */
  batch: number;
}

export interface GanTrainerOptions {
  /** Seed of the trainer's random stream, which also draws the initial weights. */
  seed: number;
  /** Replaces the random stream's state after the models are built, for resuming a checkpoint. */
  randomState?: RandomState;
  progress?: TrainingProgress;
  history?: StepRecord[];
}

/**
 * Trains a generator and a discriminator built from one config. Every random draw (initial
 * weights, noise, dropout masks) comes from one seeded `Random`, so two trainers with equal seeds
 * on the same backend produce identical runs, and a checkpoint that stores the random state
 * resumes one exactly.
 *
 * The trainer owns its models and optimizers; call `dispose()` to release their tensors.
 */
export class GanTrainer {
  readonly config: GanConfig;
  readonly inputSize: number;
  readonly seed: number;
  readonly generator: Sequential;
  readonly discriminator: Sequential;
  readonly generatorOptimizer: MomentumOptimizer;
  readonly discriminatorOptimizer: MomentumOptimizer;
  progress: TrainingProgress;
  readonly history: StepRecord[];
  private random: Random;
  private readonly tf: TensorFlow;

  constructor(tf: TensorFlow, config: GanConfig, inputSize: number, options: GanTrainerOptions) {
    this.tf = tf;
    this.config = ganConfigSchema.parse(config);
    this.inputSize = inputSize;
    this.seed = options.seed;
    this.random = Random.fromSeed(options.seed);
    this.generator = buildGenerator(tf, this.config, inputSize, this.random);
    this.discriminator = buildDiscriminator(tf, this.config, inputSize, this.random);
    this.generatorOptimizer = tf.train.momentum(this.config.learningRate, this.config.momentum);
    this.discriminatorOptimizer = tf.train.momentum(this.config.learningRate, this.config.momentum);
    if (options.randomState !== undefined) this.random = Random.fromState(options.randomState);
    this.progress = { ...(options.progress ?? { step: 0, epoch: 0, batch: 0 }) };
    this.history = [...(options.history ?? [])];
  }

  /** State of the trainer's random stream, for checkpoints. */
  randomState(): RandomState {
    return this.random.state();
  }

  /**
   * Runs one discriminator update and then one generator update, and appends the result to
   * `history`. Fake samples take the real batch's lengths, so the discriminator cannot tell
   * them apart by length.
   */
  trainStep(batch: RealBatch): StepResult {
    const discriminatorResult = this.trainDiscriminator(batch);
    const batchSize = batch.values.length / (this.config.seqLen * this.inputSize);
    const generatorResult = this.trainGenerator(batchSize, batch.lengths);
    const result = { ...discriminatorResult, ...generatorResult };
    this.history.push({
      step: this.progress.step,
      epoch: this.progress.epoch,
      batch: this.progress.batch,
      ...result,
    });
    this.progress = { ...this.progress, step: this.progress.step + 1, batch: this.progress.batch + 1 };
    return result;
  }

  /**
   * Updates the discriminator once on `batch` and as many generated samples, which take the
   * real samples' lengths. Leaves `progress` and `history` unchanged.
   */
  trainDiscriminator(
    batch: RealBatch,
  ): Pick<StepResult, 'dLoss' | 'dRealScore' | 'dFakeScore' | 'dGradNorm'> {
    const tf = this.tf;
    const { seqLen } = this.config;
    const batchSize = batchSizeOf(batch.values, seqLen, this.inputSize);
    const lengths =
      batch.lengths === undefined ? undefined : validateLengths(batch.lengths, batchSize, seqLen);
    const summary = tf.tidy(() => {
      const real = tf.tensor3d(batch.values, [batchSize, seqLen, this.inputSize]);
      const lengthMask = lengths === undefined ? null : lengthMaskTensor(tf, lengths, seqLen);
      return this.updateDiscriminator(real, lengthMask);
    });
    const [dLoss, dRealScore, dFakeScore, dGradNorm] = readAndDispose(summary);
    return definedNumbers({ dLoss, dRealScore, dFakeScore, dGradNorm });
  }

  /**
   * Updates the generator once on `batchSize` fresh noise samples, read by the discriminator at
   * `lengths` (default: all seqLen steps). Leaves `progress` and `history` unchanged.
   */
  trainGenerator(batchSize: number, lengths?: ArrayLike<number>): Pick<StepResult, 'gLoss' | 'gGradNorm'> {
    const tf = this.tf;
    if (!Number.isInteger(batchSize) || batchSize < 1) {
      throw new RangeError(`batchSize must be a positive integer, got ${batchSize}`);
    }
    const checkedLengths =
      lengths === undefined ? undefined : validateLengths(lengths, batchSize, this.config.seqLen);
    const summary = tf.tidy(() => {
      const lengthMask =
        checkedLengths === undefined ? null : lengthMaskTensor(tf, checkedLengths, this.config.seqLen);
      return this.updateGenerator(batchSize, lengthMask);
    });
    const [gLoss, gGradNorm] = readAndDispose(summary);
    return definedNumbers({ gLoss, gGradNorm });
  }

  /** Moves the progress counters to the start of the next epoch. */
  finishEpoch(): void {
    this.progress = { ...this.progress, epoch: this.progress.epoch + 1, batch: 0 };
  }

  /**
   * Generates `count` samples as row-major [count, seqLen, inputSize] values, `batchSize` at a
   * time. The noise comes from `random`, which defaults to the trainer's own stream. Pass a
   * separate `Random` to sample during training without changing the rest of the run.
   */
  generate(count: number, random: Random = this.random): Float32Array {
    return generateSamples(this.tf, this.generator, this.config, this.inputSize, count, random);
  }

  /** Returns D(x) in (0, 1) for each sample of `batch`, with dropout off. */
  score(batch: RealBatch): Float32Array {
    return scoreSamples(this.tf, this.discriminator, this.config, this.inputSize, batch);
  }

  /** Releases the weights of both networks and the optimizers' momentum accumulators. */
  dispose(): void {
    this.generator.dispose();
    this.discriminator.dispose();
    for (const optimizer of [this.generatorOptimizer, this.discriminatorOptimizer]) {
      optimizer.dispose();
      // MomentumOptimizer.dispose in tfjs-core 4.22 skips SGDOptimizer.dispose, which releases the
      // learning-rate scalar. Disposing a tensor twice is a no-op, so this stays safe after a fix.
      this.tf.SGDOptimizer.prototype.dispose.call(optimizer);
    }
  }

  /** Returns [dLoss, dRealScore, dFakeScore, dGradNorm]. Call inside `tf.tidy`. */
  private updateDiscriminator(real: Tensor, lengthMask: Tensor | null): Tensor {
    const tf = this.tf;
    const batchSize = real.shape[0] ?? 0;
    const noise = noiseTensor(
      tf,
      this.random,
      [batchSize, this.config.seqLen, this.inputSize],
      this.config.noise,
    );
    const fake = this.generator.apply(noise) as Tensor;
    const both = tf.concat([real, fake]);
    const bothMask = lengthMask === null ? null : tf.concat([lengthMask, lengthMask]);
    const dropout = this.dropoutMasks(2 * batchSize);
    const variables = trainableVariables(this.discriminator);

    const scores: Tensor[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const logits = discriminatorLogits(this.discriminator, both, bothMask, dropout);
      const [realLogits, fakeLogits] = tf.split(logits, 2);
      if (realLogits === undefined || fakeLogits === undefined) {
        throw new Error('split returned fewer than 2 parts');
      }
      // Binary cross-entropy from logits: -log sigmoid(x) = softplus(-x), -log(1 - sigmoid(x)) = softplus(x).
      const realLoss = tf.mean(tf.softplus(tf.neg(realLogits)));
      const fakeLoss = tf.mean(tf.softplus(fakeLogits));
      scores.push(tf.keep(tf.stack([tf.mean(tf.sigmoid(realLogits)), tf.mean(tf.sigmoid(fakeLogits))])));
      return tf.add(realLoss, fakeLoss);
    }, variables);

    const gradNorm = this.applyClipped(this.discriminatorOptimizer, variables, grads);
    const scoresTensor = scores[0];
    if (scoresTensor === undefined) throw new Error('discriminator scores were not recorded');
    const out = tf.concat([tf.reshape(value, [1]), scoresTensor, tf.reshape(gradNorm, [1])]);
    scoresTensor.dispose();
    return out;
  }

  /** Returns [gLoss, gGradNorm]. Call inside `tf.tidy`. */
  private updateGenerator(batchSize: number, lengthMask: Tensor | null): Tensor {
    const tf = this.tf;
    const noise = noiseTensor(
      tf,
      this.random,
      [batchSize, this.config.seqLen, this.inputSize],
      this.config.noise,
    );
    const dropout = this.dropoutMasks(batchSize);
    const variables = trainableVariables(this.generator);

    const { value, grads } = tf.variableGrads(() => {
      const fake = this.generator.apply(noise) as Tensor;
      const logits = discriminatorLogits(this.discriminator, fake, lengthMask, dropout);
      if (this.config.objective === 'standard') {
        // Non-saturating loss -log D(G(z)): binary cross-entropy toward the label "real".
        return tf.mean(tf.softplus(tf.neg(logits)));
      }
      // The study's loss: mean squared error between D(G(z)) and 0, the label "fake".
      return tf.mean(tf.square(tf.sigmoid(logits)));
    }, variables);

    const gradNorm = this.applyClipped(this.generatorOptimizer, variables, grads);
    return tf.concat([tf.reshape(value, [1]), tf.reshape(gradNorm, [1])]);
  }

  /**
   * Clips the gradients to `clipNorm` by their global norm and applies them in the order of
   * `variables`. MomentumOptimizer matches accumulators to gradients by position, so this fixed
   * order is what lets a checkpoint restore the accumulators into new models.
   */
  private applyClipped(
    optimizer: MomentumOptimizer,
    variables: Variable[],
    grads: Record<string, Tensor>,
  ): Tensor {
    const ordered = variables.map((variable) => {
      const gradient = grads[variable.name];
      if (gradient === undefined) throw new Error(`no gradient reached variable ${variable.name}`);
      return gradient;
    });
    const { clipped, globalNorm } = clipByGlobalNorm(this.tf, ordered, this.config.clipNorm);
    optimizer.applyGradients(
      variables.map((variable, i) => ({ name: variable.name, tensor: clipped[i] as Tensor })),
    );
    return globalNorm;
  }

  /** Draws one inverted-dropout mask per dropout layer of the discriminator. */
  private dropoutMasks(batchSize: number): Map<Layer, Tensor> {
    const masks = new Map<Layer, Tensor>();
    const { dropout } = this.config;
    if (dropout === 0) return masks;
    for (const layer of this.discriminator.layers) {
      if (layer.getClassName() !== 'Dropout') continue;
      const shape = layer.outputShape as (number | null)[];
      const featureShape = shape.slice(1) as number[];
      masks.set(layer, dropoutMaskTensor(this.tf, this.random, [batchSize, ...featureShape], dropout));
    }
    return masks;
  }
}

/**
 * Scales `gradients` so that their joint L2 norm is at most `maxNorm`, like PyTorch's
 * `clip_grad_norm_`: the factor is min(1, maxNorm / (norm + 1e-6)). Returns new tensors that the
 * caller owns, and the norm before clipping.
 */
export function clipByGlobalNorm(
  tf: TensorFlow,
  gradients: Tensor[],
  maxNorm: number,
): { clipped: Tensor[]; globalNorm: Tensor } {
  return tf.tidy(() => {
    const squares = gradients.map((gradient) => tf.sum(tf.square(gradient)));
    const globalNorm = tf.sqrt(squares.length === 1 ? (squares[0] as Tensor) : tf.addN(squares));
    const factor = tf.minimum(1, tf.div(maxNorm, tf.add(globalNorm, 1e-6)));
    return { clipped: gradients.map((gradient) => tf.mul(gradient, factor)), globalNorm };
  });
}

/**
 * Generates `count` samples with `generator` as row-major [count, seqLen, inputSize] values,
 * drawing noise from `random` and running `cfg.batchSize` samples at a time.
 */
export function generateSamples(
  tf: TensorFlow,
  generator: Sequential,
  cfg: GanConfig,
  inputSize: number,
  count: number,
  random: Random,
): Float32Array {
  if (!Number.isInteger(count) || count < 0)
    throw new RangeError(`count must be a non-negative integer, got ${count}`);
  const sampleSize = cfg.seqLen * inputSize;
  const out = new Float32Array(count * sampleSize);
  for (let start = 0; start < count; start += cfg.batchSize) {
    const size = Math.min(cfg.batchSize, count - start);
    const values = tf.tidy(() => {
      const noise = noiseTensor(tf, random, [size, cfg.seqLen, inputSize], cfg.noise);
      return (generator.apply(noise) as Tensor).dataSync();
    });
    out.set(values, start * sampleSize);
  }
  return out;
}

/**
 * Returns the discriminator's probability in (0, 1) that each sample of `batch` is real, reading
 * each sample at its length, with dropout off. Runs `cfg.batchSize` samples at a time.
 */
export function scoreSamples(
  tf: TensorFlow,
  discriminator: Sequential,
  cfg: GanConfig,
  inputSize: number,
  batch: RealBatch,
): Float32Array {
  const count = batchSizeOf(batch.values, cfg.seqLen, inputSize);
  const lengths = batch.lengths === undefined ? undefined : validateLengths(batch.lengths, count, cfg.seqLen);
  const sampleSize = cfg.seqLen * inputSize;
  const out = new Float32Array(count);
  for (let start = 0; start < count; start += cfg.batchSize) {
    const size = Math.min(cfg.batchSize, count - start);
    const scores = tf.tidy(() => {
      const values = batch.values.subarray(start * sampleSize, (start + size) * sampleSize);
      const x = tf.tensor3d(values, [size, cfg.seqLen, inputSize]);
      const mask =
        lengths === undefined
          ? null
          : lengthMaskTensor(tf, lengths.subarray(start, start + size), cfg.seqLen);
      return tf.sigmoid(discriminatorLogits(discriminator, x, mask, new Map())).dataSync();
    });
    out.set(scores, start);
  }
  return out;
}

/**
 * Runs the discriminator up to its final sigmoid and returns logits of shape [batch, 1].
 * `lengthMask` ([batch, seqLen], 1 for real tokens) makes every LSTM carry its state unchanged
 * over padding, so the last LSTM's output is the one at each sample's last real token.
 * Dropout layers multiply by their mask in `dropout` and are skipped when it has none.
 */
function discriminatorLogits(
  discriminator: Sequential,
  input: Tensor,
  lengthMask: Tensor | null,
  dropout: Map<Layer, Tensor>,
): Tensor {
  const layers = discriminator.layers;
  const last = layers[layers.length - 1];
  if (last?.getClassName() !== 'Activation') {
    throw new Error(
      'discriminator must end with its sigmoid Activation layer; build it with buildDiscriminator',
    );
  }
  let output = input;
  for (const layer of layers.slice(0, -1)) {
    const className = layer.getClassName();
    if (className === 'Dropout') {
      const mask = dropout.get(layer);
      if (mask !== undefined) output = output.mul(mask);
    } else if (className === 'LSTM' && lengthMask !== null) {
      output = layer.apply(output, { mask: lengthMask }) as Tensor;
    } else {
      output = layer.apply(output) as Tensor;
    }
  }
  return output;
}

function trainableVariables(model: Sequential): Variable[] {
  // LayerVariable.read() is typed as Tensor but returns the backing tf.Variable.
  return model.trainableWeights.map((weight) => weight.read() as Variable);
}

/** Standard normal or U[-1, 1) noise of the given shape. */
function noiseTensor(tf: TensorFlow, random: Random, shape: number[], noise: GanConfig['noise']): Tensor {
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) {
    values[i] = noise === 'normal' ? random.nextGaussian() : 2 * random.next() - 1;
  }
  return tf.tensor(values, shape);
}

/** Inverted-dropout mask: 0 with probability `rate`, otherwise 1 / (1 - rate). */
function dropoutMaskTensor(tf: TensorFlow, random: Random, shape: number[], rate: number): Tensor {
  const keepScale = 1 / (1 - rate);
  const values = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < values.length; i++) {
    values[i] = random.next() < rate ? 0 : keepScale;
  }
  return tf.tensor(values, shape);
}

/** [batch, seqLen] float mask with 1 where the time step contains a real token. */
function lengthMaskTensor(tf: TensorFlow, lengths: Int32Array, seqLen: number): Tensor {
  const values = new Float32Array(lengths.length * seqLen);
  lengths.forEach((length, row) => values.fill(1, row * seqLen, row * seqLen + length));
  return tf.tensor2d(values, [lengths.length, seqLen]);
}

function batchSizeOf(values: Float32Array, seqLen: number, inputSize: number): number {
  const sampleSize = seqLen * inputSize;
  if (values.length === 0 || values.length % sampleSize !== 0) {
    throw new RangeError(
      `batch values must contain a whole number of samples of seqLen * inputSize = ${seqLen} * ${inputSize} ` +
        `floats, got ${values.length}`,
    );
  }
  return values.length / sampleSize;
}

function validateLengths(lengths: ArrayLike<number>, batchSize: number, seqLen: number): Int32Array {
  if (lengths.length !== batchSize) {
    throw new RangeError(`lengths must have one entry per sample (${batchSize}), got ${lengths.length}`);
  }
  const out = new Int32Array(batchSize);
  for (let i = 0; i < batchSize; i++) {
    const length = lengths[i] as number;
    if (!Number.isInteger(length) || length < 1 || length > seqLen) {
      throw new RangeError(`lengths[${i}] must be an integer in [1, ${seqLen}], got ${length}`);
    }
    out[i] = length;
  }
  return out;
}

function readAndDispose(tensor: Tensor): number[] {
  const values = Array.from(tensor.dataSync());
  tensor.dispose();
  return values;
}

function definedNumbers<T extends Record<string, number | undefined>>(values: T): { [K in keyof T]: number } {
  for (const [key, value] of Object.entries(values)) {
    if (value === undefined) throw new Error(`training step summary is missing ${key}`);
  }
  return values as { [K in keyof T]: number };
}
