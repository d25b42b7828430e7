import { Context, activityInfo, log } from '@temporalio/activity';
import { ApplicationFailure, CancelledFailure } from '@temporalio/common';

/** Heartbeat details every stage sends; the Web UI shows them under the pending activity. */
export interface ProgressDetails {
  stage: string;
  phase: string;
  done: number;
  total?: number;
  unit: string;
}

const HEARTBEAT_INTERVAL_MS = 1000;
const LOG_INTERVAL_MS = 10_000;

/**
 * Reports progress of a long loop: heartbeats at most once a second (which is also how the activity
 * learns it was cancelled) and logs a structured progress line every ten seconds.
 */
export class Progress {
  private done = 0;
  private total: number | undefined;
  private phase = 'start';
  private lastBeat = 0;
  private lastLog = Date.now();

  constructor(
    private readonly stage: string,
    private readonly unit: string,
  ) {}

  start(phase: string, total?: number): void {
    this.phase = phase;
    this.total = total;
    this.done = 0;
    this.beat(true);
  }

  advance(count = 1): void {
    this.done += count;
    this.beat(false);
  }

  /** Changes the phase text without resetting the count, e.g. for messages from a model's fit loop. */
  describe(phase: string): void {
    this.phase = phase;
    this.beat(false);
  }

  setTotal(total: number | undefined): void {
    this.total = total;
  }

  private beat(force: boolean): void {
    const now = Date.now();
    if (!force && now - this.lastBeat < HEARTBEAT_INTERVAL_MS) return;
    this.lastBeat = now;
    const context = Context.current();
    if (context.cancellationSignal.aborted) {
      throw new CancelledFailure(`${this.stage} cancelled during ${this.phase}`);
    }
    const details: ProgressDetails = {
      stage: this.stage,
      phase: this.phase,
      done: this.done,
      total: this.total,
      unit: this.unit,
    };
    context.heartbeat(details);
    if (now - this.lastLog >= LOG_INTERVAL_MS) {
      this.lastLog = now;
      log.info('stage progress', { ...details, attempt: activityInfo().attempt });
    }
  }
}

/**
 * A problem with the input data that retrying cannot fix. The message names the file, row and field
 * and what to change. The failure is non-retryable, so the run stops at once.
 */
export function invalidInput(message: string, details?: Record<string, unknown>): ApplicationFailure {
  return ApplicationFailure.create({
    message,
    type: 'InvalidInput',
    nonRetryable: true,
    details: [details ?? {}],
  });
}
