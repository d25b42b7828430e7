import { beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../lib/random';
import { loadTensorFlow, type TensorFlow } from '../ml/backend';
import { resolveGanConfig, type GanConfig } from '../ml/config';
import { buildDiscriminator, buildGenerator, clipByGlobalNorm, GanTrainer, type RealBatch } from '../ml/gan';

const INPUT_SIZE = 3;

// Tiny sizes keep every test to a few seconds on one core.
const tinyConfig: GanConfig = resolveGanConfig('default', {
  seqLen: 6,
  hiddenSize: 5,
  layers: 2,
  batchSize: 4,
});

let tf: TensorFlow;

beforeAll(async () => {
  ({ tf } = await loadTensorFlow({ preferred: 'wasm' }));
});

function realBatch(cfg: GanConfig, batchSize: number, seed: number): RealBatch {
  const random = Random.fromSeed(seed);
  const values = new Float32Array(batchSize * cfg.seqLen * INPUT_SIZE).map(() => random.nextGaussian() + 1);
  const lengths = Array.from({ length: batchSize }, () => 1 + random.nextInt(cfg.seqLen));
  return { values, lengths };
}

function mean(values: ArrayLike<number>): number {
  return Array.from(values).reduce((a, b) => a + b, 0) / values.length;
}

function globalNorm(arrays: ArrayLike<number>[]): number {
  let sum = 0;
  for (const array of arrays) {
    for (let i = 0; i < array.length; i++) sum += (array[i] ?? 0) ** 2;
  }
  return Math.sqrt(sum);
}

describe('network shapes', () => {
  it('generator maps noise to sequences', () => {
    const generator = buildGenerator(tf, tinyConfig, INPUT_SIZE, Random.fromSeed(1));
    const output = tf.tidy(() => generator.predict(tf.randomNormal([2, tinyConfig.seqLen, INPUT_SIZE])));
    expect((output as { shape: number[] }).shape).toEqual([2, tinyConfig.seqLen, INPUT_SIZE]);
    tf.dispose(output);
    generator.dispose();
  });

  it('discriminator returns one probability per sample', () => {
    const discriminator = buildDiscriminator(tf, tinyConfig, INPUT_SIZE, Random.fromSeed(1));
    const output = tf.tidy(() => discriminator.predict(tf.randomNormal([3, tinyConfig.seqLen, INPUT_SIZE])));
    const tensor = output as unknown as { shape: number[]; dataSync(): Float32Array };
    expect(tensor.shape).toEqual([3, 1]);
    for (const value of tensor.dataSync()) {
      expect(value).toBeGreaterThan(0);
      expect(value).toBeLessThan(1);
    }
    tf.dispose(output);
    discriminator.dispose();
  });

  it('generate and score cover partial batches', () => {
    const trainer = new GanTrainer(tf, tinyConfig, INPUT_SIZE, { seed: 2 });
    const samples = trainer.generate(7, Random.fromSeed(5));
    expect(samples).toHaveLength(7 * tinyConfig.seqLen * INPUT_SIZE);
    expect(samples.every(Number.isFinite)).toBe(true);
    const scores = trainer.score({ values: samples, lengths: [1, 2, 3, 4, 5, 6, 6] });
    expect(scores).toHaveLength(7);
    for (const value of scores) {
      expect(value).toBeGreaterThan(0);
      expect(value).toBeLessThan(1);
    }
    trainer.dispose();
  });

  it('score ignores values after each length', () => {
    const trainer = new GanTrainer(tf, tinyConfig, INPUT_SIZE, { seed: 3 });
    const batch = realBatch(tinyConfig, 4, 11);
    const lengths = [2, 3, 6, 1];
    const padded = batch.values.slice();
    lengths.forEach((length, row) => {
      const start = (row * tinyConfig.seqLen + length) * INPUT_SIZE;
      padded.fill(100, start, (row + 1) * tinyConfig.seqLen * INPUT_SIZE);
    });
    const clean = trainer.score({ values: batch.values, lengths });
    const dirty = trainer.score({ values: padded, lengths });
    expect(Array.from(dirty)).toEqual(Array.from(clean));
    trainer.dispose();
  });

  it('trainStep rejects invalid lengths', () => {
    const trainer = new GanTrainer(tf, tinyConfig, INPUT_SIZE, { seed: 4 });
    const batch = realBatch(tinyConfig, 4, 12);
    expect(() => trainer.trainStep({ values: batch.values, lengths: [1, 2, 3, 7] })).toThrow(/lengths\[3\]/);
    expect(() => trainer.trainStep({ values: batch.values.subarray(1) })).toThrow(/whole number of samples/);
    trainer.dispose();
  });
});

describe('objective', () => {
  // No dropout and no momentum, so one step follows the plain gradient of the loss. The learning
  // rate is large so that the change in D(G(z)) (about 1e-3 here) is far above float32 rounding.
  const cfg = { ...tinyConfig, dropout: 0, momentum: 0, learningRate: 5, clipNorm: 1e6 };

  function meanFakeScoreChange(objective: GanConfig['objective']): number {
    const trainer = new GanTrainer(tf, { ...cfg, objective }, INPUT_SIZE, { seed: 21 });
    // One discriminator update moves D away from its initial constant 0.5 without saturating it.
    const { values } = realBatch(cfg, cfg.batchSize, 100);
    trainer.trainDiscriminator({ values });
    const before = mean(trainer.score({ values: trainer.generate(64, Random.fromSeed(9)) }));
    trainer.trainGenerator(64);
    const after = mean(trainer.score({ values: trainer.generate(64, Random.fromSeed(9)) }));
    trainer.dispose();
    return after - before;
  }

  it('standard generator step raises D(G(z))', () => {
    expect(meanFakeScoreChange('standard')).toBeGreaterThan(1e-4);
  });

  it('study generator step lowers D(G(z))', () => {
    expect(meanFakeScoreChange('study')).toBeLessThan(-1e-4);
  });
});

describe('gradient clipping', () => {
  it('clipByGlobalNorm scales large gradients to maxNorm', () => {
    const gradients = [tf.tensor1d([30, 40]), tf.tensor2d([[0, 120]])];
    const { clipped, globalNorm: norm } = clipByGlobalNorm(tf, gradients, 13);
    expect(norm.dataSync()[0]).toBeCloseTo(130, 3);
    const clippedNorm = globalNorm(clipped.map((tensor) => tensor.dataSync()));
    expect(clippedNorm).toBeLessThanOrEqual(13);
    expect(clippedNorm).toBeCloseTo(13, 3);
    expect(Array.from(clipped[0]?.dataSync() ?? [])).toEqual([expect.closeTo(3, 4), expect.closeTo(4, 4)]);
    tf.dispose([...gradients, ...clipped, norm]);
  });

  it('clipByGlobalNorm keeps small gradients', () => {
    const gradients = [tf.tensor1d([0.3, 0.4])];
    const { clipped, globalNorm: norm } = clipByGlobalNorm(tf, gradients, 1);
    expect(Array.from(clipped[0]?.dataSync() ?? [])).toEqual([
      expect.closeTo(0.3, 5),
      expect.closeTo(0.4, 5),
    ]);
    tf.dispose([...gradients, ...clipped, norm]);
  });

  it('trainer update norm stays within clipNorm', () => {
    const clipNorm = 0.01;
    const learningRate = 1;
    const trainer = new GanTrainer(tf, { ...tinyConfig, clipNorm, learningRate }, INPUT_SIZE, { seed: 31 });
    const weightsBefore = trainer.generator.getWeights().map((tensor) => tensor.dataSync().slice());
    const { gGradNorm } = trainer.trainGenerator(8);
    const weightsAfter = trainer.generator.getWeights().map((tensor) => tensor.dataSync().slice());
    // Momentum accumulators start at zero, so the first update is learningRate * clipped gradient.
    const update = weightsAfter.map((after, i) =>
      after.map((value, j) => value - (weightsBefore[i]?.[j] ?? 0)),
    );
    expect(gGradNorm).toBeGreaterThan(clipNorm);
    expect(globalNorm(update)).toBeLessThanOrEqual(learningRate * clipNorm * 1.001);
    expect(globalNorm(update)).toBeGreaterThan(learningRate * clipNorm * 0.99);
    trainer.dispose();
  });
});

describe('tensor memory', () => {
  it('live tensor count is stable over 50 steps', () => {
    const trainer = new GanTrainer(tf, tinyConfig, INPUT_SIZE, { seed: 41 });
    trainer.trainStep(realBatch(tinyConfig, tinyConfig.batchSize, 0));
    const afterOneStep = tf.memory().numTensors;
    for (let step = 1; step < 50; step++) {
      trainer.trainStep(realBatch(tinyConfig, tinyConfig.batchSize, step));
    }
    expect(tf.memory().numTensors).toBe(afterOneStep);
    trainer.generate(9);
    trainer.score(realBatch(tinyConfig, 5, 99));
    expect(tf.memory().numTensors).toBe(afterOneStep);
    expect(trainer.history).toHaveLength(50);
    expect(trainer.progress).toEqual({ step: 50, epoch: 0, batch: 50 });
    trainer.dispose();
  });

  it('dispose releases every trainer tensor', () => {
    const before = tf.memory().numTensors;
    const trainer = new GanTrainer(tf, tinyConfig, INPUT_SIZE, { seed: 42 });
    trainer.trainStep(realBatch(tinyConfig, tinyConfig.batchSize, 0));
    trainer.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});
