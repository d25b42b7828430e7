import { objectExists, putJson, type Storage } from '../infra/s3';
import { buildLabelItems, type LabelItem } from './items';
import type { RunTextSource } from './run-texts';
import {
  finalAnswers,
  REAL_SOURCE,
  scoreAnswers,
  sourceLabel,
  type Answer,
  type AnswerRecord,
  type SourceScore,
} from './score';
import {
  createSessionFiles,
  listAnswerFiles,
  readAnswerFiles,
  readSessionInfo,
  readSessionItems,
  sessionKeys,
  writeAnswer,
  type SessionInfo,
  type SessionKeys,
} from './store';

/** A request the session rejects, with the HTTP status of the server's response. */
export class LabelRequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'LabelRequestError';
  }
}

/** A reopened session was asked for settings other than those it was created with. */
export class SessionSettingsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SessionSettingsError';
  }
}

export interface AnswerInput {
  itemId: number;
  answer: Answer;
  msTaken: number;
  /** Time of the answer as the browser sent it. Without it, the time the server receives the request. */
  answeredAt?: string;
}

/** The page's view of a session: the texts, never their sources. */
export interface SessionSnapshot {
  session: string;
  workflowId: string;
  total: number;
  answered: number;
  /** The first item without an answer, or `total` when all are answered. */
  nextIndex: number;
  finished: boolean;
  items: Array<{ id: number; text: string }>;
}

export interface SessionResults {
  session: string;
  judgments: number;
  correct: number;
  skipped: number;
  bySource: Array<{
    source: string;
    label: string;
    judgments: number;
    markedReal: number;
    skipped: number;
    correct: number;
  }>;
  items: Array<{ id: number; text: string; source: string; label: string; answer: string }>;
}

const MAX_INT32 = 2 ** 31 - 1;

/**
 * One person's labelling session: its items and the answers so far. Answers are written to S3 one
 * file each before `record` returns, so a closed browser loses none that the server acknowledged.
 *
 * NOTE: writes are serialized within this process only. Two servers on the same session would
 * number their answers files independently and overwrite each other's.
 */
export class LabelSession {
  private records: AnswerRecord[];
  private nextSequence: number;
  private finishedFlag: boolean;
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly storage: Storage,
    private readonly keys: SessionKeys,
    readonly info: SessionInfo,
    readonly items: readonly LabelItem[],
    state: { records: AnswerRecord[]; nextSequence: number; finished: boolean },
    private readonly now: () => Date,
  ) {
    this.records = state.records;
    this.nextSequence = state.nextSequence;
    this.finishedFlag = state.finished;
  }

  static async load(
    storage: Storage,
    keys: SessionKeys,
    info: SessionInfo,
    items: readonly LabelItem[],
    now: () => Date = () => new Date(),
  ): Promise<LabelSession> {
    const files = await listAnswerFiles(storage, keys.folder);
    const records = await readAnswerFiles(
      storage,
      files.map((file) => file.key),
    );
    const nextSequence = (files.at(-1)?.sequence ?? 0) + 1;
    const finished = await objectExists(storage, keys.finished);
    return new LabelSession(storage, keys, info, items, { records, nextSequence, finished }, now);
  }

  get name(): string {
    return this.info.session;
  }

  get finished(): boolean {
    return this.finishedFlag;
  }

  private answerByItem(): Map<number, AnswerRecord> {
    return new Map(finalAnswers(this.records).map((record) => [record.item_id, record]));
  }

  snapshot(): SessionSnapshot {
    const answers = this.answerByItem();
    const firstOpen = this.items.findIndex((item) => !answers.has(item.id));
    return {
      session: this.info.session,
      workflowId: this.info.workflowId,
      total: this.items.length,
      answered: answers.size,
      nextIndex: firstOpen === -1 ? this.items.length : firstOpen,
      finished: this.finishedFlag,
      items: this.items.map((item) => ({ id: item.id, text: item.text })),
    };
  }

  /** Runs writes one at a time, so answer numbers follow the order requests arrive in. */
  private serialize<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /**
   * Stores one answer and returns the key it was written to, or undefined for an `undo` of an item
   * that has no answer (a retried request), which changes nothing.
   */
  record(input: AnswerInput): Promise<string | undefined> {
    return this.serialize(async () => {
      if (this.finishedFlag)
        throw new LabelRequestError(
          409,
          `Session ${this.name} is finished; its answers can no longer change.`,
        );
      const item = this.items[input.itemId];
      if (!item || item.id !== input.itemId)
        throw new LabelRequestError(
          400,
          `Invalid item_id ${input.itemId}: expected an integer from 0 to ${this.items.length - 1}.`,
        );
      if (input.answer === 'undo' && !this.answerByItem().has(item.id)) return undefined;

      const answeredAt = normalizeTime(input.answeredAt) ?? this.now().toISOString();
      const record: AnswerRecord = {
        session: this.name,
        item_id: item.id,
        true_source: item.source,
        answer: input.answer,
        ms_taken: Math.min(MAX_INT32, Math.max(0, Math.round(input.msTaken))),
        answered_at: answeredAt,
      };
      const key = await writeAnswer(this.storage, this.keys, this.nextSequence, record);
      this.nextSequence += 1;
      this.records.push(record);
      return key;
    });
  }

  /**
   * Marks the session finished, so answers can no longer change once the person has seen the true
   * sources, and returns the results. Rejects while items are unanswered. Repeating it is harmless.
   */
  finish(): Promise<SessionResults> {
    return this.serialize(async () => {
      const open = this.items.length - this.answerByItem().size;
      if (open > 0)
        throw new LabelRequestError(
          409,
          `Session ${this.name} has ${open} unanswered items; answer them first.`,
        );
      if (!this.finishedFlag) {
        await putJson(this.storage, this.keys.finished, { finishedAt: this.now().toISOString() });
        this.finishedFlag = true;
      }
      return this.results();
    });
  }

  private results(): SessionResults {
    const answers = this.answerByItem();
    const scores = scoreAnswers([...answers.values()]);
    const correctOf = (score: SourceScore): number =>
      score.source === REAL_SOURCE ? score.markedReal : score.judgments - score.markedReal;
    const bySource = [scores.real, ...scores.generators]
      .filter((score): score is SourceScore => score !== undefined)
      .map((score) => ({
        source: score.source,
        label: sourceLabel(score.source),
        judgments: score.judgments,
        markedReal: score.markedReal,
        skipped: score.skipped,
        correct: correctOf(score),
      }));
    return {
      session: this.name,
      judgments: scores.judgments,
      correct: bySource.reduce((sum, row) => sum + row.correct, 0),
      skipped: scores.skipped,
      bySource,
      items: this.items.map((item) => ({
        id: item.id,
        text: item.text,
        source: item.source,
        label: sourceLabel(item.source),
        answer: answers.get(item.id)?.answer ?? '',
      })),
    };
  }
}

function normalizeTime(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  return Number.isFinite(time) ? new Date(time).toISOString() : undefined;
}

export interface OpenSessionOptions {
  storage: Storage;
  labels: string;
  session: string;
  workflowId: string;
  /** Values the person passed. A new session uses them, and an existing one must match them. */
  requested: { items?: number; seed?: number };
  defaults: { items: number; seed: number; realShare: number };
  /** Reads the run's texts. Called only for a new session. */
  loadSources: () => Promise<RunTextSource[]>;
  now?: () => Date;
}

/** Opens a stored session, or creates it with a seeded mix of the run's texts. */
export async function openLabelSession(
  options: OpenSessionOptions,
): Promise<{ session: LabelSession; created: boolean }> {
  const { storage, requested } = options;
  const now = options.now ?? (() => new Date());
  const keys = sessionKeys(options.labels, options.session);
  const existing = await readSessionInfo(storage, keys);
  if (existing) {
    for (const field of ['items', 'seed'] as const) {
      const value = requested[field];
      if (value !== undefined && value !== existing[field]) {
        throw new SessionSettingsError(
          `Session ${options.session} was created with --${field} ${existing[field]}, not ${value}. Reopen it without --${field}, or start a new --session.`,
        );
      }
    }
    const items = await readSessionItems(storage, keys);
    return { session: await LabelSession.load(storage, keys, existing, items, now), created: false };
  }

  const sources = await options.loadSources();
  const mix = {
    count: requested.items ?? options.defaults.items,
    seed: requested.seed ?? options.defaults.seed,
    realShare: options.defaults.realShare,
  };
  const items = buildLabelItems(sources, mix);
  const info: SessionInfo = {
    session: options.session,
    workflowId: options.workflowId,
    createdAt: now().toISOString(),
    items: mix.count,
    seed: mix.seed,
    realShare: mix.realShare,
    sources: Object.fromEntries(sources.map((source) => [source.name, source.origin])),
  };
  await createSessionFiles(storage, keys, info, items);
  return { session: await LabelSession.load(storage, keys, info, items, now), created: true };
}
