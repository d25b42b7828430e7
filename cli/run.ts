import { parseArgs } from 'node:util';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import type { RunConfig } from '../infra/config';
import { createStorage, ensureBucket } from '../infra/s3';
import { startStack, stackOptionsFromEnv, type StackInfo } from '../infra/stack';
import { createPipelineWorker } from '../workers/pipeline-worker';
import { PIPELINE_TASK_QUEUE, type PipelineResult } from '../workflows/pipeline';
import { buildRunConfig, uploadLocalSources, workflowIdFor } from './run-config';
import { printSummary } from './summary';
import { watchProgress } from './watch';

async function connectStack(): Promise<StackInfo | undefined> {
  if (process.env.TEMPORAL_ADDRESS) return undefined;
  const info = await startStack(stackOptionsFromEnv());
  // Workers and the CLI's S3 client read credentials from the standard variables; a user's own
  // credentials win when set.
  process.env.AWS_ACCESS_KEY_ID ??= info.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= info.credentials.secretAccessKey;
  return info;
}

function temporalTarget(stack: StackInfo | undefined): { address: string; namespace: string; webUi?: string } {
  if (stack) return { address: stack.temporalAddress, namespace: stack.namespace, webUi: stack.webUiUrl };
  return {
    address: process.env.TEMPORAL_ADDRESS as string,
    namespace: process.env.TEMPORAL_NAMESPACE ?? 'default',
    webUi: process.env.TEMPORAL_WEB_UI,
  };
}

export async function runCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      config: { type: 'string' },
      set: { type: 'string', multiple: true, default: [] },
      'no-worker': { type: 'boolean', default: false },
    },
  });
  const stackOptions = stackOptionsFromEnv();
  // Validate the config before starting anything, with the local stack's storage as the default.
  const localStorage = { endpoint: `http://${stackOptions.host}:${stackOptions.ports.s3}`, bucket: stackOptions.bucket };
  buildRunConfig({ configFile: values.config, sets: values.set ?? [] }, localStorage);

  const stack = await connectStack();
  let config: RunConfig = buildRunConfig({ configFile: values.config, sets: values.set ?? [] }, localStorage);
  const storage = createStorage(config.storage);
  await ensureBucket(storage);
  config = await uploadLocalSources(config, storage);

  const target = temporalTarget(stack);
  const connection = await Connection.connect({ address: target.address });
  const client = new Client({ connection, namespace: target.namespace });
  const workerHandle = values['no-worker'] ? undefined : await createPipelineWorker({ address: target.address, namespace: target.namespace });
  const workerRun = workerHandle?.worker.run();

  try {
    const workflowId = workflowIdFor(config);
    const handle = await client.workflow.start('textGanPipeline', {
      taskQueue: PIPELINE_TASK_QUEUE,
      workflowId,
      args: [config],
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: `textgan pipeline on ${config.dataset.name} (${config.dataset.sources.length} sources)`,
    });
    const runId = handle.firstExecutionRunId;
    const link = target.webUi ? `${target.webUi}/namespaces/${target.namespace}/workflows/${workflowId}/${runId}/history` : undefined;
    process.stderr.write(`Started workflow ${workflowId}${link ? `\nWeb UI: ${link}` : ''}\n`);
    const result = client.workflow.getHandle(workflowId, runId).result() as Promise<PipelineResult>;
    await watchProgress(handle, result);
    try {
      printSummary(await result, link);
      return 0;
    } catch (error) {
      if (error instanceof WorkflowFailedError) {
        const cause = error.cause;
        process.stderr.write(`\nRun failed: ${cause?.message ?? error.message}\n`);
        if (link) process.stderr.write(`Details and history: ${link}\n`);
        return 1;
      }
      throw error;
    }
  } finally {
    if (workerHandle) {
      workerHandle.worker.shutdown();
      await workerRun;
      await workerHandle.connection.close();
    }
    await connection.close();
  }
}

export async function workerCommand(): Promise<number> {
  const stack = await connectStack();
  const target = temporalTarget(stack);
  const { worker, connection } = await createPipelineWorker({ address: target.address, namespace: target.namespace });
  process.stderr.write(`Pipeline worker polling ${PIPELINE_TASK_QUEUE} on ${target.address}; Ctrl-C stops it.\n`);
  try {
    await worker.run();
  } finally {
    await connection.close();
  }
  return 0;
}

