import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildRunConfig, uploadLocalSources, workflowIdFor } from '../cli/run-config';
import type { RunConfig } from '../infra/config';
import { getBytes, objectExists } from '../infra/s3';
import { readManifest } from '../infra/stages';
import { PROJECT_ROOT } from '../infra/stack';
import { PIPELINE_TASK_QUEUE, type PipelineResult } from '../workflows/pipeline';
import { writeSyntheticCorpus } from './helpers/corpus';
import { startPipelineWorker, type RunningWorker, startTestStack, type TestStack } from './helpers/stack';

let stack: TestStack;
let pipelineWorker: RunningWorker | undefined;
const children: ChildProcess[] = [];

/** Starts the training worker as its own process, as a GPU machine would run it. */
function startTrainWorker(extraArgs: string[] = []): {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(PROJECT_ROOT, 'workers', 'train-main.ts'), '--backend', 'wasm', ...extraArgs],
    {
      cwd: PROJECT_ROOT,
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: stack.info.temporalAddress,
        AWS_ACCESS_KEY_ID: stack.info.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: stack.info.credentials.secretAccessKey,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.push(child);
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

beforeAll(async () => {
  stack = await startTestStack();
  pipelineWorker = await startPipelineWorker(stack);
});

afterEach(() => {
  for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
});

afterAll(async () => {
  await pipelineWorker?.stop();
  await stack?.stop();
});

function trainingConfig(): RunConfig {
  const config = buildRunConfig(
    {
      sets: [
        // 4 epochs x 30 steps of batch 32: long enough to kill mid-run, short enough for CI.
        'stages.train.overrides={"seqLen":12,"hiddenSize":16,"batchSize":32,"epochs":4,"maxStepsPerEpoch":30,"checkpointEveryBatches":10}',
        'stages.embed.strategies=["scalar"]',
        'stages.train.heartbeatTimeoutSeconds=5',
        'stages.train.keepCheckpoints=2',
        'stages.markov.samples=200',
        'stages.evaluate={"generatorSamples":400,"selfBleuSamples":100,"twoSample":{"trainPerClass":200,"testPerClass":100,"epochs":1}}',
      ],
    },
    { endpoint: stack.storageConfig.endpoint, bucket: stack.storageConfig.bucket },
  );
  const path = writeSyntheticCorpus(1500);
  return {
    ...config,
    storage: stack.storageConfig,
    dataset: {
      name: 'synthetic',
      sources: [
        {
          name: 'synthetic',
          uri: path,
          format: 'csv',
          textColumn: 'Text',
          label: { column: 'oh_label' },
          optional: false,
        },
      ],
    },
  };
}

async function waitForCheckpoint(workflowId: string, timeoutMs: number): Promise<string> {
  const handle = stack.client.workflow.getHandle(workflowId);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const description = await handle.describe();
    for (const activity of description.raw.pendingActivities ?? []) {
      const payload = activity.heartbeatDetails?.payloads?.[0]?.data;
      if (!payload) continue;
      const details = JSON.parse(Buffer.from(payload).toString('utf8')) as { checkpointKey?: string };
      if (details.checkpointKey) return details.checkpointKey;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`no checkpoint reported within ${timeoutMs} ms`);
}

describe('training worker', () => {
  it('refuses to start without the GPU backend when required', async () => {
    const worker = startTrainWorker(['--require-gpu']);
    expect(await worker.exited).toBe(1);
    expect(worker.output()).toContain('GPU backend missing');
  });

  it('resumes from the last checkpoint after SIGKILL', async () => {
    const config = await uploadLocalSources(trainingConfig(), stack.storage);
    const workflowId = `${workflowIdFor(config)}-kill`;
    const first = startTrainWorker();
    const handle = await stack.client.workflow.start('textGanPipeline', {
      taskQueue: PIPELINE_TASK_QUEUE,
      workflowId,
      args: [config],
    });

    const checkpoint = await waitForCheckpoint(workflowId, 240_000);
    first.child.kill('SIGKILL');
    await first.exited;
    expect(checkpoint).toMatch(/\/checkpoints\/step-\d{9}\.ckpt$/);

    const second = startTrainWorker();
    const result: PipelineResult = await handle.result();
    expect(second.output()).toContain('TensorFlow.js backend: wasm');

    const train = await readManifest(stack.storage, result.stages['train scalar']!.manifestKey);
    const runtime = train.runtime as { resumedFromStep: number };
    expect(runtime.resumedFromStep).toBeGreaterThan(0);
    expect(runtime.resumedFromStep % 10).toBe(0);
    expect(train.counts.steps).toBe(120);
    expect(train.tables.losses?.rows).toBe(120);
    for (const artifact of ['generator', 'discriminator', 'lossPlot']) {
      expect(await objectExists(stack.storage, train.artifacts[artifact]!.key)).toBe(true);
    }

    // The run goes on to evaluate both generators and write the report.
    expect(result.report!.evaluations.map((branch) => branch.strategy)).toEqual(['scalar']);
    const evaluation = result.report!.evaluations[0]!.evaluation;
    expect(evaluation.discriminator.map((row) => row.data)).toEqual([
      'train (real)',
      'test (real)',
      'generator (fake)',
      'markov (fake)',
    ]);
    expect(evaluation.text.map((row) => row.model)).toEqual(['real', 'gan', 'markov']);
    for (const row of evaluation.text.filter((r) => r.model !== 'real')) {
      expect(row.twoSampleAccuracy).toBeGreaterThanOrEqual(0);
      expect(row.twoSampleAccuracy).toBeLessThanOrEqual(1);
      expect(row.twoSampleTrainAccuracy).toBeGreaterThanOrEqual(0);
      expect(row.ngramTwoSampleAccuracy).toBeGreaterThanOrEqual(0);
    }
    // Decoded output of a barely trained GAN against template sentences: an n-gram model separates them.
    const gan = evaluation.text.find((row) => row.model === 'gan')!;
    expect(gan.ngramTwoSampleAccuracy).toBeGreaterThan(0.6);
    expect(result.stages.markov?.rows.samples).toBe(200);
    const html = (await getBytes(stack.storage, result.report!.htmlKey)).toString('utf8');
    expect(html).toContain('<svg');
    expect(html).toContain("The study's table");
    expect(html).toContain('Content note');
    expect(await objectExists(stack.storage, result.report!.markdownKey)).toBe(true);
  }, 600_000);
});
