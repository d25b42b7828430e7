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

/** Returns the latest heartbeat of the pending activity of `stage`; stages can run side by side. */
async function pendingProgress(
  handle: WorkflowHandle,
  stage: string,
): Promise<HeartbeatProgress | undefined> {
  const description = await handle.describe();
  const pending = description.raw.pendingActivities ?? [];
  for (const activity of pending) {
    const payload = activity.heartbeatDetails?.payloads?.[0];
    if (!payload?.data) continue;
    try {
      const progress = JSON.parse(Buffer.from(payload.data).toString('utf8')) as HeartbeatProgress;
      if (progress.stage === stage) return progress;
    } catch {
      // A heartbeat that is not JSON carries no progress to show.
    }
  }
  return undefined;
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
        const line = formatProgress(status.currentStage, await pendingProgress(handle, status.currentStage));
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
