import { wilsonInterval } from '../eval/metrics';
import type { Table } from '../eval/tables';

/**
 * Scores of the human evaluation: people see real test comments mixed with generated ones and
 * answer "real" or "fake" for each. A generator's fooling rate is the share of its texts marked
 * real, and the accuracy on real text is the share of real texts marked real.
 */

/** The source name of real comments. Every other source is a generator. */
export const REAL_SOURCE = 'real';

/** Answers a person can give. `undo` retracts that person's earlier answer to the same item. */
export const ANSWERS = ['real', 'fake', 'skip', 'undo'] as const;
export type Answer = (typeof ANSWERS)[number];

/** One row of an answers table, as stored in S3. */
export interface AnswerRecord extends Record<string, unknown> {
  session: string;
  /** Position of the item in the session's shuffled sequence, from 0. */
  item_id: number;
  true_source: string;
  answer: string;
  /** Milliseconds from showing the readable text to the answer. */
  ms_taken: number;
  /** ISO 8601 time of the answer. */
  answered_at: string;
}

/** A count of successes out of trials with its rate and Wilson interval. */
export interface Proportion {
  successes: number;
  trials: number;
  rate: number;
  low: number;
  high: number;
}

export interface SourceScore {
  source: string;
  /** Real and fake answers to this source's texts. Skips are not judgments. */
  judgments: number;
  markedReal: number;
  skipped: number;
  /**
   * Share of the texts marked real: the human accuracy for real text, the fooling rate for a
   * generator. Undefined without judgments.
   */
  markedRealShare?: Proportion;
}

export interface HumanScores {
  /** Sessions (each is one person's answers) with at least one real or fake answer. */
  sessions: number;
  judgments: number;
  skipped: number;
  real?: SourceScore;
  /** One entry per generator: the GAN, the Markov chain, then others by name. */
  generators: SourceScore[];
  /** Share of all judgments that were right: real text marked real, generated text marked fake. */
  accuracy?: Proportion;
  confidence: number;
}

export function isAnswer(value: unknown): value is Answer {
  return typeof value === 'string' && (ANSWERS as readonly string[]).includes(value);
}

/**
 * Keeps each session's last answer per item and drops items whose last answer is `undo`.
 * `records` must be in the order the answers were written within each session.
 */
export function finalAnswers(records: readonly AnswerRecord[]): AnswerRecord[] {
  const latest = new Map<string, AnswerRecord>();
  for (const record of records) {
    const key = JSON.stringify([record.session, record.item_id]);
    // Deleting first moves a re-answered item to the end, so the output follows answer order.
    latest.delete(key);
    latest.set(key, record);
  }
  return [...latest.values()].filter((record) => record.answer !== 'undo');
}

function proportion(successes: number, trials: number, confidence: number): Proportion | undefined {
  if (trials === 0) return undefined;
  const [low, high] = wilsonInterval(successes, trials, confidence);
  return { successes, trials, rate: successes / trials, low, high };
}

/**
 * Scores final answers (see `finalAnswers`) across sessions.
 *
 * NOTE: the Wilson interval treats every judgment as independent, but judgments cluster by person
 * and by text, so with few people or people who differ a lot the true uncertainty is wider.
 */
export function scoreAnswers(answers: readonly AnswerRecord[], confidence = 0.95): HumanScores {
  const bySource = new Map<string, { judgments: number; markedReal: number; skipped: number }>();
  const sessions = new Set<string>();
  let judgments = 0;
  let skipped = 0;
  let correct = 0;
  for (const record of answers) {
    const tally = bySource.get(record.true_source) ?? { judgments: 0, markedReal: 0, skipped: 0 };
    bySource.set(record.true_source, tally);
    if (record.answer === 'skip') {
      tally.skipped += 1;
      skipped += 1;
      continue;
    }
    if (record.answer !== 'real' && record.answer !== 'fake') {
      throw new Error(
        `Invalid answer "${record.answer}" for item ${record.item_id} of session ${record.session}: expected real, fake or skip. Pass answers through finalAnswers first.`,
      );
    }
    sessions.add(record.session);
    tally.judgments += 1;
    judgments += 1;
    const markedReal = record.answer === 'real';
    if (markedReal) tally.markedReal += 1;
    if (markedReal === (record.true_source === REAL_SOURCE)) correct += 1;
  }

  const scoreOf = (source: string): SourceScore => {
    const tally = bySource.get(source) ?? { judgments: 0, markedReal: 0, skipped: 0 };
    return { source, ...tally, markedRealShare: proportion(tally.markedReal, tally.judgments, confidence) };
  };
  return {
    sessions: sessions.size,
    judgments,
    skipped,
    real: bySource.has(REAL_SOURCE) ? scoreOf(REAL_SOURCE) : undefined,
    generators: [...bySource.keys()]
      .filter((source) => source !== REAL_SOURCE)
      .sort(compareGenerators)
      .map(scoreOf),
    accuracy: proportion(correct, judgments, confidence),
    confidence,
  };
}

const SOURCE_NAMES: Record<string, string> = { real: 'real text', gan: 'GAN', markov: 'Markov chain' };
const GENERATOR_ORDER = ['gan', 'markov'];

/** Embedding strategies in report order; a branch's GAN source is named "gan <strategy>". */
const STRATEGY_ORDER = ['scalar', 'word2vec', 'bert'];

function compareGenerators(a: string, b: string): number {
  const rank = (source: string) => {
    const family = source.startsWith('gan ') ? 'gan' : source;
    const index = GENERATOR_ORDER.indexOf(family);
    return index === -1 ? GENERATOR_ORDER.length : index;
  };
  const byRank = rank(a) - rank(b);
  if (byRank !== 0) return byRank;
  const strategyRank = (source: string) => {
    const index = STRATEGY_ORDER.indexOf(source.slice('gan '.length));
    return index === -1 ? STRATEGY_ORDER.length : index;
  };
  const byStrategy = strategyRank(a) - strategyRank(b);
  if (byStrategy !== 0) return byStrategy;
  return a.localeCompare(b);
}

/** Returns the name people read for a source, as the report's tables name models. */
export function sourceLabel(source: string): string {
  if (source.startsWith('gan ')) return `GAN, ${source.slice('gan '.length)}`;
  return SOURCE_NAMES[source] ?? source;
}

function percent(value: number): string {
  return `${(value * 100).toFixed(1)}%`;
}

/** Lays out scores as a table for the CLI and the report: one row per source, real text first. */
export function humanScoresTable(scores: HumanScores): Table {
  const level = `${Math.round(scores.confidence * 100)}%`;
  const rows = [scores.real, ...scores.generators]
    .filter((score): score is SourceScore => score !== undefined)
    .map((score) => {
      const share = score.markedRealShare;
      return [
        sourceLabel(score.source),
        score.source === REAL_SOURCE ? 'accuracy on real text' : 'fooling rate',
        String(score.judgments),
        String(score.markedReal),
        String(score.skipped),
        share ? percent(share.rate) : 'n/a',
        share ? `${percent(share.low)} – ${percent(share.high)}` : 'n/a',
      ];
    });
  return {
    header: [
      'texts',
      'measure',
      'judgments',
      'marked real',
      'skipped',
      'share marked real',
      `${level} interval`,
    ],
    rows,
    numeric: [false, false, true, true, true, true, true],
  };
}

/** Returns one sentence on what the scores rest on, for the CLI and the report. */
export function describeBasis(scores: HumanScores): string {
  const sessions = `${scores.sessions} ${scores.sessions === 1 ? 'session' : 'sessions'}`;
  const accuracy = scores.accuracy
    ? ` Overall, people were right on ${percent(scores.accuracy.rate)} of their judgments.`
    : '';
  return `${scores.judgments} real-or-fake judgments from ${sessions} (each is one person's answers), ${scores.skipped} skipped.${accuracy}`;
}
