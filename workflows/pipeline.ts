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
import type { EvaluateActivities } from '../activities/evaluate';
import type { ReportResult } from '../activities/report';
import type { TrainActivities } from '../activities/train';
import type { RunConfig } from '../infra/config';
import type { StageResult } from '../infra/stages';
import { checkRowAccounting, type RowAccounting } from './accounting';

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
  return proxyActivities<TrainActivities>({
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

export type StageStatus = 'pending' | 'running' | 'done' | 'reused' | 'failed';

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
  /** Missing when the run stopped early (runUntil). */
  report?: ReportResult;
}

export const pipelineStatusQuery = defineQuery<PipelineStatus>('status');

const STAGE_ORDER = ['fetch', 'dedup', 'tokenize', 'markov', 'embed', 'train', 'evaluate', 'report'] as const;

export async function textGanPipeline(config: RunConfig): Promise<PipelineResult> {
  const status: PipelineStatus = { stages: STAGE_ORDER.map((name) => ({ name, status: 'pending' })) };
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
    const state = status.stages.find((stage) => stage.name === name) as StageState;
    state.status = 'running';
    state.startedAt = new Date().toISOString();
    state.summary = summary;
    status.currentStage = name;
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
      status.currentStage = undefined;
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
  // The Markov baseline needs only the tokens, so it runs while the GAN branch embeds and trains.
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
  const strategy = config.stages.embed.strategy;
  const ganBranch = (async () => {
    const embedded = await runStep('embed', `fitting the ${strategy} embedding`, () =>
      dataStages.embedTokens.executeWithOptions(
        { summary: `embed: fit ${strategy} on train, encode both splits` },
        [
          {
            storage: config.storage,
            tokenizeManifestKey: tokenized.manifestKey,
            options: config.stages.embed,
          },
        ],
      ),
    );
    const trained = await runStep('train', `training the GAN (${config.stages.train.preset} preset)`, () =>
      training.trainGan.executeWithOptions(
        { summary: `train: LSTM GAN on ${strategy}, ${config.stages.train.preset} preset` },
        [{ storage: config.storage, embedManifestKey: embedded.manifestKey, options: config.stages.train }],
      ),
    );
    return { embedded, trained };
  })();
  const [markov, { embedded, trained }] = await Promise.all([markovRun, ganBranch]);
  if (config.runUntil === 'train') return stopEarly();

  await runStep('evaluate', 'judging the GAN and the Markov chain', () =>
    evaluationStage.evaluateRun.executeWithOptions(
      { summary: 'evaluate: study table, BLEU, self-BLEU, distinct-n, perplexity, two-sample test' },
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

  const reportState = status.stages.find((stage) => stage.name === 'report') as StageState;
  reportState.status = 'running';
  status.currentStage = 'report';
  describeProgress();
  const manifestKeys = Object.fromEntries(
    Object.entries(results).map(([stage, result]) => [stage, result.manifestKey]),
  );
  const report = await dataStages.writeReport.executeWithOptions(
    { summary: 'report: Markdown and HTML with plots' },
    [{ workflowId: workflowInfo().workflowId, config, manifestKeys, accounting }],
  );
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
    report,
  };
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
      return `${reused}${counts.strategy}: ${counts.vocabulary} words, ${counts.dimension} values per word`;
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
