import type { WorkflowHandle } from '@temporalio/client';
import { Client, Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRunConfig, uploadLocalSources, workflowIdFor } from '../cli/run-config';
import type { RunConfig } from '../infra/config';
import { cyberbullyDataset } from '../infra/datasets';
import { startStack, stopService } from '../infra/stack';
import { readManifest } from '../infra/stages';
import { PIPELINE_TASK_QUEUE, pipelineStatusQuery, type PipelineResult } from '../workflows/pipeline';
import { writeSyntheticCorpus } from './helpers/corpus';
import { startPipelineWorker, type RunningWorker, startTestStack, type TestStack } from './helpers/stack';

let stack: TestStack;
let pipelineWorker: RunningWorker | undefined;

beforeAll(async () => {
  stack = await startTestStack();
  pipelineWorker = await startPipelineWorker(stack);
});

afterAll(async () => {
  await pipelineWorker?.stop();
  await stack?.stop();
});

async function bundledConfig(prefix: string): Promise<RunConfig> {
  const config = buildRunConfig(
    { sets: ['runUntil=tokenize'] },
    { endpoint: stack.storageConfig.endpoint, bucket: stack.storageConfig.bucket },
  );
  const sources = cyberbullyDataset().sources.filter((source) => !source.optional);
  return uploadLocalSources(
    { ...config, storage: { ...stack.storageConfig, prefix }, dataset: { name: 'faults', sources } },
    stack.storage,
  );
}

async function waitForStage(handle: WorkflowHandle, stage: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const status = await handle.query(pipelineStatusQuery);
      if (status.stages.some((s) => s.name === stage && s.status === 'running')) return;
    } catch {
      // Not picked up by the worker yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`stage ${stage} did not start within ${timeoutMs} ms`);
}

describe('faults', () => {
  it('waits out a storage outage mid-stage', async () => {
    const config = await bundledConfig('outage');
    const handle = await stack.client.workflow.start('textGanPipeline', {
      taskQueue: PIPELINE_TASK_QUEUE,
      workflowId: `${workflowIdFor(config)}-outage`,
      args: [config],
    });
    await waitForStage(handle, 'dedup', 120_000);
    await stopService(stack.options, 'seaweedfs');
    await new Promise((resolve) => setTimeout(resolve, 5000));
    await startStack(stack.options);

    const result: PipelineResult = await handle.result();
    expect(result.accounting.rowsRead).toBe(57_265);
    expect(result.accounting.balanced).toBe(true);
    const dedup = await readManifest(stack.storage, result.stages.dedup!.manifestKey);
    expect(dedup.tables.rows?.rows).toBe(45_430);
  }, 300_000);

  it('completes after the Temporal server restarts on its state file', async () => {
    const config = await bundledConfig('server-restart');
    const workflowId = `${workflowIdFor(config)}-restart`;
    await stack.client.workflow.start('textGanPipeline', {
      taskQueue: PIPELINE_TASK_QUEUE,
      workflowId,
      args: [config],
    });
    await waitForStage(stack.client.workflow.getHandle(workflowId), 'dedup', 120_000);
    await stopService(stack.options, 'temporal');
    await new Promise((resolve) => setTimeout(resolve, 2000));
    await startStack(stack.options);

    // A fresh client: the old connection's calls fail while the server is down.
    const connection = await Connection.connect({ address: stack.info.temporalAddress });
    try {
      const client = new Client({ connection, namespace: stack.info.namespace });
      const result: PipelineResult = await client.workflow.getHandle(workflowId).result();
      expect(result.accounting.rowsRead).toBe(57_265);
      expect(result.accounting.balanced).toBe(true);
    } finally {
      await connection.close();
    }
  }, 300_000);
});

describe('concurrent runs', () => {
  it('keep outputs apart and identical configs agree', async () => {
    const corpus = writeSyntheticCorpus(3000, 11);
    const make = async (seed: number) => {
      const config = buildRunConfig(
        { sets: ['runUntil=tokenize', `stages.tokenize.seed=${seed}`] },
        { endpoint: stack.storageConfig.endpoint, bucket: stack.storageConfig.bucket },
      );
      const source = {
        name: 'synthetic',
        uri: corpus,
        format: 'csv' as const,
        textColumn: 'Text',
        label: { column: 'oh_label' },
        optional: false,
      };
      return uploadLocalSources(
        {
          ...config,
          storage: { ...stack.storageConfig, prefix: 'concurrent' },
          dataset: { name: 'synthetic', sources: [source] },
        },
        stack.storage,
      );
    };
    const same = await make(1);
    const other = await make(2);
    const started = Date.now();
    const results: PipelineResult[] = await Promise.all(
      [same, same, other, other].map((config, index) =>
        stack.client.workflow.execute('textGanPipeline', {
          taskQueue: PIPELINE_TASK_QUEUE,
          workflowId: `${workflowIdFor(config)}-concurrent-${index}`,
          args: [config],
        }),
      ),
    );
    const seconds = (Date.now() - started) / 1000;
    process.stderr.write(
      `4 concurrent pipelines of 3,000 comments: ${seconds.toFixed(1)} s, ${Math.round(12_000 / seconds)} comments/s\n`,
    );

    const [first, second, third] = results as [PipelineResult, PipelineResult, PipelineResult];
    for (const stage of ['fetch', 'dedup', 'tokenize']) {
      expect(second.stages[stage]?.contentHash).toBe(first.stages[stage]?.contentHash);
    }
    expect(third.stages.tokenize?.manifestKey).not.toBe(first.stages.tokenize?.manifestKey);
    expect(third.stages.fetch?.manifestKey).toBe(first.stages.fetch?.manifestKey);
    for (const result of results) expect(result.accounting.balanced).toBe(true);
    const firstSplit = first.stages.tokenize!.counts as { train: number; test: number };
    const thirdSplit = third.stages.tokenize!.counts as { train: number; test: number };
    expect(firstSplit.train + firstSplit.test).toBe(thirdSplit.train + thirdSplit.test);
  }, 300_000);
});

describe('storage access', () => {
  it('rejects anonymous S3 requests', async () => {
    const response = await fetch(`${stack.info.s3Endpoint}/${stack.info.bucket}?list-type=2`);
    expect(response.status).toBe(403);
  });
});
