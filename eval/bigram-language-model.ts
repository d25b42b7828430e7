/**
 * Word bigram language model fitted on training texts, used to score generated or held-out text by
 * perplexity. Tokens are compared exactly as given (case-sensitive).
 *
 * Sentence boundaries: with `sentenceBoundaries` on (the default) each text w_1..w_m is scored as
 * <s> w_1 .. w_m </s>, so it contributes m + 1 predictions (every word and the end marker) and <s> is
 * never predicted. With it off, only the m − 1 bigrams inside the text are counted and predicted. Empty
 * texts add no counts and no predictions. The markers are not strings, so a literal token "<s>" in a text
 * is an ordinary word.
 *
 * Perplexity is exp(−(1/M) Σ ln P(w_i | w_{i−1})) pooled over all M predictions of all texts, not
 * averaged per text.
 *
 * Variants of P(w | v), with c(v, w) the training bigram count and c(v) = Σ_w c(v, w):
 * - 'maximum-likelihood': c(v, w) / c(v), and `unseenProbability` (1e-12 by default) when c(v, w) = 0,
 *   which includes every bigram with an unknown word. This reproduces the unsmoothed baseline measure. The
 *   floor only keeps the logarithm finite, so the result is not a normalized distribution and its
 *   perplexities are comparable only with each other.
 * - 'kneser-ney': interpolated Kneser-Ney with one absolute discount D for both levels,
 *     P(w | v) = max(c(v, w) − D, 0) / c(v) + D · N1+(v •) / c(v) · P_cont(w),
 *     P_cont(w) = max(N1+(• w) − D, 0) / N1+(• •) + D · T / N1+(• •) · 1 / U,
 *   where N1+(v •) is the number of distinct successors of v, N1+(• w) the number of distinct predecessors
 *   of w, N1+(• •) the number of distinct bigrams, T the number of words with N1+(• w) > 0, and U the number
 *   of outcomes: known words, the end marker (with boundaries) and one shared unknown-word outcome. A history
 *   with c(v) = 0 (unknown, or only ever last without boundaries) uses P_cont(w) alone. All words unseen in
 *   training share the single unknown outcome, so its probability is D · T / (N1+(• •) · U).
 *   The default D is the usual estimate n1 / (n1 + 2·n2), with n_k the number of distinct bigrams seen
 *   exactly k times. It falls back to 0.75 when there are no singletons (n1 = 0).
 */
import { BigramCounter, findEntry, entryCount, rowTotal, type BigramTable } from './bigram-table';

export type PerplexityVariant = 'maximum-likelihood' | 'kneser-ney';

/** Sentence start marker, accepted as the history argument of `BigramLanguageModel.probability`. */
export const SENTENCE_START: unique symbol = Symbol('<s>');
/** Sentence end marker, accepted as the word argument of `BigramLanguageModel.probability`. */
export const SENTENCE_END: unique symbol = Symbol('</s>');

export interface BigramLanguageModelOptions {
  /** Whether to add <s> and </s> around each text; default true. */
  sentenceBoundaries?: boolean;
  /** Probability of an unseen bigram in the 'maximum-likelihood' variant; default 1e-12. */
  unseenProbability?: number;
  /** Absolute discount D in (0, 1] for 'kneser-ney'; default estimated from the counts. */
  discount?: number;
}

export interface PerplexityReport {
  /** exp of the mean negative log-probability; NaN when there are no predictions. */
  readonly perplexity: number;
  /** Predicted tokens, including one </s> per text when boundaries are on. */
  readonly predictions: number;
  /** Predictions whose bigram never occurred in training. */
  readonly unseenBigrams: number;
  /** Predicted tokens that never occurred in training. */
  readonly unknownWords: number;
}

const START_ID = 0;
const END_ID = 1;
const FIRST_WORD_ID = 2;
const UNKNOWN_ID = -1;
const FALLBACK_DISCOUNT = 0.75;

/** Collects bigram counts from texts fed one at a time or in batches, then builds the model. */
export class BigramLanguageModelBuilder {
  private readonly wordIds = new Map<string, number>();
  private readonly bigrams = new BigramCounter();
  private readonly sentenceBoundaries: boolean;

  constructor(private readonly options: BigramLanguageModelOptions = {}) {
    this.sentenceBoundaries = options.sentenceBoundaries ?? true;
  }

  add(tokens: readonly string[]): this {
    if (tokens.length === 0) return this;
    let previous = this.sentenceBoundaries ? START_ID : UNKNOWN_ID;
    for (const token of tokens) {
      let id = this.wordIds.get(token);
      if (id === undefined) {
        id = FIRST_WORD_ID + this.wordIds.size;
        this.wordIds.set(token, id);
      }
      if (previous !== UNKNOWN_ID) this.bigrams.add(previous, id);
      previous = id;
    }
    if (this.sentenceBoundaries) this.bigrams.add(previous, END_ID);
    return this;
  }

  addAll(texts: Iterable<readonly string[]>): this {
    for (const tokens of texts) this.add(tokens);
    return this;
  }

  build(): BigramLanguageModel {
    const table = this.bigrams.toTable(FIRST_WORD_ID + this.wordIds.size);
    return new BigramLanguageModel(new Map(this.wordIds), table, this.options);
  }
}

/** Fitted bigram counts with the statistics that both probability variants need. */
export class BigramLanguageModel {
  readonly sentenceBoundaries: boolean;
  readonly unseenProbability: number;
  /** Absolute discount D of the 'kneser-ney' variant. */
  readonly discount: number;
  /** Number of distinct predecessors N1+(• w) of each word id. */
  private readonly predecessorCounts: Uint32Array;
  private readonly distinctBigrams: number;
  private readonly continuedTypes: number;
  private readonly outcomeCount: number;

  /** Use `fit` or `BigramLanguageModelBuilder`; the table rows are indexed by the ids in `wordIds`. */
  constructor(
    private readonly wordIds: ReadonlyMap<string, number>,
    private readonly table: BigramTable,
    options: BigramLanguageModelOptions = {},
  ) {
    this.sentenceBoundaries = options.sentenceBoundaries ?? true;
    this.unseenProbability = options.unseenProbability ?? 1e-12;
    if (!(this.unseenProbability > 0 && this.unseenProbability < 1)) {
      throw new RangeError(`unseenProbability must be in (0, 1), got ${this.unseenProbability}`);
    }

    this.predecessorCounts = new Uint32Array(FIRST_WORD_ID + wordIds.size);
    let singletons = 0;
    let doubletons = 0;
    for (let source = 0; source < this.predecessorCounts.length; source++) {
      const start = table.offsets[source] ?? 0;
      const end = table.offsets[source + 1] ?? 0;
      for (let index = start; index < end; index++) {
        const target = table.targets[index] ?? 0;
        this.predecessorCounts[target] = (this.predecessorCounts[target] ?? 0) + 1;
        const count = entryCount(table, start, index);
        if (count === 1) singletons += 1;
        else if (count === 2) doubletons += 1;
      }
    }
    this.distinctBigrams = table.targets.length;
    this.continuedTypes = this.predecessorCounts.reduce((sum, count) => sum + (count > 0 ? 1 : 0), 0);
    this.outcomeCount = wordIds.size + (this.sentenceBoundaries ? 1 : 0) + 1;

    const estimated = singletons > 0 ? singletons / (singletons + 2 * doubletons) : FALLBACK_DISCOUNT;
    this.discount = options.discount ?? estimated;
    if (!(this.discount > 0 && this.discount <= 1)) {
      throw new RangeError(`Kneser-Ney discount must be in (0, 1], got ${this.discount}`);
    }
  }

  /** Fits a model on `texts`, each an array of word tokens. */
  static fit(
    texts: Iterable<readonly string[]>,
    options: BigramLanguageModelOptions = {},
  ): BigramLanguageModel {
    return new BigramLanguageModelBuilder(options).addAll(texts).build();
  }

  /** Distinct words seen in training, excluding the boundary markers. */
  get vocabularySize(): number {
    return this.wordIds.size;
  }

  /** Returns P(word | previous) under `variant`. */
  probability(
    previous: string | typeof SENTENCE_START,
    word: string | typeof SENTENCE_END,
    variant: PerplexityVariant,
  ): number {
    const previousId = previous === SENTENCE_START ? START_ID : (this.wordIds.get(previous) ?? UNKNOWN_ID);
    const wordId = word === SENTENCE_END ? END_ID : (this.wordIds.get(word) ?? UNKNOWN_ID);
    return this.probabilityOfIds(previousId, wordId, variant);
  }

  /** Scores `texts` (an iterable, so it can stream) and returns the pooled perplexity. */
  perplexity(texts: Iterable<readonly string[]>, variant: PerplexityVariant): PerplexityReport {
    const accumulator = this.perplexityAccumulator(variant);
    for (const tokens of texts) accumulator.add(tokens);
    return accumulator.report();
  }

  /** Returns an accumulator for scoring texts that arrive in batches, for example from an async reader. */
  perplexityAccumulator(variant: PerplexityVariant): PerplexityAccumulator {
    return new PerplexityAccumulator(this, variant);
  }

  /** Calls `visit` once per prediction in `tokens`; an empty text has no predictions. */
  scoreText(tokens: readonly string[], variant: PerplexityVariant, visit: PredictionVisitor): void {
    if (tokens.length === 0) return;
    let previous = this.sentenceBoundaries ? START_ID : UNKNOWN_ID;
    let hasPrevious = this.sentenceBoundaries;
    for (const token of tokens) {
      const id = this.wordIds.get(token) ?? UNKNOWN_ID;
      if (hasPrevious) this.visitPrediction(previous, id, variant, visit);
      previous = id;
      hasPrevious = true;
    }
    if (this.sentenceBoundaries) this.visitPrediction(previous, END_ID, variant, visit);
  }

  private visitPrediction(
    previous: number,
    word: number,
    variant: PerplexityVariant,
    visit: PredictionVisitor,
  ) {
    const seen = previous !== UNKNOWN_ID && word !== UNKNOWN_ID && findEntry(this.table, previous, word) >= 0;
    visit(Math.log(this.probabilityOfIds(previous, word, variant)), !seen, word === UNKNOWN_ID);
  }

  private probabilityOfIds(previous: number, word: number, variant: PerplexityVariant): number {
    const history = previous === UNKNOWN_ID ? 0 : rowTotal(this.table, previous);
    const entry = previous === UNKNOWN_ID || word === UNKNOWN_ID ? -1 : findEntry(this.table, previous, word);
    const bigramCount = entry >= 0 ? entryCount(this.table, this.table.offsets[previous] ?? 0, entry) : 0;

    if (variant === 'maximum-likelihood') {
      return bigramCount > 0 ? bigramCount / history : this.unseenProbability;
    }
    const continuation = this.continuationProbability(word);
    if (history === 0) return continuation;
    const successors = (this.table.offsets[previous + 1] ?? 0) - (this.table.offsets[previous] ?? 0);
    const discounted = Math.max(bigramCount - this.discount, 0) / history;
    return discounted + ((this.discount * successors) / history) * continuation;
  }

  /** P_cont(w) of the header formula, with every unknown word mapped to one shared outcome. */
  private continuationProbability(word: number): number {
    const uniform = 1 / this.outcomeCount;
    if (this.distinctBigrams === 0) return uniform;
    const predecessors = word === UNKNOWN_ID ? 0 : (this.predecessorCounts[word] ?? 0);
    const discounted = Math.max(predecessors - this.discount, 0) / this.distinctBigrams;
    return discounted + ((this.discount * this.continuedTypes) / this.distinctBigrams) * uniform;
  }
}

/** Receives ln P of one prediction and whether its bigram was unseen and its word unknown. */
export type PredictionVisitor = (logProbability: number, unseenBigram: boolean, unknownWord: boolean) => void;

/** Sums log-probabilities over texts added one at a time. */
export class PerplexityAccumulator {
  private logProbabilitySum = 0;
  private predictions = 0;
  private unseenBigrams = 0;
  private unknownWords = 0;

  constructor(
    private readonly model: BigramLanguageModel,
    private readonly variant: PerplexityVariant,
  ) {}

  add(tokens: readonly string[]): this {
    this.model.scoreText(tokens, this.variant, (logProbability, unseenBigram, unknownWord) => {
      this.logProbabilitySum += logProbability;
      this.predictions += 1;
      if (unseenBigram) this.unseenBigrams += 1;
      if (unknownWord) this.unknownWords += 1;
    });
    return this;
  }

  report(): PerplexityReport {
    return {
      perplexity: this.predictions === 0 ? Number.NaN : Math.exp(-this.logProbabilitySum / this.predictions),
      predictions: this.predictions,
      unseenBigrams: this.unseenBigrams,
      unknownWords: this.unknownWords,
    };
  }
}
