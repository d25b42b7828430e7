import {
  ApplicationFailure,
  defineQuery,
  log,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type * as activities from '../activities';
import type { checkEmbeddingStrategies, embedTokens, StrategyCheck } from '../activities/embed';
import type { EvaluateActivities } from '../activities/evaluate';
import type { ReportResult } from '../activities/report';
import type { TrainActivities } from '../activities/train';
import type { EmbeddingStrategyName, RunConfig } from '../infra/config';
import type { StageResult } from '../infra/stages';
import { checkRowAccounting, type RowAccounting } from './accounting';
import { embedStageOptions } from './branches';

/**
 * The text-GAN pipeline: fetch, deduplicate and tokenize the comment corpus, each stage a durable
 * activity that reads and writes Parquet in S3. Only manifests (keys, counts, hashes) pass through
 * this code and its history, never rows or tensors.
 */

import { PIPELINE_TASK_QUEUE, TRAIN_TASK_QUEUE } from './queues';

export { PIPELINE_TASK_QUEUE, TRAIN_TASK_QUEUE };

// Data stages stream their input, so a stuck one stops heartbeating long before it hits the overall
// timeout. Bad input is non-retryable (type InvalidInput); S3 and network faults retry with backoff.
const dataStages = proxyActivities<typeof activities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '1 minute',
  retry: {
    initialInterval: '2 seconds',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    maximumAttempts: 20,
    nonRetryableErrorTypes: ['InvalidInput'],
  },
});

/**
 * Options of the training call. The heartbeat timeout is what hands a crashed worker's attempt to
 * another worker, so it comes from the run config. The retried attempt resumes from the checkpoint
 * key in the last heartbeat.
 */
function trainingStage(heartbeatTimeoutSeconds: number) {
  return proxyActivities<TrainActivities & { embedTokens: typeof embedTokens }>({
    taskQueue: TRAIN_TASK_QUEUE,
    startToCloseTimeout: '7 days',
    heartbeatTimeout: `${heartbeatTimeoutSeconds} seconds`,
    retry: {
      initialInterval: '5 seconds',
      backoffCoefficient: 2,
      maximumInterval: '2 minutes',
      maximumAttempts: 20,
      nonRetryableErrorTypes: ['InvalidInput'],
    },
  });
}

// Evaluation heartbeats between phases, and one phase (scoring every real text) can take minutes
// on a CPU backend. A failed attempt starts over, which costs minutes, not hours.
const evaluationStage = proxyActivities<EvaluateActivities>({
  taskQueue: TRAIN_TASK_QUEUE,
  startToCloseTimeout: '1 day',
  heartbeatTimeout: '10 minutes',
  retry: {
    initialInterval: '5 seconds',
    backoffCoefficient: 2,
    maximumInterval: '2 minutes',
    maximumAttempts: 5,
    nonRetryableErrorTypes: ['InvalidInput'],
  },
});

// Runs on the training worker, which is where a BERT model must be readable.
const modelChecks = proxyActivities<{ checkEmbeddingStrategies: typeof checkEmbeddingStrategies }>({
  taskQueue: TRAIN_TASK_QUEUE,
  startToCloseTimeout: '2 minutes',
  retry: { initialInterval: '2 seconds', maximumAttempts: 5 },
});

export type StageStatus = 'pending' | 'running' | 'done' | 'reused' | 'failed' | 'skipped';

export interface StageState {
  name: string;
  status: StageStatus;
  /** One line for people: what the stage did or is doing. */
  summary?: string;
  manifestKey?: string;
  startedAt?: string;
  finishedAt?: string;
}

export interface PipelineStatus {
  /** Stages running now, joined by commas: the embedding branches run side by side. */
  currentStage?: string;
  stages: StageState[];
}

export interface PipelineResult {
  runName?: string;
  workflowId: string;
  /** Storage location of the stage outputs (no credentials), for commands that read them later. */
  storage: RunConfig['storage'];
  stages: Record<string, StageResult>;
  accounting: RowAccounting;
  /** Embedding strategies that ran, and those skipped with the reason; missing before the branches. */
  strategies?: StrategyCheck;
  /** Missing when the run stopped early (runUntil). */
  report?: ReportResult;
}

export const pipelineStatusQuery = defineQuery<PipelineStatus>('status');

/** Steps of each embedding branch; a branch's stage is named by step and strategy, e.g. "train bert". */
const BRANCH_STEPS = ['embed', 'train', 'evaluate'] as const;

/** Stage names in display order: shared data stages, one row per branch step, then the report. */
export function stageNames(strategies: readonly string[]): string[] {
  const branchStages = strategies.flatMap((strategy) => BRANCH_STEPS.map((step) => `${step} ${strategy}`));
  return ['fetch', 'dedup', 'tokenize', 'markov', ...branchStages, 'report'];
}

// NOTE: runs started before the embedding branches existed scheduled a different activity
// sequence, so they cannot replay on this code. Let them finish or terminate them before deploying.
export async function textGanPipeline(config: RunConfig): Promise<PipelineResult> {
  const status: PipelineStatus = {
    stages: stageNames(config.stages.embed.strategies).map((name) => ({ name, status: 'pending' })),
  };
  const running = new Set<string>();
  const findStage = (name: string): StageState =>
    status.stages.find((stage) => stage.name === name) as StageState;
  setHandler(pipelineStatusQuery, () => status);
  const results: Record<string, StageResult> = {};

  const describeProgress = (): void => {
    const lines = status.stages.map(
      (stage) => `${stage.name}: ${stage.status}${stage.summary ? ` (${stage.summary})` : ''}`,
    );
    setCurrentDetails(lines.join('\n'));
  };

  async function runStep(
    name: string,
    summary: string,
    call: () => Promise<StageResult>,
  ): Promise<StageResult> {
    const state = findStage(name);
    state.status = 'running';
    state.startedAt = new Date().toISOString();
    state.summary = summary;
    running.add(name);
    status.currentStage = [...running].join(', ');
    describeProgress();
    try {
      const result = await call();
      state.status = result.reused ? 'reused' : 'done';
      state.summary = summarize(result);
      state.manifestKey = result.manifestKey;
      state.finishedAt = new Date().toISOString();
      results[name] = result;
      log.info('stage finished', { stage: name, reused: result.reused, manifestKey: result.manifestKey });
      return result;
    } catch (error) {
      state.status = 'failed';
      state.finishedAt = new Date().toISOString();
      throw error;
    } finally {
      running.delete(name);
      status.currentStage = running.size > 0 ? [...running].join(', ') : undefined;
      describeProgress();
    }
  }

  const sourceCount = config.dataset.sources.length;
  const fetched = await runStep('fetch', `reading ${sourceCount} sources`, () =>
    dataStages.fetchComments.executeWithOptions({ summary: `fetch: read ${sourceCount} comment files` }, [
      { storage: config.storage, dataset: config.dataset, options: config.stages.fetch },
    ]),
  );
  const deduped = await runStep('dedup', 'dropping exact duplicates', () =>
    dataStages.dedupComments.executeWithOptions({ summary: 'dedup: drop exact duplicate and empty texts' }, [
      { storage: config.storage, fetchManifestKey: fetched.manifestKey, options: config.stages.dedup },
    ]),
  );
  const tokenized = await runStep('tokenize', 'splitting into words', () =>
    dataStages.tokenizeComments.executeWithOptions(
      { summary: 'tokenize: words, length limit, train/test split' },
      [{ storage: config.storage, dedupManifestKey: deduped.manifestKey, options: config.stages.tokenize }],
    ),
  );

  const accounting = checkRowAccounting(fetched, deduped, tokenized);
  if (!accounting.balanced) {
    throw ApplicationFailure.nonRetryable(
      `Row accounting does not add up: ${accounting.rowsRead} rows read, but ${accounting.accountedFor} accounted for`,
      'AccountingMismatch',
      accounting,
    );
  }

  const stopEarly = (): PipelineResult => {
    for (const stage of status.stages)
      if (stage.status === 'pending') stage.summary = `skipped (runUntil ${config.runUntil})`;
    describeProgress();
    return {
      runName: config.runName,
      workflowId: workflowInfo().workflowId,
      storage: config.storage,
      stages: results,
      accounting,
    };
  };
  if (config.runUntil === 'tokenize') return stopEarly();

  const training = trainingStage(config.stages.train.heartbeatTimeoutSeconds);
  // The Markov baseline needs only the tokens, so it runs while the GAN branches embed and train.
  const markovRun = runStep('markov', 'fitting the Markov chain', () =>
    dataStages.fitMarkov.executeWithOptions(
      { summary: 'markov: fit the bigram chain, generate baseline texts' },
      [
        {
          storage: config.storage,
          tokenizeManifestKey: tokenized.manifestKey,
          options: config.stages.markov,
        },
      ],
    ),
  );
  // Guard the branches against a failed Markov stage being reported as unhandled before they await it.
  markovRun.catch(() => undefined);

  const embed = config.stages.embed;
  const check = await modelChecks.checkEmbeddingStrategies.executeWithOptions(
    { summary: `check the models of ${embed.strategies.join(', ')}` },
    [{ storage: config.storage, strategies: embed.strategies, bertModel: embed.bert.model }],
  );
  if (check.ready.length === 0) {
    throw ApplicationFailure.nonRetryable(
      `No embedding strategy can run. ${Object.values(check.skipped).join(' ')}`,
      'NoEmbeddingStrategy',
      check,
    );
  }
  for (const [strategy, reason] of Object.entries(check.skipped)) {
    for (const step of BRANCH_STEPS) {
      const state = findStage(`${step} ${strategy}`);
      state.status = 'skipped';
      state.summary = reason;
    }
  }
  describeProgress();

  // One branch per strategy: embed, train, then (after the Markov chain) evaluate. The training
  // worker runs one activity at a time, so branches interleave there rather than compete for cores.
  const branch = async (strategy: EmbeddingStrategyName): Promise<void> => {
    const embedded = await runStep(`embed ${strategy}`, `fitting the ${strategy} embedding`, () =>
      training.embedTokens.executeWithOptions(
        { summary: `embed ${strategy}: fit on train, encode both splits` },
        [
          {
            storage: config.storage,
            tokenizeManifestKey: tokenized.manifestKey,
            options: embedStageOptions(embed, strategy),
          },
        ],
      ),
    );
    const trained = await runStep(
      `train ${strategy}`,
      `training the GAN (${config.stages.train.preset} preset)`,
      () =>
        training.trainGan.executeWithOptions(
          { summary: `train ${strategy}: LSTM GAN, ${config.stages.train.preset} preset` },
          [{ storage: config.storage, embedManifestKey: embedded.manifestKey, options: config.stages.train }],
        ),
    );
    if (config.runUntil === 'train') return;
    const markov = await markovRun;
    await runStep(`evaluate ${strategy}`, 'judging the GAN and the Markov chain', () =>
      evaluationStage.evaluateRun.executeWithOptions(
        {
          summary: `evaluate ${strategy}: study table, BLEU, self-BLEU, distinct-n, perplexity, two-sample tests`,
        },
        [
          {
            storage: config.storage,
            tokenizeManifestKey: tokenized.manifestKey,
            embedManifestKey: embedded.manifestKey,
            trainManifestKey: trained.manifestKey,
            markovManifestKey: markov.manifestKey,
            options: config.stages.evaluate,
          },
        ],
      ),
    );
  };
  // A failed branch does not stop the others: they finish, the report shows what they found and
  // names the failure, and then the run fails so that `resume` retries the failed branch.
  const outcomes = await Promise.allSettled(check.ready.map(branch));
  await markovRun;
  const failed: Partial<Record<EmbeddingStrategyName, string>> = {};
  outcomes.forEach((outcome, index) => {
    if (outcome.status === 'fulfilled') return;
    const strategy = check.ready[index] as EmbeddingStrategyName;
    failed[strategy] = `${strategy} failed: ${failureMessage(outcome.reason)}`;
    for (const step of BRANCH_STEPS) {
      const state = findStage(`${step} ${strategy}`);
      if (state.status !== 'pending') continue;
      state.status = 'skipped';
      state.summary = `not run: an earlier ${strategy} stage failed`;
    }
  });
  describeProgress();
  const failures = Object.values(failed);
  const branchesFailed = (): ApplicationFailure =>
    ApplicationFailure.nonRetryable(
      `${failures.length} of ${check.ready.length} embedding branches failed. ${failures.join(' ')}`,
      'BranchFailed',
      failed,
    );
  const strategies: StrategyCheck = { ready: check.ready, skipped: check.skipped, failed };
  if (failures.length === check.ready.length) throw branchesFailed();
  if (config.runUntil === 'train') {
    if (failures.length > 0) throw branchesFailed();
    return { ...stopEarly(), strategies };
  }

  const reportState = findStage('report');
  reportState.status = 'running';
  status.currentStage = 'report';
  describeProgress();
  const manifestKeys = Object.fromEntries(
    Object.entries(results).map(([stage, result]) => [stage, result.manifestKey]),
  );
  let report: ReportResult;
  try {
    report = await dataStages.writeReport.executeWithOptions(
      { summary: 'report: Markdown and HTML with plots' },
      [{ workflowId: workflowInfo().workflowId, config, manifestKeys, accounting, strategies }],
    );
  } catch (error) {
    reportState.status = 'failed';
    status.currentStage = undefined;
    describeProgress();
    throw error;
  }
  if (failures.length > 0) {
    reportState.status = 'done';
    reportState.summary = report.htmlKey;
    describeProgress();
    throw branchesFailed();
  }
  reportState.status = 'done';
  reportState.summary = report.htmlKey;
  status.currentStage = undefined;
  describeProgress();
  return {
    runName: config.runName,
    workflowId: workflowInfo().workflowId,
    storage: config.storage,
    stages: results,
    accounting,
    strategies,
    report,
  };
}

/** Returns the innermost message of an activity failure, which describes the root cause. */
function failureMessage(error: unknown): string {
  let current = error as { message?: string; cause?: unknown } | undefined;
  while (current?.cause) current = current.cause as { message?: string; cause?: unknown };
  return current?.message ?? String(error);
}

function formatLoss(value: number | undefined): string {
  return value === undefined ? 'n/a' : value.toFixed(3);
}

function summarize(result: StageResult): string {
  const counts = result.counts as Record<string, number | undefined>;
  const reused = result.reused ? 'reused, ' : '';
  switch (result.stage) {
    case 'fetch':
      return `${reused}${counts.rowsRead} rows read, ${counts.rowsKept} kept, ${counts.rowsRejected} rejected, ${counts.sourcesSkipped} sources skipped`;
    case 'dedup':
      return `${reused}${counts.kept} distinct, ${counts.duplicates} duplicates, ${counts.empty} empty`;
    case 'tokenize':
      return `${reused}${counts.train} train, ${counts.test} test, ${counts.vocabulary} words in vocabulary`;
    case 'embed':
      return `${reused}${counts.vocabulary} words, ${counts.dimension} values per word, ${counts.train} train and ${counts.test} test texts encoded`;
    case 'markov':
      return `${reused}${counts.vocabularySize} words, ${counts.distinctBigrams} distinct bigrams, ${counts.samples} samples`;
    case 'evaluate':
      return `${reused}metrics for the GAN and the Markov chain`;
    case 'train':
      return `${reused}${counts.steps} steps, final D loss ${formatLoss(counts.finalDLoss)}, G loss ${formatLoss(counts.finalGLoss)}`;
    default:
      return `${reused}done`;
  }
}
