import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatSummary } from '../cli/summary';
import { buildRunConfig, uploadLocalSources, workflowIdFor } from '../cli/run-config';
import type { RunConfig } from '../infra/config';
import { getBytes } from '../infra/s3';
import { readManifest } from '../infra/stages';
import { loadTensorFlow } from '../ml/backend';
import { createTrainWorker } from '../workers/train-worker';
import { PIPELINE_TASK_QUEUE, pipelineStatusQuery, type PipelineResult } from '../workflows/pipeline';
import { writeSyntheticCorpus } from './helpers/corpus';
import { startPipelineWorker, startTestStack, type RunningWorker, type TestStack } from './helpers/stack';
import { writeTinyBert } from './helpers/tiny-bert';

let stack: TestStack;
let pipelineWorker: RunningWorker | undefined;
let stopTrainWorker: (() => Promise<void>) | undefined;

beforeAll(async () => {
  stack = await startTestStack();
  pipelineWorker = await startPipelineWorker(stack);
  const loaded = await loadTensorFlow({ preferred: 'wasm' });
  const { worker, connection } = await createTrainWorker({
    address: stack.info.temporalAddress,
    namespace: stack.info.namespace,
    loaded,
  });
  const running = worker.run();
  stopTrainWorker = async () => {
    worker.shutdown();
    await running.catch(() => undefined);
    await connection.close();
  };
}, 300_000);

afterAll(async () => {
  await stopTrainWorker?.();
  await pipelineWorker?.stop();
  await stack?.stop();
});

/** Builds a small run: 600 template sentences, a GAN of a few steps, a small evaluation. */
function smallRun(sets: string[]): RunConfig {
  const config = buildRunConfig(
    {
      sets: [
        'stages.train.overrides={"seqLen":8,"hiddenSize":8,"batchSize":16,"epochs":1,"maxStepsPerEpoch":4,"checkpointEveryBatches":4}',
        'stages.markov.samples=100',
        'stages.evaluate={"generatorSamples":60,"selfBleuSamples":20,"twoSample":{"trainPerClass":20,"testPerClass":10,"epochs":1}}',
        'stages.embed.word2vec.iterations=3',
        ...sets,
      ],
    },
    { endpoint: stack.storageConfig.endpoint, bucket: stack.storageConfig.bucket },
  );
  return {
    ...config,
    storage: stack.storageConfig,
    dataset: {
      name: 'synthetic',
      sources: [
        {
          name: 'synthetic',
          uri: writeSyntheticCorpus(600),
          format: 'csv',
          textColumn: 'Text',
          label: { column: 'oh_label' },
          optional: false,
        },
      ],
    },
  };
}

async function run(config: RunConfig, suffix: string): Promise<PipelineResult> {
  const uploaded = await uploadLocalSources(config, stack.storage);
  const handle = await stack.client.workflow.start('textGanPipeline', {
    taskQueue: PIPELINE_TASK_QUEUE,
    workflowId: `${workflowIdFor(uploaded)}-${suffix}`,
    args: [uploaded],
  });
  return handle.result();
}

describe('embedding strategies side by side', () => {
  it('trains and evaluates all three on a small slice', async () => {
    const model = writeTinyBert();
    const result = await run(
      smallRun([`stages.embed.bert.model="${model}"`, 'stages.embed.maxTexts.bert={"train":200,"test":60}']),
      'all',
    );
    expect(result.strategies?.ready).toEqual(['scalar', 'word2vec', 'bert']);
    expect(result.strategies?.skipped).toEqual({});

    const dimensions: Record<string, number> = {};
    const encoded: Record<string, number> = {};
    for (const strategy of ['scalar', 'word2vec', 'bert']) {
      const embed = await readManifest(stack.storage, result.stages[`embed ${strategy}`]!.manifestKey);
      dimensions[strategy] = embed.counts.dimension as number;
      encoded[strategy] = embed.counts.train as number;
      expect(result.stages[`train ${strategy}`]?.counts.steps).toBe(4);
      expect(result.stages[`evaluate ${strategy}`]).toBeDefined();
    }
    expect(dimensions).toEqual({ scalar: 1, word2vec: 12, bert: 32 });
    // BERT encodes the configured sample; the others encode the whole train split.
    expect(encoded.bert).toBe(200);
    expect(encoded.scalar).toBeGreaterThan(400);
    expect(encoded.word2vec).toBe(encoded.scalar);

    const evaluations = result.report!.evaluations;
    expect(evaluations.map((branch) => branch.strategy)).toEqual(['scalar', 'word2vec', 'bert']);
    for (const { evaluation } of evaluations) {
      expect(evaluation.text.map((row) => row.model)).toEqual(['real', 'gan', 'markov']);
    }

    const markdown = (await getBytes(stack.storage, result.report!.markdownKey)).toString('utf8');
    expect(markdown).toContain('### Strategies side by side');
    expect(markdown).toMatch(
      /\| metric \| real text \| GAN, scalar \| GAN, word2vec \| GAN, bert \| Markov chain \|/,
    );
    const summary = formatSummary(result, {});
    expect(summary).toMatch(/real text\s+GAN, scalar\s+GAN, word2vec\s+GAN, bert\s+Markov chain/);

    const handle = stack.client.workflow.getHandle(result.workflowId);
    const status = await handle.query(pipelineStatusQuery);
    expect(status.stages.filter((stage) => stage.status === 'done').map((stage) => stage.name)).toContain(
      'evaluate bert',
    );
  }, 900_000);

  it('skips BERT with instructions when its model is missing', async () => {
    const result = await run(
      smallRun([
        'stages.embed.strategies=["scalar","bert"]',
        'stages.embed.bert.model="/nonexistent/bert-model"',
      ]),
      'no-bert',
    );
    expect(result.strategies?.ready).toEqual(['scalar']);
    const note = result.strategies?.skipped.bert ?? '';
    expect(note).toContain('BERT skipped: no config.json in the model location /nonexistent/bert-model');
    expect(note).toContain('infra/scripts/install-bert.sh');
    expect(note).toContain('bert-base-uncased');
    expect(result.report!.evaluations.map((branch) => branch.strategy)).toEqual(['scalar']);
    const markdown = (await getBytes(stack.storage, result.report!.markdownKey)).toString('utf8');
    expect(markdown).toContain('BERT skipped');
    expect(formatSummary(result, {})).toContain('BERT skipped');

    const status = await stack.client.workflow.getHandle(result.workflowId).query(pipelineStatusQuery);
    const bertStages = status.stages.filter((stage) => stage.name.endsWith(' bert'));
    expect(bertStages.map((stage) => stage.status)).toEqual(['skipped', 'skipped', 'skipped']);
  }, 300_000);

  it('skips a BERT model that fails to load', async () => {
    const model = writeTinyBert();
    writeFileSync(join(model, 'model.safetensors'), 'not a safetensors file');
    const result = await run(
      smallRun(['stages.embed.strategies=["scalar","bert"]', `stages.embed.bert.model="${model}"`]),
      'broken-bert',
    );
    expect(result.strategies?.ready).toEqual(['scalar']);
    expect(result.strategies?.skipped.bert).toContain(
      `BERT skipped: the model at ${model} could not be loaded`,
    );
  }, 300_000);

  it('fails when no strategy can run', async () => {
    const failure = await run(
      smallRun(['stages.embed.strategies=["bert"]', 'stages.embed.bert.model="/nonexistent/bert-model"']),
      'none',
    ).then(
      () => undefined,
      (error: unknown) => error as WorkflowFailedError,
    );
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(failure?.cause?.message).toContain('No embedding strategy can run. BERT skipped');
  }, 300_000);
});
