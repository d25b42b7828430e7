import { parseArgs } from 'node:util';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import type { RunConfig } from '../infra/config';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createStorage, ensureBucket, getBytes, type Storage } from '../infra/s3';
import { PROJECT_ROOT } from '../infra/stack';
import { startStack, stackOptionsFromEnv, type StackInfo } from '../infra/stack';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { createPipelineWorker, describeInstalledTensorFlow } from '../workers/pipeline-worker';
import { PIPELINE_TASK_QUEUE, TRAIN_TASK_QUEUE, type PipelineResult } from '../workflows/pipeline';
import { buildRunConfig, uploadLocalSources, workflowIdFor } from './run-config';
import { formatRuns, formatStages, listRuns, resumeRun, showRun } from './runs';
import { formatSummary } from './summary';
import { watchProgress } from './watch';

export async function connectStack(): Promise<StackInfo | undefined> {
  if (process.env.TEMPORAL_ADDRESS) return undefined;
  const info = await startStack(stackOptionsFromEnv());
  // Workers and the CLI's S3 client read credentials from the standard variables; a user's own
  // credentials win when set.
  process.env.AWS_ACCESS_KEY_ID ??= info.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY ??= info.credentials.secretAccessKey;
  return info;
}

export function temporalTarget(stack: StackInfo | undefined): {
  address: string;
  namespace: string;
  webUi?: string;
} {
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
  const localStorage = {
    endpoint: `http://${stackOptions.host}:${stackOptions.ports.s3}`,
    bucket: stackOptions.bucket,
  };
  buildRunConfig({ configFile: values.config, sets: values.set ?? [] }, localStorage);

  // The progress line shows what INFO logs would; warnings (a skipped source, a retry) still print.
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const stack = await connectStack();
  let config: RunConfig = buildRunConfig({ configFile: values.config, sets: values.set ?? [] }, localStorage);
  const storage = createStorage(config.storage);
  await ensureBucket(storage);
  config = await uploadLocalSources(config, storage);

  const target = temporalTarget(stack);
  const connection = await Connection.connect({ address: target.address });
  const client = new Client({ connection, namespace: target.namespace });
  const workers = values['no-worker'] ? undefined : await startWorkers(target);

  try {
    const workflowId = workflowIdFor(config);
    const handle = await client.workflow.start('textGanPipeline', {
      taskQueue: PIPELINE_TASK_QUEUE,
      workflowId,
      args: [config],
      workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: `textgan pipeline on ${config.dataset.name} (${config.dataset.sources.length} sources)`,
    });
    return await followRun(client, target, workflowId, handle.firstExecutionRunId);
  } finally {
    await workers?.stop();
    await connection.close();
  }
}

/** Shows a run's progress until it ends, then prints its summary and saves a local report copy. */
async function followRun(
  client: Client,
  target: { namespace: string; webUi?: string },
  workflowId: string,
  runId: string,
): Promise<number> {
  const link = target.webUi
    ? `${target.webUi}/namespaces/${target.namespace}/workflows/${workflowId}/${runId}/history`
    : undefined;
  process.stderr.write(`Following workflow ${workflowId}${link ? `\nWeb UI: ${link}` : ''}\n`);
  const handle = client.workflow.getHandle(workflowId, runId);
  const result = handle.result() as Promise<PipelineResult>;
  await watchProgress(handle, result);
  try {
    const finished = await result;
    const localReport = await saveReportCopy(createStorage(finished.storage), finished);
    process.stdout.write(formatSummary(finished, { webUi: link, localReport }));
    return 0;
  } catch (error) {
    if (error instanceof WorkflowFailedError) {
      const cause = error.cause;
      process.stderr.write(`\nRun failed: ${cause?.message ?? error.message}\n`);
      process.stderr.write(`Resume it with: npm run textgan -- resume ${workflowId}\n`);
      if (link) process.stderr.write(`Details and history: ${link}\n`);
      return 1;
    }
    throw error;
  }
}

/** `textgan resume <workflow id>`: starts a failed, cancelled or terminated run again and follows it. */
export async function resumeCommand(argv: string[]): Promise<number> {
  const workflowId = argv[0];
  if (!workflowId) {
    process.stderr.write('Usage: textgan resume <workflow id> (see `textgan list`)\n');
    return 2;
  }
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const target = temporalTarget(await connectStack());
  const connection = await Connection.connect({ address: target.address });
  const client = new Client({ connection, namespace: target.namespace });
  const workers = await startWorkers(target);
  try {
    const resumed = await resumeRun(client, workflowId);
    return await followRun(client, target, resumed.workflowId, resumed.runId);
  } finally {
    await workers.stop();
    await connection.close();
  }
}

/** `textgan list` and `textgan show <workflow id>`: runs with their status, and one run's stages. */
export async function inspectCommand(command: 'list' | 'show', argv: string[]): Promise<number> {
  const target = temporalTarget(await connectStack());
  const connection = await Connection.connect({ address: target.address });
  try {
    const client = new Client({ connection, namespace: target.namespace });
    if (command === 'list') {
      process.stdout.write(`${formatRuns(await listRuns(client))}\n`);
      return 0;
    }
    const workflowId = argv[0];
    if (!workflowId) {
      process.stderr.write('Usage: textgan show <workflow id> (see `textgan list`)\n');
      return 2;
    }
    const shown = await showRun(client, workflowId);
    process.stdout.write(`Run ${workflowId}: ${shown.status}\n${formatStages(shown.stages)}\n`);
    return 0;
  } finally {
    await connection.close();
  }
}

/**
 * Starts a pipeline worker in this process and a training worker as a child process. Training
 * keeps a CPU core busy between awaits, so in this process it would delay workflow tasks past
 * their timeout. In its own process it cannot. The child logs which TensorFlow.js backend it loaded.
 */
async function startWorkers(target: {
  address: string;
  namespace: string;
}): Promise<{ stop(): Promise<void> }> {
  const pipeline = await createPipelineWorker(target);
  process.stderr.write(`Pipeline worker: ${describeInstalledTensorFlow()}\n`);
  const pipelineRun = pipeline.worker.run();
  const training = spawn(
    process.execPath,
    ['--import', 'tsx', join(PROJECT_ROOT, 'workers', 'train-main.ts')],
    {
      cwd: PROJECT_ROOT,
      env: {
        TEXTGAN_LOG_LEVEL: 'WARN',
        ...process.env,
        TEMPORAL_ADDRESS: target.address,
        TEMPORAL_NAMESPACE: target.namespace,
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    },
  );
  const trainingExit = new Promise<void>((resolve) => training.once('exit', () => resolve()));
  return {
    async stop() {
      pipeline.worker.shutdown();
      training.kill('SIGTERM');
      await Promise.allSettled([pipelineRun, trainingExit]);
      await pipeline.connection.close();
    },
  };
}

export async function workerCommand(): Promise<number> {
  const stack = await connectStack();
  const target = temporalTarget(stack);
  const workers = await startWorkers(target);
  process.stderr.write(
    `Workers polling ${PIPELINE_TASK_QUEUE} and ${TRAIN_TASK_QUEUE} on ${target.address}; Ctrl-C stops them.\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await workers.stop();
  return 0;
}

/**
 * Copies the run's report to out/<workflow id>/ so that it opens in a browser straight away; the
 * S3 copy needs credentials to read.
 */
async function saveReportCopy(storage: Storage, result: PipelineResult): Promise<string | undefined> {
  if (!result.report) return undefined;
  const dir = join(PROJECT_ROOT, 'out', result.workflowId.replace(/[^A-Za-z0-9._-]/g, '_'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'report.md'), await getBytes(storage, result.report.markdownKey));
  const htmlPath = join(dir, 'report.html');
  writeFileSync(htmlPath, await getBytes(storage, result.report.htmlKey));
  return htmlPath;
}
