import type { Sequential } from '@tensorflow/tfjs';
import { Random } from '../lib/random';
import type { TensorFlow } from './backend';
import type { GanConfig } from './config';
import { buildDiscriminator } from './gan';

/** Encoded texts for the classifier: row-major [count, seqLen, inputSize]. */
export interface EncodedTexts {
  values: Float32Array;
  count: number;
}

export interface ClassifierTraining {
  epochs: number;
  batchSize: number;
  learningRate: number;
  seed: number;
}

function concatenate(first: Float32Array, second: Float32Array): Float32Array {
  const joined = new Float32Array(first.length + second.length);
  joined.set(first, 0);
  joined.set(second, first.length);
  return joined;
}

/**
 * Trains a fresh discriminator-architecture classifier (new weights, seeded) to tell real texts
 * (label 1) from generated ones (label 0), with Adam and binary cross-entropy. This is the
 * classifier two-sample test: scored on held-out texts, accuracy near 0.5 means the generated
 * texts are indistinguishable from real ones to this model.
 *
 * Both sets must be encoded the same way (generated texts decoded to words and encoded again), so
 * the classifier judges the words and not the generator's raw continuous output.
 */
export async function trainTwoSampleClassifier(
  tf: TensorFlow,
  config: GanConfig,
  inputSize: number,
  real: EncodedTexts,
  fake: EncodedTexts,
  training: ClassifierTraining,
): Promise<Sequential> {
  const random = Random.fromSeed(training.seed);
  const model = buildDiscriminator(tf, config, inputSize, random);
  model.compile({ optimizer: tf.train.adam(training.learningRate), loss: 'binaryCrossentropy' });
  const count = real.count + fake.count;
  const order = random.shuffle(Array.from({ length: count }, (_, index) => index));
  const stride = config.seqLen * inputSize;
  const allValues = concatenate(real.values, fake.values);
  const values = new Float32Array(count * stride);
  const labels = new Float32Array(count);
  order.forEach((source, target) => {
    values.set(allValues.subarray(source * stride, (source + 1) * stride), target * stride);
    labels[target] = source < real.count ? 1 : 0;
  });
  const inputs = tf.tensor3d(values, [count, config.seqLen, inputSize]);
  const targets = tf.tensor2d(labels, [count, 1]);
  try {
    // Shuffled once above with the seeded generator, so fit's own unseeded shuffle stays off.
    await model.fit(inputs, targets, {
      epochs: training.epochs,
      batchSize: training.batchSize,
      shuffle: false,
      verbose: 0,
    });
  } finally {
    inputs.dispose();
    targets.dispose();
  }
  return model;
}

/** Returns the model's probability that each text is real, in batches of `batchSize`. */
export function predictReal(
  tf: TensorFlow,
  model: Sequential,
  texts: EncodedTexts,
  seqLen: number,
  inputSize: number,
  batchSize: number,
): Float32Array {
  const scores = new Float32Array(texts.count);
  const stride = seqLen * inputSize;
  for (let start = 0; start < texts.count; start += batchSize) {
    const size = Math.min(batchSize, texts.count - start);
    const batch = tf.tidy(() => {
      const input = tf.tensor3d(texts.values.subarray(start * stride, (start + size) * stride), [
        size,
        seqLen,
        inputSize,
      ]);
      return (model.predict(input) as ReturnType<TensorFlow['tensor2d']>).dataSync();
    });
    scores.set(batch, start);
  }
  return scores;
}
