import { Random } from '../lib/random';
import type { GanTrainer, RealBatch, StepRecord } from './gan';

/**
 * Returns the example indices of each training step of `epoch`: a permutation of
 * [0, numExamples) cut into full batches, at most `maxSteps` of them. The trailing partial batch
 * is dropped so that every step trains on `batchSize` samples. The permutation depends only on
 * `seed` and `epoch`, so a run resumed mid-epoch recomputes the same plan.
 */
export function planEpoch(
  seed: number,
  epoch: number,
  numExamples: number,
  batchSize: number,
  maxSteps: number | null,
): Int32Array[] {
  if (!Number.isInteger(numExamples) || numExamples < batchSize) {
    throw new RangeError(
      `numExamples must be an integer of at least batchSize (${batchSize}), got ${numExamples}`,
    );
  }
  const order = Random.fromSeed(epochSeed(seed, epoch)).shuffle(
    Array.from({ length: numExamples }, (_, i) => i),
  );
  const fullBatches = Math.floor(numExamples / batchSize);
  const steps = maxSteps === null ? fullBatches : Math.min(fullBatches, maxSteps);
  return Array.from({ length: steps }, (_, step) =>
    Int32Array.from(order.slice(step * batchSize, (step + 1) * batchSize)),
  );
}

/** Mixes the epoch into the seed. Splitmix32 inside `Random.fromSeed` decorrelates nearby values. */
function epochSeed(seed: number, epoch: number): number {
  return (seed ^ Math.imul(epoch + 1, 0x9e3779b9)) >>> 0;
}

export interface TrainingLoopOptions {
  trainer: GanTrainer;
  /** Size of the training set. Batches contain indices into it. */
  numExamples: number;
  /** Returns the real samples for the given example indices. */
  loadBatch: (indices: Int32Array) => RealBatch | Promise<RealBatch>;
  /**
   * Called every `checkpointEveryBatches` steps and at the end of every epoch with the trainer
   * in a resumable state.
   */
  onCheckpoint?: (trainer: GanTrainer) => Promise<void>;
  /** Called after every step, for example to heartbeat or log. */
  onStep?: (record: StepRecord) => void;
  /** Stops the loop before the next step. The trainer stays resumable from its last checkpoint. */
  signal?: AbortSignal;
}

/**
 * Trains from `trainer.progress` until `config.epochs` epochs are complete. A trainer restored
 * from a checkpoint continues with the batch after the last one it trained on.
 */
export async function runTraining(options: TrainingLoopOptions): Promise<void> {
  const { trainer, numExamples, loadBatch, onCheckpoint, onStep, signal } = options;
  const { epochs, batchSize, maxStepsPerEpoch, checkpointEveryBatches } = trainer.config;
  while (trainer.progress.epoch < epochs) {
    const plan = planEpoch(trainer.seed, trainer.progress.epoch, numExamples, batchSize, maxStepsPerEpoch);
    while (trainer.progress.batch < plan.length) {
      signal?.throwIfAborted();
      const indices = plan[trainer.progress.batch] as Int32Array;
      trainer.trainStep(await loadBatch(indices));
      const record = trainer.history[trainer.history.length - 1];
      if (record !== undefined) onStep?.(record);
      const isEpochEnd = trainer.progress.batch === plan.length;
      // The epoch-end checkpoint below covers the last batch of an epoch.
      if (!isEpochEnd && trainer.progress.step % checkpointEveryBatches === 0) await onCheckpoint?.(trainer);
    }
    trainer.finishEpoch();
    await onCheckpoint?.(trainer);
  }
}
