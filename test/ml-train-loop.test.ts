import { beforeAll, describe, expect, it } from 'vitest';
import { Random } from '../lib/random';
import { loadTensorFlow, type TensorFlow } from '../ml/backend';
import { loadTrainerCheckpoint, saveTrainerCheckpoint } from '../ml/checkpoint';
import { resolveGanConfig, type GanConfig } from '../ml/config';
import { GanTrainer, type RealBatch } from '../ml/gan';
import { planEpoch, runTraining } from '../ml/train-loop';

const INPUT_SIZE = 2;
const NUM_EXAMPLES = 14;

const tinyConfig: GanConfig = resolveGanConfig('default', {
  seqLen: 4,
  hiddenSize: 3,
  layers: 1,
  batchSize: 3,
  epochs: 2,
  maxStepsPerEpoch: 3,
  checkpointEveryBatches: 2,
});

let tf: TensorFlow;

beforeAll(async () => {
  ({ tf } = await loadTensorFlow({ preferred: 'wasm' }));
});

/** Returns the given examples of a fixed synthetic data set. */
function loadBatch(indices: Int32Array): RealBatch {
  const sampleSize = tinyConfig.seqLen * INPUT_SIZE;
  const values = new Float32Array(indices.length * sampleSize);
  indices.forEach((example, row) => {
    const random = Random.fromSeed(example);
    for (let j = 0; j < sampleSize; j++) values[row * sampleSize + j] = random.nextGaussian();
  });
  return { values, lengths: Array.from(indices, (example) => 1 + (example % tinyConfig.seqLen)) };
}

describe('planEpoch', () => {
  it('cuts a permutation into full batches', () => {
    const plan = planEpoch(5, 0, 10, 3, null);
    expect(plan).toHaveLength(3);
    const seen = plan.flatMap((batch) => Array.from(batch));
    expect(new Set(seen).size).toBe(9);
    for (const index of seen) {
      expect(index).toBeGreaterThanOrEqual(0);
      expect(index).toBeLessThan(10);
    }
  });

  it('caps steps and varies by epoch', () => {
    expect(planEpoch(5, 0, 100, 4, 2)).toHaveLength(2);
    expect(planEpoch(5, 1, 100, 4, null)).toEqual(planEpoch(5, 1, 100, 4, null));
    expect(planEpoch(5, 1, 100, 4, null)).not.toEqual(planEpoch(5, 2, 100, 4, null));
  });

  it('rejects too few examples', () => {
    expect(() => planEpoch(5, 0, 2, 3, null)).toThrow(/at least batchSize/);
  });
});

describe('runTraining', () => {
  it('resumes from a mid-epoch checkpoint', async () => {
    const uninterrupted = new GanTrainer(tf, tinyConfig, INPUT_SIZE, { seed: 3 });
    const checkpoints: Buffer[] = [];
    await runTraining({
      trainer: uninterrupted,
      numExamples: NUM_EXAMPLES,
      loadBatch,
      onCheckpoint: async (trainer) => {
        checkpoints.push(await saveTrainerCheckpoint(tf, trainer));
      },
    });
    // Epoch 0 runs steps 1-3 and epoch 1 steps 4-6. Interval checkpoints follow steps 2 and 4. The
    // one due after step 6 is left to the epoch-end checkpoints, which follow steps 3 and 6.
    expect(checkpoints).toHaveLength(4);
    expect(uninterrupted.history.map((record) => [record.epoch, record.batch])).toEqual([
      [0, 0],
      [0, 1],
      [0, 2],
      [1, 0],
      [1, 1],
      [1, 2],
    ]);

    const midEpoch = checkpoints[2];
    if (midEpoch === undefined) throw new Error('missing checkpoint');
    const resumed = await loadTrainerCheckpoint(tf, midEpoch);
    expect(resumed.progress).toEqual({ step: 4, epoch: 1, batch: 1 });
    await runTraining({ trainer: resumed, numExamples: NUM_EXAMPLES, loadBatch });
    expect(resumed.history).toEqual(uninterrupted.history);
    expect(resumed.progress).toEqual({ step: 6, epoch: 2, batch: 0 });
    resumed.dispose();
    uninterrupted.dispose();
  });

  it('stops when the signal aborts', async () => {
    const trainer = new GanTrainer(tf, tinyConfig, INPUT_SIZE, { seed: 4 });
    const controller = new AbortController();
    const run = runTraining({
      trainer,
      numExamples: NUM_EXAMPLES,
      loadBatch,
      signal: controller.signal,
      onStep: (record) => {
        if (record.step === 1) controller.abort();
      },
    });
    await expect(run).rejects.toThrow();
    expect(trainer.progress.step).toBe(2);
    trainer.dispose();
  });
});
