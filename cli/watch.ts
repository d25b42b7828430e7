import type { WorkflowHandle } from '@temporalio/client';
import type { PipelineStatus } from '../workflows/pipeline';
import { pipelineStatusQuery } from '../workflows/pipeline';

interface HeartbeatProgress {
  stage?: string;
  phase?: string;
  done?: number;
  total?: number;
  unit?: string;
}

function formatNumber(value: number): string {
  return value.toLocaleString('en-US');
}

/** Renders one progress line, e.g. "tokenize: tokenizing 12,000/45,434 rows (26%)". */
export function formatProgress(stage: string, progress: HeartbeatProgress | undefined): string {
  if (!progress || progress.done === undefined) return `${stage}: running`;
  if (progress.total === undefined && progress.done === 0) return `${stage}: ${progress.phase ?? 'working'}`;
  const unit = progress.unit ?? 'items';
  const total = progress.total;
  const share = total && total > 0 ? ` (${Math.min(100, Math.floor((100 * progress.done) / total))}%)` : '';
  const amount =
    total !== undefined
      ? `${formatNumber(progress.done)}/${formatNumber(total)}`
      : formatNumber(progress.done);
  return `${stage}: ${progress.phase ?? 'working'} ${amount} ${unit}${share}`;
}

/** Returns the latest heartbeat of each pending activity, by the stage name it reports. */
async function pendingProgress(handle: WorkflowHandle): Promise<Map<string, HeartbeatProgress>> {
  const description = await handle.describe();
  const byStage = new Map<string, HeartbeatProgress>();
  for (const activity of description.raw.pendingActivities ?? []) {
    const payload = activity.heartbeatDetails?.payloads?.[0];
    if (!payload?.data) continue;
    try {
      const progress = JSON.parse(Buffer.from(payload.data).toString('utf8')) as HeartbeatProgress;
      if (progress.stage) byStage.set(progress.stage, progress);
    } catch {
      // A heartbeat that is not JSON carries no progress to show.
    }
  }
  return byStage;
}

/**
 * Renders the progress of the stages in progress. Branch stages that wait for the training worker
 * have sent no heartbeat yet, so they show as waiting.
 */
export function formatRunning(
  stages: PipelineStatus['stages'],
  progress: Map<string, HeartbeatProgress>,
): string {
  const running = stages.filter((stage) => stage.status === 'running');
  const active = running.filter((stage) => progress.has(stage.name));
  const waiting = running.filter((stage) => !progress.has(stage.name));
  const parts = active.map((stage) => formatProgress(stage.name, progress.get(stage.name)));
  if (waiting.length > 0) parts.push(`waiting: ${waiting.map((stage) => stage.name).join(', ')}`);
  return parts.join(' | ');
}

/**
 * Polls the workflow's status query and its pending activity heartbeats until `done` settles, and
 * writes a line to stderr whenever the stage or its progress changes (a single rewritten line on a TTY).
 */
export async function watchProgress(
  handle: WorkflowHandle,
  done: Promise<unknown>,
  intervalMs = 1000,
): Promise<void> {
  let finished = false;
  done.then(
    () => (finished = true),
    () => (finished = true),
  );
  let lastLine = '';
  const tty = process.stderr.isTTY;
  const printed = new Set<string>();
  while (!finished) {
    try {
      const status: PipelineStatus = await handle.query(pipelineStatusQuery);
      for (const stage of status.stages) {
        const key = `${stage.name}:${stage.status}`;
        if ((stage.status === 'done' || stage.status === 'reused') && !printed.has(key)) {
          printed.add(key);
          if (tty) process.stderr.write('\r\x1b[K');
          process.stderr.write(`✓ ${stage.name}: ${stage.summary ?? stage.status}\n`);
          lastLine = '';
        }
      }
      if (status.currentStage) {
        const line = formatRunning(status.stages, await pendingProgress(handle));
        if (line !== lastLine) {
          process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
          lastLine = line;
        }
      }
    } catch {
      // The query fails until a worker has picked up the first workflow task; try again shortly.
    }
    await Promise.race([done.catch(() => undefined), new Promise((r) => setTimeout(r, intervalMs))]);
  }
  if (tty && lastLine) process.stderr.write('\r\x1b[K');
}
