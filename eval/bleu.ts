/**
 * BLEU (Papineni et al., 2002) in the form text-GAN work uses it: every candidate sentence is scored
 * against the whole reference set (for example the test split), not against aligned references.
 *
 * For n-gram order n, a candidate's clipped match count is Σ_g min(count_cand(g), max_r count_r(g)), where
 * the max runs over single references r, and its total is the number of n-grams in the candidate. The
 * brevity penalty is BP = 1 if c > r, 0 if c = 0, else exp(1 − r/c), with c the candidate length and r the
 * length of the reference closest in length (the shorter one on a tie). BLEU-N is
 * BP · exp((1/N) Σ_{n=1..N} ln p_n). Like NLTK's `bleu_score`, the score is 0 whenever no unigram matches.
 *
 * Smoothing of zero precisions:
 * - 'none': a zero match count at any order makes the score 0.
 * - 'epsilon': Chen and Cherry (2014) method 1 as NLTK implements it, p_n = ε / max(1, total_n) when the
 *   match count is 0 (ε = 0.1 by default), so a candidate shorter than n gets p_n = ε.
 *
 * Tokens are compared exactly as given (case-sensitive); normalize them before scoring if needed.
 */
import type { Random } from '../lib/random';

export type BleuSmoothing = 'none' | 'epsilon';

export interface BleuOptions {
  smoothing?: BleuSmoothing;
  /** Numerator that replaces a zero match count under 'epsilon' smoothing; default 0.1. */
  epsilon?: number;
}

export interface SelfBleuOptions extends BleuOptions {
  /**
   * Number of samples to draw (without replacement, using `random`) before scoring; each drawn sample is
   * then scored against the other drawn samples only. All samples are used when it is unset or at least
   * the number of samples.
   */
  subsetSize?: number;
  random?: Random;
}

/** Per-order match and total counts of one candidate, plus its length and closest reference length. */
interface CandidateCounts {
  readonly matches: Float64Array;
  readonly totals: Float64Array;
  readonly length: number;
  readonly referenceLength: number;
}

const NO_REFERENCE = -1;

/**
 * N-gram statistics of a reference set, built once and reused for many candidates. For each n-gram it
 * stores the max count in any single reference, which reference has that count, and the max over the
 * remaining references. With these, a candidate that is itself one of the references (self-BLEU) can be
 * scored against all the others without rebuilding the index.
 */
export class BleuReferenceIndex {
  readonly maxOrder: number;
  readonly referenceCount: number;
  private readonly tokenIds = new Map<string, number>();
  /** Per order (index n − 1): n-gram key to slot in the count arrays. */
  private readonly slots: Map<string, number>[] = [];
  private bestCount = new Int32Array(1024);
  private bestReference = new Int32Array(1024);
  private secondBestCount = new Int32Array(1024);
  private slotCount = 0;
  /** Distinct reference lengths, ascending, and how many references have each. */
  private readonly lengthValues: number[];
  private readonly lengthFrequencies: number[];
  private readonly referenceLengths: Uint32Array;

  constructor(references: Iterable<readonly string[]>, maxOrder = 4) {
    assertOrder(maxOrder, Number.POSITIVE_INFINITY);
    this.maxOrder = maxOrder;
    for (let order = 1; order <= maxOrder; order++) this.slots.push(new Map());

    const lengthCounts = new Map<number, number>();
    const referenceLengths: number[] = [];
    for (const reference of references) {
      lengthCounts.set(reference.length, (lengthCounts.get(reference.length) ?? 0) + 1);
      this.addReference(reference, referenceLengths.length);
      referenceLengths.push(reference.length);
    }
    if (referenceLengths.length === 0) throw new RangeError('BLEU needs at least one reference');
    this.referenceCount = referenceLengths.length;
    this.referenceLengths = Uint32Array.from(referenceLengths);
    this.lengthValues = [...lengthCounts.keys()].sort((a, b) => a - b);
    this.lengthFrequencies = this.lengthValues.map((length) => lengthCounts.get(length) ?? 0);
  }

  private addReference(reference: readonly string[], referenceIndex: number): void {
    const ids = reference.map((token) => {
      let id = this.tokenIds.get(token);
      if (id === undefined) {
        id = this.tokenIds.size;
        this.tokenIds.set(token, id);
      }
      return id;
    });
    const local = countNgrams(ids, this.maxOrder);
    local.forEach((counts, orderIndex) => {
      const slots = this.slots[orderIndex];
      if (slots === undefined) return;
      for (const [key, count] of counts) {
        let slot = slots.get(key);
        if (slot === undefined) {
          slot = this.allocateSlot();
          slots.set(key, slot);
        }
        this.recordCount(slot, count, referenceIndex);
      }
    });
  }

  private allocateSlot(): number {
    if (this.slotCount === this.bestCount.length) {
      const grow = (array: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> => {
        const larger = new Int32Array(array.length * 2);
        larger.set(array);
        return larger;
      };
      this.bestCount = grow(this.bestCount);
      this.bestReference = grow(this.bestReference);
      this.secondBestCount = grow(this.secondBestCount);
    }
    const slot = this.slotCount;
    this.bestReference[slot] = NO_REFERENCE;
    this.slotCount += 1;
    return slot;
  }

  /** Keeps the top two counts of a slot; each reference reports each of its n-grams once. */
  private recordCount(slot: number, count: number, referenceIndex: number): void {
    const best = this.bestCount[slot] ?? 0;
    if (count > best) {
      this.secondBestCount[slot] = best;
      this.bestCount[slot] = count;
      this.bestReference[slot] = referenceIndex;
    } else if (count > (this.secondBestCount[slot] ?? 0)) {
      this.secondBestCount[slot] = count;
    }
  }

  /**
   * Counts clipped matches and totals for orders 1..maxOrder of `candidate`. With `excludedReference` set,
   * that reference is left out of both clipping and the closest-length search.
   */
  countCandidate(
    candidate: readonly string[],
    maxOrder: number,
    excludedReference = NO_REFERENCE,
  ): CandidateCounts {
    assertOrder(maxOrder, this.maxOrder);
    const matches = new Float64Array(maxOrder);
    const totals = new Float64Array(maxOrder);
    // Unknown tokens get id −1; any n-gram containing one cannot match and only adds to the totals.
    const ids = candidate.map((token) => this.tokenIds.get(token) ?? -1);
    const local = countNgrams(ids, maxOrder);
    for (let orderIndex = 0; orderIndex < maxOrder; orderIndex++) {
      totals[orderIndex] = Math.max(0, candidate.length - orderIndex);
      const slots = this.slots[orderIndex];
      const counts = local[orderIndex];
      if (slots === undefined || counts === undefined) continue;
      let matched = 0;
      for (const [key, count] of counts) {
        const slot = slots.get(key);
        if (slot === undefined) continue;
        const excluded = excludedReference !== NO_REFERENCE && this.bestReference[slot] === excludedReference;
        const maxReferenceCount = excluded ? (this.secondBestCount[slot] ?? 0) : (this.bestCount[slot] ?? 0);
        matched += Math.min(count, maxReferenceCount);
      }
      matches[orderIndex] = matched;
    }
    let excludedLength = -1;
    if (excludedReference !== NO_REFERENCE) {
      const length = this.referenceLengths[excludedReference];
      if (length === undefined) throw new RangeError(`Reference ${excludedReference} is not in this index`);
      excludedLength = length;
    }
    return {
      matches,
      totals,
      length: candidate.length,
      referenceLength: this.closestReferenceLength(candidate.length, excludedLength),
    };
  }

  /**
   * Returns the reference length closest to `length`, the shorter one on a tie. With `excludedLength` set,
   * one reference of that length is left out.
   */
  closestReferenceLength(length: number, excludedLength = -1): number {
    const available = (index: number): boolean =>
      (this.lengthFrequencies[index] ?? 0) - (this.lengthValues[index] === excludedLength ? 1 : 0) > 0;
    let above = lowerBound(this.lengthValues, length);
    let below = above - 1;
    while (above < this.lengthValues.length && !available(above)) above += 1;
    while (below >= 0 && !available(below)) below -= 1;
    const aboveValue = this.lengthValues[above];
    const belowValue = this.lengthValues[below];
    if (aboveValue === undefined && belowValue === undefined) {
      throw new RangeError('BLEU needs at least one reference besides the excluded one');
    }
    if (belowValue === undefined) return aboveValue as number;
    if (aboveValue === undefined) return belowValue;
    return aboveValue - length < length - belowValue ? aboveValue : belowValue;
  }
}

/**
 * Computes corpus-level BLEU-maxN: match and total counts are summed over all candidates before taking
 * p_n = Σ matches_n / Σ totals_n, and the brevity penalty uses c = Σ candidate lengths and r = Σ closest
 * reference lengths. Smoothing defaults to 'none'.
 */
export function bleu(
  candidates: Iterable<readonly string[]>,
  references: Iterable<readonly string[]> | BleuReferenceIndex,
  maxN: number,
  options: BleuOptions = {},
): number {
  const index = toIndex(references, maxN);
  const matches = new Float64Array(maxN);
  const totals = new Float64Array(maxN);
  let candidateLength = 0;
  let referenceLength = 0;
  let candidateCount = 0;
  for (const candidate of candidates) {
    const counts = index.countCandidate(candidate, maxN);
    for (let orderIndex = 0; orderIndex < maxN; orderIndex++) {
      matches[orderIndex] = (matches[orderIndex] ?? 0) + (counts.matches[orderIndex] ?? 0);
      totals[orderIndex] = (totals[orderIndex] ?? 0) + (counts.totals[orderIndex] ?? 0);
    }
    candidateLength += counts.length;
    referenceLength += counts.referenceLength;
    candidateCount += 1;
  }
  if (candidateCount === 0) throw new RangeError('BLEU needs at least one candidate');
  return combineCounts(matches, totals, candidateLength, referenceLength, options);
}

/** Computes BLEU-maxN of a single candidate against the reference set; smoothing defaults to 'epsilon'. */
export function sentenceBleu(
  candidate: readonly string[],
  references: Iterable<readonly string[]> | BleuReferenceIndex,
  maxN: number,
  options: BleuOptions = {},
): number {
  const counts = toIndex(references, maxN).countCandidate(candidate, maxN);
  return combineCounts(
    counts.matches,
    counts.totals,
    counts.length,
    counts.referenceLength,
    withEpsilon(options),
  );
}

/**
 * Computes the mean over candidates of sentence-level BLEU-maxN against the whole reference set, with
 * 'epsilon' smoothing by default. This is the number text-GAN papers report as BLEU-n (Texygen averages
 * NLTK `sentence_bleu` with `SmoothingFunction().method1` over generated sentences). It differs from
 * corpus-level `bleu`.
 */
export function averageSentenceBleu(
  candidates: Iterable<readonly string[]>,
  references: Iterable<readonly string[]> | BleuReferenceIndex,
  maxN: number,
  options: BleuOptions = {},
): number {
  const index = toIndex(references, maxN);
  const smoothed = withEpsilon(options);
  let sum = 0;
  let candidateCount = 0;
  for (const candidate of candidates) {
    const counts = index.countCandidate(candidate, maxN);
    sum += combineCounts(counts.matches, counts.totals, counts.length, counts.referenceLength, smoothed);
    candidateCount += 1;
  }
  if (candidateCount === 0) throw new RangeError('BLEU needs at least one candidate');
  return sum / candidateCount;
}

/**
 * Computes self-BLEU-maxN: the mean over samples of sentence-level BLEU of each sample against all other
 * samples as references, with 'epsilon' smoothing by default. Higher means less diverse. This is Texygen's
 * `SelfBleu` without its fast mode, which keeps the first 500 samples where `subsetSize` draws them at
 * random. Duplicates of a sample still count as references, so an exact duplicate scores 1. Scores grow
 * with the number of references, so compare only values computed on equally many samples.
 */
export function selfBleu(
  samples: readonly (readonly string[])[],
  maxN: number,
  options: SelfBleuOptions = {},
): number {
  const { subsetSize, random } = options;
  let chosen: readonly (readonly string[])[] = samples;
  if (subsetSize !== undefined && (!Number.isInteger(subsetSize) || subsetSize < 2)) {
    throw new RangeError(`selfBleu needs an integer subsetSize of at least 2, got ${subsetSize}`);
  }
  if (subsetSize !== undefined && subsetSize < samples.length) {
    if (random === undefined) throw new Error('selfBleu needs options.random to draw a subset of samples');
    const order = random.shuffle(samples.map((_, position) => position));
    chosen = order.slice(0, subsetSize).map((position) => samples[position] ?? []);
  }
  if (chosen.length < 2) throw new RangeError(`selfBleu needs at least 2 samples, got ${chosen.length}`);

  const index = new BleuReferenceIndex(chosen, maxN);
  const smoothed = withEpsilon(options);
  let sum = 0;
  chosen.forEach((sample, position) => {
    const counts = index.countCandidate(sample, maxN, position);
    sum += combineCounts(counts.matches, counts.totals, counts.length, counts.referenceLength, smoothed);
  });
  return sum / chosen.length;
}

/** Applies smoothing, the geometric mean with uniform weights and the brevity penalty. */
function combineCounts(
  matches: Float64Array,
  totals: Float64Array,
  candidateLength: number,
  referenceLength: number,
  options: BleuOptions,
): number {
  const smoothing = options.smoothing ?? 'none';
  const epsilon = options.epsilon ?? 0.1;
  if (!(epsilon > 0)) throw new RangeError(`BLEU epsilon must be positive, got ${epsilon}`);
  if ((matches[0] ?? 0) === 0) return 0;

  let logSum = 0;
  for (let orderIndex = 0; orderIndex < matches.length; orderIndex++) {
    const matched = matches[orderIndex] ?? 0;
    const total = totals[orderIndex] ?? 0;
    if (matched > 0) {
      logSum += Math.log(matched / total);
    } else if (smoothing === 'epsilon') {
      logSum += Math.log(epsilon / Math.max(1, total));
    } else {
      return 0;
    }
  }
  return brevityPenalty(candidateLength, referenceLength) * Math.exp(logSum / matches.length);
}

/** Returns BP = 1 if c > r, 0 if c = 0, else exp(1 − r/c). */
export function brevityPenalty(candidateLength: number, referenceLength: number): number {
  if (candidateLength > referenceLength) return 1;
  if (candidateLength === 0) return 0;
  return Math.exp(1 - referenceLength / candidateLength);
}

function withEpsilon(options: BleuOptions): BleuOptions {
  return { ...options, smoothing: options.smoothing ?? 'epsilon' };
}

function toIndex(
  references: Iterable<readonly string[]> | BleuReferenceIndex,
  maxN: number,
): BleuReferenceIndex {
  if (references instanceof BleuReferenceIndex) {
    assertOrder(maxN, references.maxOrder);
    return references;
  }
  assertOrder(maxN, Number.POSITIVE_INFINITY);
  return new BleuReferenceIndex(references, maxN);
}

function assertOrder(order: number, maxOrder: number): void {
  if (!Number.isInteger(order) || order < 1 || order > maxOrder) {
    throw new RangeError(`BLEU order must be an integer in [1, ${maxOrder}], got ${order}`);
  }
}

/**
 * Counts the n-grams of orders 1..maxOrder in a sequence of token ids. Keys join ids with spaces, so they
 * are unambiguous whatever characters the tokens contain. N-grams containing the id −1 are skipped.
 */
function countNgrams(ids: readonly number[], maxOrder: number): Map<string, number>[] {
  const counts: Map<string, number>[] = [];
  for (let order = 1; order <= maxOrder; order++) counts.push(new Map());
  for (let start = 0; start < ids.length; start++) {
    let key = '';
    for (let orderIndex = 0; orderIndex < maxOrder && start + orderIndex < ids.length; orderIndex++) {
      const id = ids[start + orderIndex] ?? -1;
      if (id < 0) break;
      key = orderIndex === 0 ? String(id) : `${key} ${id}`;
      const map = counts[orderIndex];
      if (map !== undefined) map.set(key, (map.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

function lowerBound(sorted: readonly number[], value: number): number {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] ?? 0) < value) low = middle + 1;
    else high = middle;
  }
  return low;
}
