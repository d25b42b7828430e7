import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeReport } from '../activities/report';
import { SAMPLES_SCHEMA } from '../activities/markov';
import { TOKENS_SCHEMA } from '../activities/tokenize';
import { buildRunConfig } from '../cli/run-config';
import { describeSchema, readParquet, writeParquet, type TableSchema } from '../infra/parquet';
import { getBytes, listKeys, objectExists, putJson } from '../infra/s3';
import { contentHashOf, manifestKeyOf, sha256Hex, type StageManifest } from '../infra/stages';
import { labelCommand } from '../labeling/command';
import { loadRunTexts, MissingTextsError } from '../labeling/run-texts';
import { finalAnswers, scoreAnswers, type AnswerRecord } from '../labeling/score';
import { startLabelServer, type LabelServer } from '../labeling/server';
import { openLabelSession, SessionSettingsError, type LabelSession } from '../labeling/session';
import { labelsPrefix, loadRunLabels, sessionKeys } from '../labeling/store';
import { PROJECT_ROOT } from '../infra/stack';
import type { RowAccounting } from '../workflows/accounting';
import type { PipelineResult } from '../workflows/pipeline';
import { startTestStack, type TestStack } from './helpers/stack';

/**
 * The labelling server and its storage against a private SeaweedFS, with a fake finished run: small
 * tokenize, markov and evaluate stage outputs of harmless made-up sentences, written the way the
 * stages write them. The last suite drives the page in headless Chromium.
 */

let stack: TestStack;
const quietLogger = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

const SUBJECTS = ['the cat', 'my neighbour', 'a small boat', 'the old clock', 'our garden', 'the new bakery'];
const VERBS = ['likes', 'visits', 'paints', 'watches', 'finds', 'remembers'];
const OBJECTS = ['the river', 'a blue kite', 'warm bread', 'the morning train', 'quiet music', 'red apples'];

/** Harmless made-up sentences, distinct for distinct `index` below 216. */
function sentence(kind: string, index: number): string {
  const subject = SUBJECTS[index % 6] as string;
  const verb = VERBS[Math.floor(index / 6) % 6] as string;
  const object = OBJECTS[Math.floor(index / 36) % 6] as string;
  return `${kind} ${subject} ${verb} ${object}`;
}

interface FakeRun {
  workflowId: string;
  manifestKeys: Record<string, string>;
  contentHashes: Record<string, string>;
}

async function writeStage(
  prefix: string,
  stage: string,
  tables: Record<string, { schema: TableSchema; rows: Array<Record<string, unknown>> }>,
): Promise<StageManifest> {
  const dir = `${prefix}/stages/${stage}/${sha256Hex(`${prefix}/${stage}`).slice(0, 20)}`;
  const written: StageManifest['tables'] = {};
  for (const [name, table] of Object.entries(tables)) {
    const file = await writeParquet(
      stack.storage,
      `${dir}/${name}/part-00000.parquet`,
      table.schema,
      table.rows,
    );
    written[name] = { schema: describeSchema(table.schema), rows: file.rows, files: [file] };
  }
  const manifest: StageManifest = {
    stage,
    version: 1,
    fingerprint: dir.split('/').at(-1) as string,
    manifestKey: manifestKeyOf(dir),
    inputs: [],
    options: {},
    tables: written,
    artifacts: {},
    counts: {},
    runtime: {},
    contentHash: contentHashOf(stage, written, {}, {}),
    createdAt: new Date().toISOString(),
    durationMs: 5,
  };
  await putJson(stack.storage, manifest.manifestKey, manifest);
  return manifest;
}

/** Writes the three stage outputs labelling reads; `variant` changes the texts, and so the hashes. */
async function writeFakeRun(workflowId: string, variant = ''): Promise<FakeRun> {
  const prefix = `${stack.storageConfig.prefix}/${workflowId}${variant}`;
  const tokens = (kind: string, count: number) =>
    Array.from({ length: count }, (_, index) => sentence(`${kind}${variant}`, index));
  const tokenize = await writeStage(prefix, 'tokenize', {
    test: {
      schema: TOKENS_SCHEMA,
      rows: [...tokens('people say', 40), ''].map((text, id) => ({
        id,
        label: id % 2,
        source: 'made-up',
        tokens: text,
        length: text.split(' ').length,
      })),
    },
  });
  const samples = (kind: string, count: number) =>
    // A sample that decoded to padding only is an empty string; labelling must drop it.
    [...tokens(kind, count), ''].map((text, sample) => ({
      sample,
      tokens: text,
      length: text.split(' ').length,
      unknown: 0,
    }));
  const markov = await writeStage(prefix, 'markov', {
    samples: { schema: SAMPLES_SCHEMA, rows: samples('chain', 30) },
  });
  const evaluate = await writeStage(prefix, 'evaluate', {
    generator_samples: { schema: SAMPLES_SCHEMA, rows: samples('network', 30) },
  });
  const manifests = { tokenize, markov, evaluate };
  return {
    workflowId,
    manifestKeys: Object.fromEntries(Object.entries(manifests).map(([stage, m]) => [stage, m.manifestKey])),
    contentHashes: Object.fromEntries(Object.entries(manifests).map(([stage, m]) => [stage, m.contentHash])),
  };
}

async function openSession(run: FakeRun, session: string, requested: { items?: number; seed?: number } = {}) {
  return openLabelSession({
    storage: stack.storage,
    labels: labelsPrefix(stack.storageConfig.prefix, run.workflowId),
    session,
    workflowId: run.workflowId,
    requested,
    defaults: { items: 12, seed: 1, realShare: 0.5 },
    loadSources: () => loadRunTexts(stack.storage, run.manifestKeys, run.workflowId),
  });
}

async function readSessionAnswers(run: FakeRun, session: string): Promise<AnswerRecord[]> {
  const keys = sessionKeys(labelsPrefix(stack.storageConfig.prefix, run.workflowId), session);
  const files = (await listKeys(stack.storage, `${keys.folder}/`)).filter((key) => key.includes('/answers-'));
  const rows: AnswerRecord[] = [];
  for (const key of files.sort())
    for await (const row of readParquet<AnswerRecord>(stack.storage, key)) rows.push(row);
  return rows;
}

beforeAll(async () => {
  stack = await startTestStack();
});

afterAll(async () => {
  await stack?.stop();
});

describe('label sessions in S3', () => {
  it('creates a session from the run texts', async () => {
    const run = await writeFakeRun('run-create');
    const { session, created } = await openSession(run, 'alice');
    expect(created).toBe(true);
    expect(session.items).toHaveLength(12);
    const counts = new Map<string, number>();
    for (const item of session.items) counts.set(item.source, (counts.get(item.source) ?? 0) + 1);
    expect(counts.get('real')).toBe(6);
    expect(counts.get('gan')).toBe(3);
    expect(counts.get('markov')).toBe(3);
    for (const item of session.items) expect(item.text.length).toBeGreaterThan(0);
    expect(
      session.items.filter((item) => item.source === 'gan').every((item) => item.text.startsWith('network')),
    ).toBe(true);
    expect(session.info.sources.real?.available).toBe(40);
    expect(session.info.sources.gan?.contentHash).toBe(run.contentHashes.evaluate);

    const keys = sessionKeys(labelsPrefix(stack.storageConfig.prefix, run.workflowId), 'alice');
    expect(await objectExists(stack.storage, keys.info)).toBe(true);
    expect(await objectExists(stack.storage, keys.items)).toBe(true);
  });

  it('reopens a session with its items', async () => {
    const run = await writeFakeRun('run-reopen');
    const first = await openSession(run, 'bob', { items: 10, seed: 5 });
    const again = await openSession(run, 'bob');
    expect(again.created).toBe(false);
    expect(again.session.items).toEqual(first.session.items);
    await expect(openSession(run, 'bob', { items: 12 })).rejects.toThrow(SessionSettingsError);
    await expect(openSession(run, 'bob', { seed: 6 })).rejects.toThrow(/created with --seed 5, not 6/);
  });

  it('gives equal seeds equal mixes', async () => {
    const run = await writeFakeRun('run-seed');
    const one = await openSession(run, 'one', { seed: 9 });
    const two = await openSession(run, 'two', { seed: 9 });
    expect(two.session.items).toEqual(one.session.items);
  });

  it('rejects a run without generated texts', async () => {
    const run = await writeFakeRun('run-partial');
    const onlyTokens = { ...run, manifestKeys: { tokenize: run.manifestKeys.tokenize as string } };
    await expect(openSession(onlyTokens, 'carol')).rejects.toThrow(MissingTextsError);
    await expect(openSession(onlyTokens, 'carol')).rejects.toThrow(/has no generated texts/);
  });
});

describe('label server', () => {
  let run: FakeRun;
  let session: LabelSession;
  let server: LabelServer;

  beforeAll(async () => {
    run = await writeFakeRun('run-server');
    session = (await openSession(run, 'dana')).session;
    server = await startLabelServer({ session, logger: quietLogger, port: 0 });
  });

  afterAll(async () => {
    await server?.close();
  });

  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(new URL(path, server.url), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });

  it('serves the page from loopback', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const response = await fetch(server.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await response.text();
    expect(html).toContain('Content note.');
    expect(html).toContain('/app.js');
    expect((await fetch(new URL('/app.js', server.url))).status).toBe(200);
    expect((await fetch(new URL('/style.css', server.url))).status).toBe(200);
  });

  it('hides sources until the end', async () => {
    const snapshot = (await (await fetch(new URL('/api/session', server.url))).json()) as {
      items: Array<Record<string, unknown>>;
      total: number;
      nextIndex: number;
    };
    expect(snapshot.total).toBe(12);
    expect(snapshot.nextIndex).toBe(0);
    for (const item of snapshot.items) expect(Object.keys(item).sort()).toEqual(['id', 'text']);
  });

  it('rejects invalid requests', async () => {
    const bad = await post('/api/answers', { item_id: 0, answer: 'maybe', ms_taken: 5 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toContain('Invalid answer "maybe"');
    expect((await post('/api/answers', { item_id: 99, answer: 'real', ms_taken: 5 })).status).toBe(400);
    expect((await post('/api/answers', { item_id: 0, answer: 'real', ms_taken: -1 })).status).toBe(400);
    const plain = await fetch(new URL('/api/answers', server.url), {
      method: 'POST',
      headers: { 'Content-Type': 'text/plain' },
      body: '{}',
    });
    expect(plain.status).toBe(415);
    // fetch() does not let a caller set Host, so this request goes through node:http directly.
    const rebound = await new Promise<number>((resolve, reject) => {
      const request = httpRequest(
        new URL('/api/session', server.url),
        { headers: { Host: 'attacker.example' } },
        (response) => {
          response.resume();
          resolve(response.statusCode ?? 0);
        },
      );
      request.on('error', reject);
      request.end();
    });
    expect(rebound).toBe(421);
    expect((await fetch(new URL('/nowhere', server.url))).status).toBe(404);
    expect((await post('/api/finish', {})).status).toBe(409);
    expect(await readSessionAnswers(run, 'dana')).toHaveLength(0);
  });

  it('stores each answer as it comes', async () => {
    const response = await post('/api/answers', {
      item_id: 0,
      answer: 'real',
      ms_taken: 1234.4,
      answered_at: '2024-05-01T10:00:00Z',
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ saved: true, answered: 1, nextIndex: 1 });
    const rows = await readSessionAnswers(run, 'dana');
    expect(rows).toEqual([
      {
        session: 'dana',
        item_id: 0,
        true_source: session.items[0]?.source,
        answer: 'real',
        ms_taken: 1234,
        answered_at: '2024-05-01T10:00:00.000Z',
      },
    ]);
  });

  it('undoes and resumes after a restart', async () => {
    await post('/api/answers', { item_id: 1, answer: 'fake', ms_taken: 900 });
    await post('/api/answers', { item_id: 2, answer: 'skip', ms_taken: 0 });
    await post('/api/answers', { item_id: 2, answer: 'undo', ms_taken: 0 });
    // A retried undo changes nothing and writes nothing.
    await post('/api/answers', { item_id: 2, answer: 'undo', ms_taken: 0 });
    expect(await readSessionAnswers(run, 'dana')).toHaveLength(4);

    const reopened = (await openSession(run, 'dana')).session;
    const snapshot = reopened.snapshot();
    expect(snapshot.answered).toBe(2);
    expect(snapshot.nextIndex).toBe(2);
  });

  it('locks the session after finishing', async () => {
    for (let id = 2; id < 12; id++) {
      const response = await post('/api/answers', {
        item_id: id,
        answer: id % 3 === 0 ? 'real' : 'fake',
        ms_taken: 10,
      });
      expect(response.status).toBe(200);
    }
    const finish = await post('/api/finish', {});
    expect(finish.status).toBe(200);
    const results = (await finish.json()) as {
      judgments: number;
      items: Array<{ id: number; source: string; answer: string }>;
    };
    expect(results.judgments).toBe(12);
    expect(results.items.map((item) => item.source)).toEqual(session.items.map((item) => item.source));
    const late = await post('/api/answers', { item_id: 0, answer: 'fake', ms_taken: 10 });
    expect(late.status).toBe(409);
    expect((await post('/api/finish', {})).status).toBe(200);
    const reopened = (await openSession(run, 'dana')).session;
    expect(reopened.finished).toBe(true);
  });
});

const accounting: RowAccounting = {
  rowsRead: 100,
  rejected: 0,
  duplicates: 0,
  empty: 0,
  droppedTooLong: 0,
  droppedNoTokens: 0,
  kept: 100,
  accountedFor: 100,
  balanced: true,
};

async function answerAll(session: LabelSession, pick: (source: string) => 'real' | 'fake'): Promise<void> {
  for (const item of session.items)
    await session.record({ itemId: item.id, answer: pick(item.source), msTaken: 50 });
}

function reportConfig() {
  const config = buildRunConfig(
    { sets: [] },
    { endpoint: stack.storageConfig.endpoint, bucket: stack.storageConfig.bucket },
  );
  return { ...config, storage: stack.storageConfig };
}

describe('scores and report', () => {
  it('scores all sessions of a run', async () => {
    const run = await writeFakeRun('run-score');
    // Erin marks everything real; Finn marks only real text real.
    await answerAll((await openSession(run, 'erin')).session, () => 'real');
    await answerAll((await openSession(run, 'finn')).session, (source) =>
      source === 'real' ? 'real' : 'fake',
    );
    // A session on other texts under the same workflow id, as after a rerun with changed stages.
    const stale = await writeFakeRun('run-score', '-old');
    const staleSession = await openLabelSession({
      storage: stack.storage,
      labels: labelsPrefix(stack.storageConfig.prefix, 'run-score'),
      session: 'gus',
      workflowId: 'run-score',
      requested: {},
      defaults: { items: 12, seed: 1, realShare: 0.5 },
      loadSources: () => loadRunTexts(stack.storage, stale.manifestKeys, 'run-score'),
    });
    await answerAll(staleSession.session, () => 'fake');

    const loaded = await loadRunLabels(stack.storage, labelsPrefix(stack.storageConfig.prefix, 'run-score'), {
      real: run.contentHashes.tokenize as string,
      gan: run.contentHashes.evaluate as string,
      markov: run.contentHashes.markov as string,
    });
    expect(loaded.sessions).toEqual(['erin', 'finn']);
    expect(loaded.excluded.map((entry) => entry.session)).toEqual(['gus']);
    const scores = scoreAnswers(finalAnswers(loaded.records));
    expect(scores.sessions).toBe(2);
    expect(scores.judgments).toBe(24);
    expect(scores.real?.markedReal).toBe(12);
    const gan = scores.generators.find((score) => score.source === 'gan');
    expect(gan?.judgments).toBe(6);
    expect(gan?.markedReal).toBe(3);
  });

  it('adds human evaluation to the report', async () => {
    const run = await writeFakeRun('run-report');
    const config = reportConfig();
    const input = { workflowId: run.workflowId, config, manifestKeys: run.manifestKeys, accounting };
    const before = await writeReport(input, quietLogger);
    const plain = (await getBytes(stack.storage, before.markdownKey)).toString('utf8');
    expect(plain).not.toContain('Human evaluation');

    await answerAll((await openSession(run, 'hana')).session, (source) =>
      source === 'gan' ? 'real' : 'fake',
    );
    const after = await writeReport(input, quietLogger);
    const markdown = (await getBytes(stack.storage, after.markdownKey)).toString('utf8');
    expect(markdown).toContain('## Human evaluation');
    expect(markdown).toContain('12 real-or-fake judgments from 1 session');
    expect(markdown).toMatch(/\| GAN +\| fooling rate +\| +3 \| +3 \| +0 \| +100\.0% \|/);
    const html = (await getBytes(stack.storage, after.htmlKey)).toString('utf8');
    expect(html).toContain('<h2>Human evaluation</h2>');
    expect(html).toContain('accuracy on real text');
  });
});

describe('label command', () => {
  const workflowId = 'run-command';
  let run: FakeRun;
  let output: { stdout: string; stderr: string };
  const savedAddress = process.env.TEMPORAL_ADDRESS;

  beforeAll(async () => {
    run = await writeFakeRun(workflowId);
    await answerAll((await openSession(run, 'jo')).session, (source) =>
      source === 'markov' ? 'real' : 'fake',
    );
    const config = reportConfig();
    const result: PipelineResult = {
      workflowId,
      storage: stack.storageConfig,
      stages: Object.fromEntries(
        Object.entries(run.manifestKeys).map(([stage, manifestKey]) => [
          stage,
          {
            stage,
            manifestKey,
            contentHash: run.contentHashes[stage] as string,
            reused: false,
            rows: {},
            artifacts: {},
            counts: {},
            runtime: {},
            durationMs: 5,
          },
        ]),
      ),
      accounting,
    };
    const connection = await NativeConnection.connect({ address: stack.info.temporalAddress });
    try {
      const worker = await Worker.create({
        connection,
        namespace: stack.info.namespace,
        taskQueue: 'labeling-test',
        workflowBundle: await bundleWorkflowCode({
          workflowsPath: join(__dirname, 'labeling-fake-run.workflow.ts'),
          logger: quietLogger,
        }),
      });
      await worker.runUntil(
        stack.client.workflow.execute('fakeFinishedPipeline', {
          taskQueue: 'labeling-test',
          workflowId,
          args: [config, result],
        }),
      );
    } finally {
      await connection.close();
    }
    // With TEMPORAL_ADDRESS set, the command uses this server instead of starting the local stack.
    process.env.TEMPORAL_ADDRESS = stack.info.temporalAddress;
  });

  afterAll(() => {
    if (savedAddress === undefined) delete process.env.TEMPORAL_ADDRESS;
    else process.env.TEMPORAL_ADDRESS = savedAddress;
    rmSync(join(PROJECT_ROOT, 'out', workflowId), { recursive: true, force: true });
  });

  async function runLabel(args: string[]): Promise<number> {
    output = { stdout: '', stderr: '' };
    const capture = (stream: 'stdout' | 'stderr') =>
      vi.spyOn(process[stream], 'write').mockImplementation((chunk: string | Uint8Array) => {
        output[stream] += chunk.toString();
        return true;
      });
    const spies = [capture('stdout'), capture('stderr')];
    try {
      return await labelCommand(args);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  }

  it('rejects invalid flags', async () => {
    expect(await runLabel([])).toBe(2);
    expect(output.stderr).toContain('Missing --run');
    expect(await runLabel(['--run', workflowId, '--score', '--session', 'x'])).toBe(2);
    expect(output.stderr).toContain('leave out --port, --session, --items and --seed');
    expect(await runLabel(['--run', workflowId, '--items', '1'])).toBe(2);
    expect(output.stderr).toContain('Invalid --items "1"');
    expect(await runLabel(['--run', workflowId, '--session', '../up'])).toBe(2);
    expect(output.stderr).toContain('Invalid session name "../up"');
  });

  it('reports an unknown run', async () => {
    expect(await runLabel(['--run', 'no-such-run', '--score'])).toBe(1);
    expect(output.stderr).toContain('Run no-such-run not found');
  });

  it('prints the scores', async () => {
    expect(await runLabel(['--run', workflowId, '--score'])).toBe(0);
    expect(output.stdout).toContain(`Human evaluation of run ${workflowId}`);
    expect(output.stdout).toContain('12 real-or-fake judgments from 1 session');
    expect(output.stdout).toMatch(/Markov chain +fooling rate +3 +3 +0 +100\.0%/);
    expect(output.stdout).toMatch(/real text +accuracy on real text +6 +0 +0 +0\.0%/);
  });

  it('serves a session until interrupted', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'cli/textgan.ts', 'label', '--run', workflowId, '--session', 'kim'],
      {
        cwd: PROJECT_ROOT,
        env: { ...process.env, TEMPORAL_ADDRESS: stack.info.temporalAddress },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let stdout = '';
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          const match = /Labelling page: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(stdout);
          if (match) resolve(match[1] as string);
        });
        exited.then((code) => reject(new Error(`label exited with ${code} before serving: ${stderr}`)));
      });
      const snapshot = (await (await fetch(new URL('/api/session', url))).json()) as { total: number };
      expect(snapshot.total).toBe(60);
      const saved = await fetch(new URL('/api/answers', url), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ item_id: 0, answer: 'fake', ms_taken: 700 }),
      });
      expect(saved.status).toBe(200);
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(stderr).toContain('Created session kim');
    expect(stderr).toContain('Content note');
    expect(await readSessionAnswers(run, 'kim')).toHaveLength(1);
  });

  it('updates the report', async () => {
    expect(await runLabel(['--run', workflowId, '--update-report'])).toBe(0);
    expect(output.stdout).toContain('Report updated: s3://');
    const local = join(PROJECT_ROOT, 'out', workflowId, 'report.md');
    expect(existsSync(local)).toBe(true);
    const markdown = (
      await getBytes(stack.storage, `${stack.storageConfig.prefix}/runs/${workflowId}/report.md`)
    ).toString('utf8');
    expect(markdown).toContain('## Human evaluation');
    expect(markdown).toContain('## Configuration');
  });
});

/** Installs Chromium through the project script when missing; returns why it is unavailable, if it is. */
function ensureChromium(): string | undefined {
  if (existsSync('/usr/bin/chromium')) return undefined;
  const install = spawnSync('bash', ['infra/scripts/install-chromium.sh'], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (install.status === 0 && existsSync('/usr/bin/chromium')) return undefined;
  return `Chromium is not installed and infra/scripts/install-chromium.sh failed (exit ${install.status}): ${install.stderr.trim().split('\n').at(-1) ?? ''}`;
}

describe('label page in Chromium', () => {
  let unavailable: string | undefined;

  // On a fresh machine the install downloads the package, which can take minutes.
  beforeAll(() => {
    unavailable = ensureChromium();
  }, 660_000);

  it('labels, resumes and shows results', { timeout: 180_000 }, async (context) => {
    if (unavailable) context.skip(unavailable);
    const { chromium } = await import('playwright-core');

    const run = await writeFakeRun('run-browser');
    const { session } = await openSession(run, 'ivy');
    const server = await startLabelServer({ session, logger: quietLogger, port: 0 });
    const userDataDir = mkdtempSync(join(tmpdir(), 'textgan-chromium-'));
    const artifacts = join(__dirname, '..', 'test-artifacts');
    mkdirSync(artifacts, { recursive: true });
    const browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
      viewport: { width: 1000, height: 720 },
    });
    try {
      const page = browser.pages()[0] ?? (await browser.newPage());
      const sourceOf = (index: number) => session.items[index]?.source;
      const label = page.locator('#item-label');
      const allSaved = () => page.locator('#save-status', { hasText: 'All answers saved' }).waitFor();

      await page.goto(server.url);
      await page.locator('#intro').waitFor();
      await expect(page.locator('.note').textContent()).resolves.toContain('Content note.');
      expect(await page.locator('#intro .blur-toggle').isChecked()).toBe(true);
      await page.screenshot({ path: join(artifacts, 'labeling-intro.png') });
      await page.click('#start');

      // Comment 1: blurred until clicked, then answered by click.
      await expect(label.textContent()).resolves.toBe('Comment 1 of 12');
      expect(await page.locator('#card').getAttribute('class')).toContain('blurred');
      expect(await page.locator('#real').isDisabled()).toBe(true);
      await page.screenshot({ path: join(artifacts, 'labeling-blurred.png') });
      await page.click('#card');
      await page.click('#real');
      // Comment 2: revealed by Space, answered by F.
      await expect(label.textContent()).resolves.toBe('Comment 2 of 12');
      await page.keyboard.press('Space');
      await page.keyboard.press('f');
      // Comment 3: R on a blurred comment only asks for a reveal.
      await expect(label.textContent()).resolves.toBe('Comment 3 of 12');
      await page.keyboard.press('r');
      await expect(page.locator('#hint').textContent()).resolves.toContain('Show the comment first');
      await expect(label.textContent()).resolves.toBe('Comment 3 of 12');
      await page.click('#reveal');
      await page.keyboard.press('r');
      // Comment 4: click answers.
      await page.click('#card');
      await page.click('#fake');
      // Comment 5: skipped while blurred; a skip right after a comment appears counts as a double press.
      await expect(label.textContent()).resolves.toBe('Comment 5 of 12');
      await page.waitForTimeout(300);
      await page.keyboard.press('s');
      // Comment 6: answered, undone, answered again.
      await expect(label.textContent()).resolves.toBe('Comment 6 of 12');
      await page.keyboard.press('Space');
      await page.keyboard.press('r');
      await expect(label.textContent()).resolves.toBe('Comment 7 of 12');
      await page.keyboard.press('u');
      await expect(label.textContent()).resolves.toBe('Comment 6 of 12');
      await page.keyboard.press('Space');
      await page.keyboard.press('f');
      await expect(label.textContent()).resolves.toBe('Comment 7 of 12');
      await allSaved();

      const saved = await readSessionAnswers(run, 'ivy');
      expect(saved.map((row) => [row.item_id, row.answer])).toEqual([
        [0, 'real'],
        [1, 'fake'],
        [2, 'real'],
        [3, 'fake'],
        [4, 'skip'],
        [5, 'real'],
        [5, 'undo'],
        [5, 'fake'],
      ]);
      for (const row of saved) {
        expect(row.session).toBe('ivy');
        expect(row.true_source).toBe(sourceOf(row.item_id));
        expect(row.ms_taken).toBeGreaterThanOrEqual(0);
        expect(Number.isFinite(Date.parse(row.answered_at))).toBe(true);
      }

      await page.reload();
      await page.locator('#intro').waitFor();
      await expect(page.locator('#start').textContent()).resolves.toBe('Continue at comment 7');
      await expect(page.locator('#progress-text').textContent()).resolves.toBe('6 of 12 answered');
      await page.click('#start');
      await expect(label.textContent()).resolves.toBe('Comment 7 of 12');
      await page.keyboard.press('Space');
      // The blur fades out over 0.15 s.
      await page.waitForTimeout(300);
      await page.screenshot({ path: join(artifacts, 'labeling.png') });

      // Comments 7 to 12 by keyboard: real comments marked real, generated ones alternately.
      for (let index = 6; index < 12; index++) {
        await expect(label.textContent()).resolves.toBe(`Comment ${index + 1} of 12`);
        if (index > 6) await page.keyboard.press('Space');
        await page.keyboard.press(sourceOf(index) === 'real' || index % 2 === 0 ? 'r' : 'f');
      }
      await page.locator('#review').waitFor();
      await allSaved();
      await page.click('#see-results');
      await page.locator('#results').waitFor();
      await page.locator('#results details summary').click();
      await page.screenshot({ path: join(artifacts, 'labeling-results.png'), fullPage: true });

      const loaded = await loadRunLabels(
        stack.storage,
        labelsPrefix(stack.storageConfig.prefix, run.workflowId),
      );
      const final = finalAnswers(loaded.records);
      const scores = scoreAnswers(final);
      expect(final).toHaveLength(12);
      expect(scores.skipped).toBe(1);
      expect(scores.judgments).toBe(11);
      const correct = final.filter(
        (row) => row.answer !== 'skip' && (row.answer === 'real') === (row.true_source === 'real'),
      ).length;
      expect(scores.accuracy?.successes).toBe(correct);
      await expect(page.locator('#results-summary').textContent()).resolves.toContain(
        `You judged 11 comments and were right on ${correct} of them`,
      );
      const rows = await page.locator('#results-table tbody tr').count();
      expect(rows).toBe(3);
      expect(await page.locator('#results-items li').count()).toBe(12);
      const keys = sessionKeys(labelsPrefix(stack.storageConfig.prefix, run.workflowId), 'ivy');
      expect(await objectExists(stack.storage, keys.finished)).toBe(true);

      // A reload of a finished session goes straight to the results.
      await page.reload();
      await page.locator('#results').waitFor();
    } finally {
      await browser.close();
      await server.close();
      rmSync(userDataDir, { recursive: true, force: true });
    }
  });
});
