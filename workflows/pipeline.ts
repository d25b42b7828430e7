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
import type { RunConfig } from '../infra/config';
import type { StageResult } from '../infra/stages';
import { checkRowAccounting, type RowAccounting } from './accounting';

/**
 * The text-GAN pipeline: fetch, deduplicate and tokenize the comment corpus, each stage a durable
 * activity that reads and writes Parquet in S3. Only manifests (keys, counts, hashes) pass through
 * this code and its history, never rows or tensors.
 */

/** Task queue of the pipeline workflow and its CPU activities. */
export const PIPELINE_TASK_QUEUE = 'textgan-pipeline';

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
  stages: Record<string, StageResult>;
  accounting: RowAccounting;
}

export const pipelineStatusQuery = defineQuery<PipelineStatus>('status');

const STAGE_ORDER = ['fetch', 'dedup', 'tokenize'] as const;

export async function textGanPipeline(config: RunConfig): Promise<PipelineResult> {
  const status: PipelineStatus = { stages: STAGE_ORDER.map((name) => ({ name, status: 'pending' })) };
  setHandler(pipelineStatusQuery, () => status);
  const results: Record<string, StageResult> = {};

  const describeProgress = (): void => {
    const lines = status.stages.map((stage) => `${stage.name}: ${stage.status}${stage.summary ? ` (${stage.summary})` : ''}`);
    setCurrentDetails(lines.join('\n'));
  };

  async function runStep(name: string, summary: string, call: () => Promise<StageResult>): Promise<StageResult> {
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
    dataStages.tokenizeComments.executeWithOptions({ summary: 'tokenize: words, length limit, train/test split' }, [
      { storage: config.storage, dedupManifestKey: deduped.manifestKey, options: config.stages.tokenize },
    ]),
  );

  const accounting = checkRowAccounting(fetched, deduped, tokenized);
  if (!accounting.balanced) {
    throw ApplicationFailure.nonRetryable(
      `Row accounting does not add up: ${accounting.rowsRead} rows read, but ${accounting.accountedFor} accounted for`,
      'AccountingMismatch',
      accounting,
    );
  }
  return { runName: config.runName, workflowId: workflowInfo().workflowId, stages: results, accounting };
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
    default:
      return `${reused}done`;
  }
}
