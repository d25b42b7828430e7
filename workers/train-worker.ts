import type { NativeConnection, Worker } from '@temporalio/worker';
import { checkEmbeddingStrategies, embedTokens } from '../activities/embed';
import { createEvaluateActivities } from '../activities/evaluate';
import { createTrainActivities } from '../activities/train';
import type { LoadedTensorFlow } from '../ml/backend';
import { TRAIN_TASK_QUEUE } from '../workflows/queues';
import { connectWorker } from './connect';

export interface TrainWorkerOptions {
  address: string;
  namespace: string;
  loaded: LoadedTensorFlow;
  taskQueue?: string;
}

/**
 * Creates a worker for the training task queue, which serves the stages that need TensorFlow.js:
 * embedding, GAN training and evaluation. It runs one activity at a time because a GAN step uses every core
 * (or the whole GPU) it gets, so two trainings on one worker would only slow both.
 */
export async function createTrainWorker(
  options: TrainWorkerOptions,
): Promise<{ worker: Worker; connection: NativeConnection }> {
  return connectWorker(options.address, {
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? TRAIN_TASK_QUEUE,
    activities: {
      embedTokens,
      checkEmbeddingStrategies,
      ...createTrainActivities(options.loaded),
      ...createEvaluateActivities(options.loaded),
    },
    maxConcurrentActivityTaskExecutions: 1,
  });
}

/** Describes the loaded backend in one line for worker start-up logs. */
export function describeBackend(loaded: LoadedTensorFlow): string {
  const skipped = loaded.reasons.length > 0 ? `; skipped: ${loaded.reasons.join('; ')}` : '';
  return `TensorFlow.js backend: ${loaded.backend}${skipped}`;
}
