import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRunConfig, uploadLocalSources, workflowIdFor } from '../cli/run-config';
import { listRuns, readRunConfig, resumeRun } from '../cli/runs';
import type { RunConfig, SourceConfig } from '../infra/config';
import { cyberbullyDataset } from '../infra/datasets';
import { readParquet, readParquetFiles } from '../infra/parquet';
import { getBytes, listKeys, putBytes } from '../infra/s3';
import { readManifest, tableFiles } from '../infra/stages';
import { PIPELINE_TASK_QUEUE, pipelineStatusQuery, type PipelineResult } from '../workflows/pipeline';
import {
  startPipelineWorker,
  type RunningWorker,
  capturedLogs,
  startTestStack,
  type TestStack,
} from './helpers/stack';

let stack: TestStack;
let pipelineWorker: RunningWorker | undefined;
let runCounter = 0;

beforeAll(async () => {
  stack = await startTestStack();
  pipelineWorker = await startPipelineWorker(stack);
});

afterAll(async () => {
  await pipelineWorker?.stop();
  await stack?.stop();
});

/** Data stages only: this suite runs no TensorFlow.js worker. */
function configFor(sources: SourceConfig[], overrides: string[] = []): RunConfig {
  const config = buildRunConfig(
    { sets: ['runUntil=tokenize', ...overrides] },
    { endpoint: stack.storageConfig.endpoint, bucket: stack.storageConfig.bucket },
  );
  return { ...config, storage: stack.storageConfig, dataset: { name: 'test', sources } };
}

async function runPipeline(config: RunConfig): Promise<PipelineResult> {
  const uploaded = await uploadLocalSources(config, stack.storage);
  runCounter += 1;
  return stack.client.workflow.execute('textGanPipeline', {
    taskQueue: PIPELINE_TASK_QUEUE,
    workflowId: `${workflowIdFor(uploaded)}-${runCounter}`,
    args: [uploaded],
  });
}

function bundledSources(): SourceConfig[] {
  return cyberbullyDataset().sources.filter((source) => !source.optional);
}

function writeCsv(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'textgan-csv-'));
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function source(name: string, uri: string, extra: Partial<SourceConfig> = {}): SourceConfig {
  return {
    name,
    uri,
    format: 'csv',
    textColumn: 'Text',
    label: { column: 'oh_label' },
    optional: false,
    ...extra,
  };
}

describe('pipeline on the bundled comments', () => {
  let result: PipelineResult;

  beforeAll(async () => {
    result = await runPipeline(configFor(bundledSources()));
  }, 600_000);

  it('reads every row of the five files', () => {
    expect(result.stages.fetch?.counts.rowsRead).toBe(57_265);
    const perSource = (result.stages.fetch?.counts.sources as Array<{ name: string; rowsRead: number }>).map(
      (s) => [s.name, s.rowsRead],
    );
    expect(perSource).toEqual([
      ['kaggle', 8_789],
      ['twitter', 16_663],
      ['twitter_racism', 13_471],
      ['twitter_sexism', 14_881],
      ['youtube', 3_461],
    ]);
  });

  it('rejects the empty text and the empty labels', async () => {
    // Six rows: twitter rows 2955-2957 lack a label; twitter_sexism rows 9782-9784 too, and 9783 has no text either.
    expect(result.stages.fetch?.counts.rowsRejected).toBe(6);
    const manifest = await readManifest(stack.storage, result.stages.fetch!.manifestKey);
    const rejects: Array<[unknown, unknown, unknown]> = [];
    for await (const row of readParquetFiles<Record<string, unknown>>(
      stack.storage,
      tableFiles(manifest, 'rejects'),
    )) {
      rejects.push([row.source, row.source_row, row.reason]);
    }
    expect(rejects).toEqual([
      ['twitter', 2955, 'label is missing'],
      ['twitter', 2956, 'label is missing'],
      ['twitter', 2957, 'label is missing'],
      ['twitter_sexism', 9782, 'label is missing'],
      ['twitter_sexism', 9783, 'text is empty'],
      ['twitter_sexism', 9784, 'label is missing'],
    ]);
  });

  it('counts 45,434 distinct texts over all rows read', async () => {
    const fetchManifest = await readManifest(stack.storage, result.stages.fetch!.manifestKey);
    const texts = new Set<string>();
    for await (const row of readParquetFiles<{ text: string }>(
      stack.storage,
      tableFiles(fetchManifest, 'rows'),
      ['text'],
    )) {
      texts.add(row.text);
    }
    for await (const row of readParquetFiles<{ record: string; source: string }>(
      stack.storage,
      tableFiles(fetchManifest, 'rejects'),
    )) {
      // Text is the fourth column of the kaggle file and the third of the others.
      const textIndex = row.source === 'kaggle' ? 3 : 2;
      texts.add((JSON.parse(row.record) as string[])[textIndex] ?? '');
    }
    expect(texts.size).toBe(45_434);
  });

  it('balances the row accounting', () => {
    const a = result.accounting;
    expect(a.balanced).toBe(true);
    expect(a.rowsRead).toBe(
      a.kept + a.rejected + a.duplicates + a.empty + a.droppedTooLong + a.droppedNoTokens,
    );
  });

  it('splits about 80/20 into train and test', () => {
    const counts = result.stages.tokenize!.counts as { train: number; test: number };
    const share = counts.test / (counts.train + counts.test);
    expect(share).toBeGreaterThan(0.18);
    expect(share).toBeLessThan(0.22);
  });

  it('writes a manifest next to each stage output', async () => {
    for (const stage of ['fetch', 'dedup', 'tokenize']) {
      const manifest = await readManifest(stack.storage, result.stages[stage]!.manifestKey);
      expect(manifest.stage).toBe(stage);
      expect(manifest.contentHash).toMatch(/^[0-9a-f]{64}$/);
      for (const table of Object.values(manifest.tables)) {
        expect(table.rows).toBe(table.files.reduce((n, file) => n + file.rows, 0));
      }
    }
    const tokenize = await readManifest(stack.storage, result.stages.tokenize!.manifestKey);
    expect(Object.keys(tokenize.tables).sort()).toEqual(['test', 'train', 'vocabulary']);
    expect(tokenize.inputs[0]?.manifestKey).toBe(result.stages.dedup!.manifestKey);
  });

  it('logs no comment text', async () => {
    const fetchManifest = await readManifest(stack.storage, result.stages.fetch!.manifestKey);
    const samples: string[] = [];
    for await (const row of readParquetFiles<{ text: string }>(
      stack.storage,
      tableFiles(fetchManifest, 'rows'),
      ['text'],
    )) {
      if (row.text.length >= 30) samples.push(row.text.slice(0, 30));
      if (samples.length >= 2000) break;
    }
    const logged = capturedLogs
      .map((entry) => `${entry.message} ${JSON.stringify(entry.meta ?? {})}`)
      .join('\n');
    expect(capturedLogs.length).toBeGreaterThan(0);
    expect(samples.filter((text) => logged.includes(text))).toEqual([]);
  });

  it('reuses every stage when the same config runs again', async () => {
    const again = await runPipeline(configFor(bundledSources()));
    for (const stage of ['fetch', 'dedup', 'tokenize']) {
      expect(again.stages[stage]?.reused).toBe(true);
      expect(again.stages[stage]?.manifestKey).toBe(result.stages[stage]?.manifestKey);
    }
  }, 120_000);

  it('writes Parquet that DuckDB reads identically', async () => {
    const manifest = await readManifest(stack.storage, result.stages.tokenize!.manifestKey);
    const key = tableFiles(manifest, 'test')[0] as string;
    const dir = mkdtempSync(join(tmpdir(), 'textgan-duckdb-'));
    const path = join(dir, 'test.parquet');
    writeFileSync(path, await getBytes(stack.storage, key));

    const ours: Array<Record<string, unknown>> = [];
    for await (const row of readParquet(stack.storage, key)) ours.push(row);
    const instance = await DuckDBInstance.create(':memory:');
    const connection = await instance.connect();
    const reader = await connection.runAndReadAll(
      `SELECT id, label, source, tokens, length FROM read_parquet('${path}')`,
    );
    const theirs = reader.getRowObjectsJS();
    connection.closeSync();

    expect(theirs).toHaveLength(ours.length);
    expect(theirs).toEqual(
      ours.map((row) => ({
        id: row.id,
        label: row.label,
        source: row.source,
        tokens: row.tokens,
        length: row.length,
      })),
    );
  });
});

describe('pipeline on hand-made inputs', () => {
  it('stores rejected rows with file, row and reason', async () => {
    const path = writeCsv(
      'mixed.csv',
      'index,Text,oh_label\n0,good text here,1\n1,,0\n2,bad label,7\n3,good text here,0\n',
    );
    const result = await runPipeline(configFor([source('mixed', path)]));
    const manifest = await readManifest(stack.storage, result.stages.fetch!.manifestKey);
    const rejects = [];
    for await (const row of readParquetFiles<Record<string, unknown>>(
      stack.storage,
      tableFiles(manifest, 'rejects'),
    ))
      rejects.push(row);
    expect(rejects.map((r) => [r.source_file, r.source_row, r.field, r.reason])).toEqual([
      ['mixed.csv', 2, 'Text', 'text is empty'],
      ['mixed.csv', 3, 'oh_label', 'label 7 is not 0 or 1'],
    ]);
    expect(result.stages.dedup?.counts.duplicates).toBe(1);
    expect(result.accounting.balanced).toBe(true);
  });

  it('skips an unreachable optional source with a warning', async () => {
    const path = writeCsv('ok.csv', 'index,Text,oh_label\n0,some words,1\n');
    const result = await runPipeline(
      configFor(
        [source('ok', path), source('gone', 'http://127.0.0.1:9/missing.csv', { optional: true })],
        ['stages.fetch.httpTimeoutSeconds=2'],
      ),
    );
    const sources = result.stages.fetch?.counts.sources as Array<{
      name: string;
      status: string;
      reason?: string;
    }>;
    expect(sources.map((s) => [s.name, s.status])).toEqual([
      ['ok', 'read'],
      ['gone', 'skipped'],
    ]);
    expect(sources[1]?.reason).toContain('Cannot reach http://127.0.0.1:9/missing.csv');
  });

  it('gives up on an unreachable required source after a few attempts', async () => {
    const error = await runPipeline(
      configFor([source('gone', 'http://127.0.0.1:9/missing.csv')], ['stages.fetch.httpTimeoutSeconds=2']),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const failure = (error as WorkflowFailedError).cause as (Error & { cause?: Error }) | undefined;
    expect(failure?.cause?.message).toMatch(
      /Cannot reach http:\/\/127\.0\.0\.1:9\/missing\.csv.*\(tried 3 times\)/,
    );
  });

  it('fails at once on bad input, naming the file and column', async () => {
    const path = writeCsv('nocolumn.csv', 'index,Body,oh_label\n0,text,1\n');
    const started = Date.now();
    const error = await runPipeline(configFor([source('nocolumn', path)])).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const failure = (error as WorkflowFailedError).cause as (Error & { cause?: Error }) | undefined;
    const message = failure?.cause?.message ?? '';
    expect(message).toContain('nocolumn.csv: text column "Text" not found in the header');
    // Non-retryable: the run ends on the first attempt instead of backing off for minutes.
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  it('answers the status query with each stage', async () => {
    const path = writeCsv('tiny.csv', 'index,Text,oh_label\n0,one two three,1\n');
    const config = await uploadLocalSources(configFor([source('tiny', path)]), stack.storage);
    const handle = await stack.client.workflow.start('textGanPipeline', {
      taskQueue: PIPELINE_TASK_QUEUE,
      workflowId: `${workflowIdFor(config)}-status`,
      args: [config],
    });
    await handle.result();
    const status = await handle.query(pipelineStatusQuery);
    expect(status.stages.map((s) => [s.name, s.status])).toEqual([
      ['fetch', 'done'],
      ['dedup', 'done'],
      ['tokenize', 'done'],
      ['markov', 'pending'],
      ['embed scalar', 'pending'],
      ['train scalar', 'pending'],
      ['evaluate scalar', 'pending'],
      ['embed word2vec', 'pending'],
      ['train word2vec', 'pending'],
      ['evaluate word2vec', 'pending'],
      ['embed bert', 'pending'],
      ['train bert', 'pending'],
      ['evaluate bert', 'pending'],
      ['report', 'pending'],
    ]);
    expect(status.stages[3]?.summary).toBe('skipped (runUntil tokenize)');
    expect(status.stages[2]?.summary).toMatch(/train, .* test, .* words in vocabulary/);
  });

  it('keeps credentials out of workflow history', async () => {
    const path = writeCsv('secret.csv', 'index,Text,oh_label\n0,nothing to see,0\n');
    const config = await uploadLocalSources(configFor([source('secret', path)]), stack.storage);
    const handle = await stack.client.workflow.start('textGanPipeline', {
      taskQueue: PIPELINE_TASK_QUEUE,
      workflowId: `${workflowIdFor(config)}-secret`,
      args: [config],
    });
    await handle.result();
    const history = JSON.stringify(await handle.fetchHistory());
    expect(history).not.toContain(stack.info.credentials.secretAccessKey);
    expect(history).not.toContain(stack.info.credentials.accessKeyId);
    const keys = await listKeys(stack.storage, 'test/');
    expect(keys.every((key) => key.startsWith('test/stages/') || key.startsWith('test/inputs/'))).toBe(true);
  });
});

describe('run inspection and resume', () => {
  it('resumes a failed run once its input appears', async () => {
    const key = `test/late/${Date.now()}.csv`;
    const config = configFor([source('late', `s3://${stack.storageConfig.bucket}/${key}`)]);
    const workflowId = `${workflowIdFor(config)}-resume`;
    const first = await stack.client.workflow.start('textGanPipeline', {
      taskQueue: PIPELINE_TASK_QUEUE,
      workflowId,
      args: [config],
    });
    const error = await first.result().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WorkflowFailedError);

    await putBytes(stack.storage, key, 'index,Text,oh_label\n0,it arrived late,1\n');
    expect(await readRunConfig(stack.client, workflowId)).toEqual(config);
    const resumed = await resumeRun(stack.client, workflowId);
    expect(resumed.runId).not.toBe(first.firstExecutionRunId);
    const result: PipelineResult = await stack.client.workflow.getHandle(workflowId, resumed.runId).result();
    expect(result.stages.fetch?.counts.rowsRead).toBe(1);

    const runs = await listRuns(stack.client);
    const statuses = runs.filter((run) => run.workflowId === workflowId).map((run) => run.status);
    expect(statuses.sort()).toEqual(['COMPLETED', 'FAILED']);
  });

  it('resumes a terminated run and reuses finished stages', async () => {
    const path = writeCsv('terminated.csv', 'index,Text,oh_label\n0,first words,1\n1,second words,0\n');
    const config = await uploadLocalSources(configFor([source('terminated', path)]), stack.storage);
    const workflowId = `${workflowIdFor(config)}-terminate`;
    const finished: PipelineResult = await stack.client.workflow.execute('textGanPipeline', {
      taskQueue: PIPELINE_TASK_QUEUE,
      workflowId: `${workflowId}-warm`,
      args: [config],
    });
    const handle = await stack.client.workflow.start('textGanPipeline', {
      taskQueue: PIPELINE_TASK_QUEUE,
      workflowId,
      args: [config],
    });
    await handle.terminate('test: simulate an operator stopping the run');

    const resumed = await resumeRun(stack.client, workflowId);
    const result: PipelineResult = await stack.client.workflow.getHandle(workflowId, resumed.runId).result();
    for (const stage of ['fetch', 'dedup', 'tokenize']) {
      expect(result.stages[stage]?.reused).toBe(true);
      expect(result.stages[stage]?.manifestKey).toBe(finished.stages[stage]?.manifestKey);
    }
  });

  it('refuses to resume a run that is still going', async () => {
    const path = writeCsv('running.csv', 'index,Text,oh_label\n0,still here,1\n');
    const config = await uploadLocalSources(configFor([source('running', path)]), stack.storage);
    const workflowId = `${workflowIdFor(config)}-running`;
    // Started on a queue no worker polls, so it stays running.
    const handle = await stack.client.workflow.start('textGanPipeline', {
      taskQueue: 'nobody-polls-this',
      workflowId,
      args: [config],
    });
    await expect(resumeRun(stack.client, workflowId)).rejects.toThrow('is still running');
    await handle.terminate('test cleanup');
  });
});
