import { beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../lib/random';
import { loadTensorFlow, type TensorFlow } from '../ml/backend';
import { loadNetwork, loadTrainerCheckpoint, saveNetwork, saveTrainerCheckpoint } from '../ml/checkpoint';
import { resolveGanConfig, type GanConfig } from '../ml/config';
import { GanTrainer, generateSamples, type RealBatch } from '../ml/gan';

const INPUT_SIZE = 3;

// Dropout stays on so that the round trip also covers the random stream that draws its masks.
const tinyConfig: GanConfig = resolveGanConfig('default', {
  seqLen: 5,
  hiddenSize: 4,
  layers: 2,
  batchSize: 4,
  learningRate: 0.05,
});

let tf: TensorFlow;

beforeAll(async () => {
  ({ tf } = await loadTensorFlow({ preferred: 'wasm' }));
});

/** Returns the real batch of training step `step`, equal for every trainer. */
function batchForStep(step: number): RealBatch {
  const random = Random.fromSeed(1000 + step);
  const values = new Float32Array(tinyConfig.batchSize * tinyConfig.seqLen * INPUT_SIZE).map(() =>
    random.nextGaussian(),
  );
  const lengths = Array.from({ length: tinyConfig.batchSize }, () => 1 + random.nextInt(tinyConfig.seqLen));
  return { values, lengths };
}

function trainSteps(trainer: GanTrainer, count: number): void {
  for (let i = 0; i < count; i++) trainer.trainStep(batchForStep(trainer.progress.step));
}

async function optimizerState(trainer: GanTrainer): Promise<number[][]> {
  const out: number[][] = [];
  for (const optimizer of [trainer.generatorOptimizer, trainer.discriminatorOptimizer]) {
    const [iterations, ...accumulators] = await optimizer.getWeights();
    out.push([iterations?.tensor.dataSync()[0] ?? -1]);
    iterations?.tensor.dispose();
    for (const accumulator of accumulators) out.push(Array.from(accumulator.tensor.dataSync()));
  }
  return out;
}

function weights(trainer: GanTrainer): number[][] {
  return [...trainer.generator.getWeights(), ...trainer.discriminator.getWeights()].map((tensor) =>
    Array.from(tensor.dataSync()),
  );
}

describe('trainer checkpoint', () => {
  it('resumed run equals uninterrupted run', async () => {
    const uninterrupted = new GanTrainer(tf, tinyConfig, INPUT_SIZE, { seed: 7 });
    trainSteps(uninterrupted, 7);

    const first = new GanTrainer(tf, tinyConfig, INPUT_SIZE, { seed: 7 });
    trainSteps(first, 3);
    const buffer = await saveTrainerCheckpoint(tf, first);
    first.dispose();
    const resumed = await loadTrainerCheckpoint(tf, buffer);
    trainSteps(resumed, 4);

    // Same backend and same inputs, so every value matches exactly, not just within tolerance.
    expect(resumed.history).toEqual(uninterrupted.history);
    expect(resumed.progress).toEqual({ step: 7, epoch: 0, batch: 7 });
    expect(resumed.randomState()).toEqual(uninterrupted.randomState());
    expect(weights(resumed)).toEqual(weights(uninterrupted));
    expect(await optimizerState(resumed)).toEqual(await optimizerState(uninterrupted));
    resumed.dispose();
    uninterrupted.dispose();
  });

  it('checkpoint before any step resumes', async () => {
    const uninterrupted = new GanTrainer(tf, tinyConfig, INPUT_SIZE, { seed: 8 });
    trainSteps(uninterrupted, 2);
    const fresh = new GanTrainer(tf, tinyConfig, INPUT_SIZE, { seed: 8 });
    const resumed = await loadTrainerCheckpoint(tf, await saveTrainerCheckpoint(tf, fresh));
    fresh.dispose();
    trainSteps(resumed, 2);
    expect(resumed.history).toEqual(uninterrupted.history);
    expect(weights(resumed)).toEqual(weights(uninterrupted));
    resumed.dispose();
    uninterrupted.dispose();
  });

  it('restore does not leak tensors', async () => {
    const trainer = new GanTrainer(tf, tinyConfig, INPUT_SIZE, { seed: 9 });
    trainSteps(trainer, 1);
    const before = tf.memory().numTensors;
    const buffer = await saveTrainerCheckpoint(tf, trainer);
    const restored = await loadTrainerCheckpoint(tf, buffer);
    restored.dispose();
    expect(tf.memory().numTensors).toBe(before);
    trainer.dispose();
  });

  it('keeps NaN losses in the history', async () => {
    const trainer = new GanTrainer(tf, tinyConfig, INPUT_SIZE, { seed: 14 });
    trainer.history.push({
      step: 0,
      epoch: 0,
      batch: 0,
      dLoss: Number.NaN,
      gLoss: Number.POSITIVE_INFINITY,
      dRealScore: 0.5,
      dFakeScore: 0.5,
      dGradNorm: 1,
      gGradNorm: 1,
    });
    const restored = await loadTrainerCheckpoint(tf, await saveTrainerCheckpoint(tf, trainer));
    trainer.dispose();
    expect(restored.history[0]?.dLoss).toBeNaN();
    expect(restored.history[0]?.gLoss).toBeNaN();
    expect(restored.history[0]?.dRealScore).toBe(0.5);
    restored.dispose();
  });

  it('rejects a corrupted payload', async () => {
    const trainer = new GanTrainer(tf, tinyConfig, INPUT_SIZE, { seed: 10 });
    const buffer = await saveTrainerCheckpoint(tf, trainer);
    trainer.dispose();
    const corrupted = Buffer.from(buffer);
    corrupted[corrupted.length - 1] = (corrupted[corrupted.length - 1] ?? 0) ^ 0xff;
    await expect(loadTrainerCheckpoint(tf, corrupted)).rejects.toThrow(/SHA-256/);
    await expect(loadTrainerCheckpoint(tf, buffer.subarray(0, buffer.length - 4))).rejects.toThrow(
      /payload has/,
    );
    await expect(loadTrainerCheckpoint(tf, Buffer.from('not a checkpoint'))).rejects.toThrow(/magic/);
  });
});

describe('network files', () => {
  it('saved generator reproduces samples', async () => {
    const trainer = new GanTrainer(tf, tinyConfig, INPUT_SIZE, { seed: 11 });
    trainSteps(trainer, 2);
    const expected = trainer.generate(6, Random.fromSeed(3));
    const buffer = await saveNetwork(tf, 'generator', trainer.generator, trainer.config, INPUT_SIZE);
    trainer.dispose();

    const { model, config, inputSize } = await loadNetwork(tf, buffer, 'generator');
    expect(config).toEqual(tinyConfig);
    expect(inputSize).toBe(INPUT_SIZE);
    expect(generateSamples(tf, model, config, inputSize, 6, Random.fromSeed(3))).toEqual(expected);
    model.dispose();
  });

  it('loads the discriminator from a trainer checkpoint', async () => {
    const trainer = new GanTrainer(tf, tinyConfig, INPUT_SIZE, { seed: 12 });
    trainSteps(trainer, 1);
    // Without lengths, score reads the last time step, as model.predict does.
    const { values } = batchForStep(50);
    const expected = trainer.score({ values });
    const buffer = await saveTrainerCheckpoint(tf, trainer);
    trainer.dispose();

    const { model } = await loadNetwork(tf, buffer, 'discriminator');
    const scores = tf.tidy(() => {
      const input = tf.tensor3d(values, [tinyConfig.batchSize, tinyConfig.seqLen, INPUT_SIZE]);
      return (model.predict(input) as ReturnType<typeof tf.tensor>).dataSync();
    });
    expect(Array.from(scores)).toEqual(Array.from(expected));
    model.dispose();
  });

  it('rejects the wrong network kind', async () => {
    const trainer = new GanTrainer(tf, tinyConfig, INPUT_SIZE, { seed: 13 });
    const buffer = await saveNetwork(tf, 'generator', trainer.generator, trainer.config, INPUT_SIZE);
    trainer.dispose();
    await expect(loadNetwork(tf, buffer, 'discriminator')).rejects.toThrow(
      /expected a discriminator or trainer/,
    );
    await expect(loadTrainerCheckpoint(tf, buffer)).rejects.toThrow(/expected a trainer checkpoint/);
  });
});
