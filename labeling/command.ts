import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Client, Connection, WorkflowNotFoundError } from '@temporalio/client';
import { DefaultLogger, type Logger } from '@temporalio/worker';
import { writeReport } from '../activities/report';
import { toText } from '../eval/tables';
import type { RunConfig } from '../infra/config';
import { createStorage, getBytes, type Storage } from '../infra/s3';
import { PROJECT_ROOT } from '../infra/stack';
import type { PipelineResult } from '../workflows/pipeline';
import { connectStack, temporalTarget } from '../cli/run';
import { readRunConfig } from '../cli/runs';
import { expectedSourceHashes, loadRunTexts, MissingTextsError } from './run-texts';
import { describeBasis, finalAnswers, humanScoresTable, scoreAnswers } from './score';
import { startLabelServer } from './server';
import { openLabelSession, SessionSettingsError } from './session';
import { checkSessionName, labelsPrefix, loadRunLabels } from './store';

const CONTENT_NOTE =
  'Content note: the page shows real comments from an abusive, racist and sexist corpus and texts generated from it.';

/** Defaults of a new session: 60 items, half of them real comments. */
const DEFAULT_ITEMS = 60;
const DEFAULT_SEED = 1;
const REAL_SHARE = 0.5;
const MAX_ITEMS = 10_000;

/** A finished run as the label command needs it. */
interface FinishedRun {
  workflowId: string;
  result: PipelineResult;
}

class UsageError extends Error {}

function parseInteger(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < min || parsed > max)
    throw new UsageError(`Invalid --${name} "${value}": expected an integer from ${min} to ${max}.`);
  return parsed;
}

/**
 * Runs `textgan label --run <workflow id> [--port N] [--session NAME] [--items N] [--seed S]`, which
 * serves the labelling page for one person's session. With `--score` it prints the scores of all
 * sessions instead, and with `--update-report` it writes the run's report again with them.
 */
export async function labelCommand(argv: string[]): Promise<number> {
  let options;
  try {
    options = parseLabelArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError || (error instanceof Error && error.name === 'TypeError'))) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }

  const logger = new DefaultLogger(process.env.TEXTGAN_LOG_LEVEL === 'DEBUG' ? 'DEBUG' : 'INFO');
  const target = temporalTarget(await connectStack());
  const connection = await Connection.connect({ address: target.address });
  let run: FinishedRun;
  let config: RunConfig | undefined;
  try {
    const client = new Client({ connection, namespace: target.namespace });
    const found = await fetchFinishedRun(client, options.run);
    if (typeof found === 'string') {
      process.stderr.write(`${found}\n`);
      return 1;
    }
    run = found;
    if (options.updateReport) config = await readRunConfig(client, options.run);
  } finally {
    await connection.close();
  }
  const storage = createStorage(run.result.storage);

  if (options.score || config) {
    if (options.score) await printScores(storage, run);
    if (config) await updateReport(storage, run, config, logger);
    return 0;
  }
  return serve(storage, run, options, logger);
}

interface LabelOptions {
  run: string;
  port: number;
  session: string;
  items?: number;
  seed?: number;
  score: boolean;
  updateReport: boolean;
}

function parseLabelArgs(argv: string[]): LabelOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      run: { type: 'string' },
      port: { type: 'string' },
      session: { type: 'string' },
      items: { type: 'string' },
      seed: { type: 'string' },
      score: { type: 'boolean', default: false },
      'update-report': { type: 'boolean', default: false },
    },
  });
  if (!values.run) throw new UsageError('Missing --run: give the workflow id that `textgan run` printed.');
  const serverFlags = ['port', 'session', 'items', 'seed'] as const;
  if ((values.score || values['update-report']) && serverFlags.some((flag) => values[flag] !== undefined))
    throw new UsageError(
      '--score and --update-report cover all sessions of the run: leave out --port, --session, --items and --seed.',
    );
  let session = values.session;
  if (session === undefined) {
    // A new name per start, so two people never share a session by accident.
    session = `session-${new Date().toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15)}`;
  }
  try {
    checkSessionName(session);
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  return {
    run: values.run,
    port: parseInteger('port', values.port, 0, 65535) ?? 0,
    session,
    items: parseInteger('items', values.items, 2, MAX_ITEMS),
    seed: parseInteger('seed', values.seed, 0, 2 ** 32 - 1),
    score: values.score ?? false,
    updateReport: values['update-report'] ?? false,
  };
}

/** Returns the run's result, or a message saying why there is none yet. */
async function fetchFinishedRun(client: Client, workflowId: string): Promise<FinishedRun | string> {
  const handle = client.workflow.getHandle(workflowId);
  let status: string;
  try {
    status = (await handle.describe()).status.name;
  } catch (error) {
    if (error instanceof WorkflowNotFoundError)
      return `Run ${workflowId} not found. Give the workflow id that \`textgan run\` printed.`;
    throw error;
  }
  if (status === 'RUNNING') return `Run ${workflowId} is still running. Label it once it has finished.`;
  if (status !== 'COMPLETED')
    return `Run ${workflowId} ended with status ${status} and has no outputs to label. Run the pipeline again to finish it.`;
  return { workflowId, result: (await handle.result()) as PipelineResult };
}

function manifestKeysOf(result: PipelineResult): Record<string, string> {
  return Object.fromEntries(
    Object.entries(result.stages).map(([stage, stageResult]) => [stage, stageResult.manifestKey]),
  );
}

async function serve(
  storage: Storage,
  run: FinishedRun,
  options: LabelOptions,
  logger: Logger,
): Promise<number> {
  const labels = labelsPrefix(run.result.storage.prefix, run.workflowId);
  let opened;
  try {
    opened = await openLabelSession({
      storage,
      labels,
      session: options.session,
      workflowId: run.workflowId,
      requested: { items: options.items, seed: options.seed },
      defaults: { items: DEFAULT_ITEMS, seed: DEFAULT_SEED, realShare: REAL_SHARE },
      loadSources: () => loadRunTexts(storage, manifestKeysOf(run.result), run.workflowId),
    });
  } catch (error) {
    const expected =
      error instanceof SessionSettingsError ||
      error instanceof MissingTextsError ||
      error instanceof RangeError;
    if (!expected) throw error;
    process.stderr.write(`${error.message}\n`);
    return 2;
  }

  const { session, created } = opened;
  const snapshot = session.snapshot();
  process.stderr.write(`${CONTENT_NOTE}\n`);
  let server;
  try {
    server = await startLabelServer({ session, logger, port: options.port });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw error;
    process.stderr.write(
      `Port ${options.port} on 127.0.0.1 is in use. Pick another --port, or leave it out to get a free one.\n`,
    );
    return 1;
  }
  process.stderr.write(
    `${created ? 'Created' : 'Reopened'} session ${session.name} of run ${run.workflowId}: ${snapshot.total} items, ${snapshot.answered} answered${snapshot.finished ? ', finished' : ''}.\n`,
  );
  process.stdout.write(`Labelling page: ${server.url}\n`);
  process.stderr.write(
    `Open it in a browser on this machine; Ctrl-C stops the server. Answers are saved as they are given to s3://${storage.bucket}/${labels}/${session.name}/.\n` +
      `Reopen this session with: npm run textgan -- label --run ${run.workflowId} --session ${session.name}\n`,
  );

  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
  logger.info('label server stopped', { session: session.name, workflowId: run.workflowId });
  process.stderr.write(
    `Scores of all sessions: npm run textgan -- label --run ${run.workflowId} --score (add --update-report to refresh the report).\n`,
  );
  return 0;
}

async function printScores(storage: Storage, run: FinishedRun): Promise<void> {
  const labels = labelsPrefix(run.result.storage.prefix, run.workflowId);
  const hashes = expectedSourceHashes(
    Object.fromEntries(
      Object.entries(run.result.stages).map(([stage, result]) => [stage, result.contentHash]),
    ),
  );
  const loaded = await loadRunLabels(storage, labels, hashes);
  for (const entry of loaded.excluded)
    process.stderr.write(`Left out session ${entry.session}: ${entry.reason}.\n`);
  const scores = scoreAnswers(finalAnswers(loaded.records));
  if (scores.judgments === 0) {
    process.stdout.write(
      `No real-or-fake answers for run ${run.workflowId} under s3://${storage.bucket}/${labels}/. Start a session with: npm run textgan -- label --run ${run.workflowId}\n`,
    );
    return;
  }
  process.stdout.write(
    `Human evaluation of run ${run.workflowId}\n${describeBasis(scores)}\n\n${toText(humanScoresTable(scores))}\n`,
  );
}

/**
 * Writes the run's report again, now with its human evaluation section, to S3 and to
 * out/<workflow id>/ as `textgan run` does.
 */
async function updateReport(
  storage: Storage,
  run: FinishedRun,
  config: RunConfig,
  logger: Logger,
): Promise<void> {
  const report = await writeReport(
    {
      workflowId: run.workflowId,
      config,
      manifestKeys: manifestKeysOf(run.result),
      accounting: run.result.accounting,
    },
    logger,
  );
  const dir = join(PROJECT_ROOT, 'out', run.workflowId.replace(/[^A-Za-z0-9._-]/g, '_'));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'report.md'), await getBytes(storage, report.markdownKey));
  writeFileSync(join(dir, 'report.html'), await getBytes(storage, report.htmlKey));
  process.stdout.write(
    `Report updated: s3://${storage.bucket}/${report.htmlKey}\nLocal copy: ${join(dir, 'report.html')}\n`,
  );
}
