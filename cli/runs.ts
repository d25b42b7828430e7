import { Client, WorkflowNotFoundError } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import { toText, type Table } from '../eval/tables';
import { parseRunConfig, type RunConfig } from '../infra/config';
import { PIPELINE_TASK_QUEUE, pipelineStatusQuery, type PipelineStatus } from '../workflows/pipeline';

export interface RunSummary {
  workflowId: string;
  runId: string;
  status: string;
  startTime: Date;
  closeTime?: Date;
}

/** Lists pipeline runs, newest first. */
export async function listRuns(client: Client, limit = 50): Promise<RunSummary[]> {
  const runs: RunSummary[] = [];
  for await (const run of client.workflow.list({ query: "WorkflowType = 'textGanPipeline'" })) {
    runs.push({
      workflowId: run.workflowId,
      runId: run.runId,
      status: run.status.name,
      startTime: run.startTime,
      closeTime: run.closeTime,
    });
    if (runs.length >= limit) break;
  }
  return runs.sort((a, b) => b.startTime.getTime() - a.startTime.getTime());
}

export function formatRuns(runs: RunSummary[]): string {
  if (runs.length === 0) return 'No pipeline runs yet. Start one with `npm run pipeline`.';
  const table: Table = {
    header: ['workflow id', 'status', 'started', 'ended'],
    rows: runs.map((run) => [
      run.workflowId,
      run.status,
      run.startTime.toISOString(),
      run.closeTime?.toISOString() ?? '',
    ]),
    numeric: [false, false, false, false],
  };
  return toText(table);
}

/** Reads the config a run was started with, from the first event of its history. */
export async function readRunConfig(client: Client, workflowId: string, runId?: string): Promise<RunConfig> {
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payload = started?.input?.payloads?.[0];
  if (!payload) throw new Error(`Run ${workflowId} has no start input in its history`);
  return parseRunConfig(defaultPayloadConverter.fromPayload(payload), `config of run ${workflowId}`);
}

/** Status of each stage of a run: live from the workflow's query, which also works after it closed. */
export async function showRun(
  client: Client,
  workflowId: string,
): Promise<{ status: string; stages: PipelineStatus }> {
  const handle = client.workflow.getHandle(workflowId);
  const description = await handle.describe();
  const stages = await handle.query(pipelineStatusQuery);
  return { status: description.status.name, stages };
}

export function formatStages(stages: PipelineStatus): string {
  const table: Table = {
    header: ['stage', 'status', 'summary'],
    rows: stages.stages.map((stage) => [stage.name, stage.status, stage.summary ?? '']),
    numeric: [false, false, false],
  };
  return toText(table);
}

/**
 * Starts a run again with the config of an earlier one. Finished stages are found by their
 * manifests and skipped, and training continues from its newest checkpoint, so a failed,
 * cancelled or terminated run picks up where it stopped. A run that is still going is refused.
 */
export async function resumeRun(
  client: Client,
  workflowId: string,
): Promise<{ workflowId: string; runId: string }> {
  let description;
  try {
    description = await client.workflow.getHandle(workflowId).describe();
  } catch (error) {
    if (error instanceof WorkflowNotFoundError)
      throw new Error(`Run ${workflowId} not found. List runs with \`npm run textgan -- list\`.`, {
        cause: error,
      });
    throw error;
  }
  if (description.status.name === 'RUNNING') {
    throw new Error(
      `Run ${workflowId} is still running; there is nothing to resume. Start a worker if none is polling.`,
    );
  }
  const config = await readRunConfig(client, workflowId, description.runId);
  const handle = await client.workflow.start('textGanPipeline', {
    taskQueue: PIPELINE_TASK_QUEUE,
    workflowId,
    args: [config],
    workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    staticSummary: `textgan pipeline, resumed after ${description.status.name.toLowerCase()}`,
  });
  return { workflowId, runId: handle.firstExecutionRunId };
}
