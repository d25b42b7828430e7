import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { NativeConnection, Worker, WorkerOptions } from '@temporalio/worker';
import { connectWorker } from './connect';
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
 * dedup, tokenize, markov, embed, report). Callers run it with `worker.run()` and close the connection when it returns.
 */
export async function createPipelineWorker(
  options: PipelineWorkerOptions,
): Promise<{ worker: Worker; connection: NativeConnection }> {
  return connectWorker(options.address, {
    namespace: options.namespace,
    taskQueue: options.taskQueue ?? PIPELINE_TASK_QUEUE,
    activities,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: workflowsPath() }),
    // Stages stream large files on a small machine: two at a time keeps memory and cores in check.
    maxConcurrentActivityTaskExecutions: 2,
  });
}

const TENSORFLOW_PACKAGES = [
  ['@tensorflow/tfjs-node-gpu', 'native GPU'],
  ['@tensorflow/tfjs-node', 'native CPU'],
  ['@tensorflow/tfjs-backend-wasm', 'WebAssembly'],
  ['@tensorflow/tfjs', 'pure JavaScript'],
] as const;

/**
 * Lists the TensorFlow.js backends installed here without loading any (the pipeline worker runs no
 * training), so its start-up log shows what a training worker on this machine would find.
 */
export function describeInstalledTensorFlow(): string {
  const found: string[] = [];
  const missing: string[] = [];
  for (const [name, label] of TENSORFLOW_PACKAGES) {
    try {
      require.resolve(name);
      found.push(label);
    } catch {
      missing.push(`${name} not installed`);
    }
  }
  const best = found[0] ?? 'none';
  return `TensorFlow.js backend available: ${best} (installed: ${found.join(', ') || 'none'}${missing.length > 0 ? `; ${missing.join(', ')}` : ''})`;
}
