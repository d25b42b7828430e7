import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import * as activities from '../activities';
import { PIPELINE_TASK_QUEUE } from '../workflows/pipeline';

/** Path of the workflows entry file, as TypeScript source under tsx or compiled JavaScript. */
export function workflowsPath(): string {
  const source = join(__dirname, '..', 'workflows', 'index.ts');
  return existsSync(source) ? source : join(__dirname, '..', 'workflows', 'index.js');
}

export interface PipelineWorkerOptions {
  address: string;
  namespace: string;
  taskQueue?: string;
  /** Pre-built workflow bundle; without it the worker bundles workflows/ at start (several seconds). */
  workflowBundle?: WorkerOptions['workflowBundle'];
}

/**
 * Creates a worker for the pipeline task queue: it runs the workflow and the CPU stages (fetch,
 * dedup, tokenize). Callers run it with `worker.run()` and close the connection when it returns.
 */
export async function createPipelineWorker(
  options: PipelineWorkerOptions,
): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address: options.address });
  try {
    const worker = await Worker.create({
      connection,
      namespace: options.namespace,
      taskQueue: options.taskQueue ?? PIPELINE_TASK_QUEUE,
      activities,
      ...(options.workflowBundle
        ? { workflowBundle: options.workflowBundle }
        : { workflowsPath: workflowsPath() }),
      // Stages stream large files on a small machine: two at a time keeps memory and cores in check.
      maxConcurrentActivityTaskExecutions: 2,
    });
    return { worker, connection };
  } catch (error) {
    await connection.close();
    throw error;
  }
}
