import { distance } from 'fastest-levenshtein';

export interface FuzzyMatcherOptions {
  /** Largest Levenshtein distance a match may have. Queries with no word this close get `undefined`. */
  maxDistance?: number;
  /** Maximum number of cached results. When the cache is full, the oldest result is evicted. */
  cacheSize?: number;
}

/** Words of one length, best tie-break rank first, with their ranks. */
interface Bucket {
  words: string[];
  ranks: number[];
}

const DEFAULT_CACHE_SIZE = 100_000;

/** Orders strings by UTF-16 code units, the same in every locale, unlike `localeCompare`. */
export function compareCodeUnits(a: string, b: string): number {
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}

/**
 * Finds the vocabulary word closest to a query by Levenshtein distance over UTF-16 code units, as
 * computed by the `fastest-levenshtein` package.
 *
 * Ties go to the word with the higher frequency, then to the word that sorts first by code unit, so
 * the result does not depend on the order of the vocabulary.
 *
 * The distance between two strings is at least the difference of their lengths. Words are therefore
 * bucketed by length, and a query scans buckets outward from its own length until the length
 * difference exceeds the best distance found. In the last bucket that can still tie, the scan stops at
 * the first word that ranks below the current best.
 */
export class FuzzyMatcher {
  /** Tie-break rank of each word: 0 for the most frequent word. */
  private readonly ranks = new Map<string, number>();
  /** Buckets indexed by word length in UTF-16 code units. */
  private readonly buckets: Array<Bucket | undefined> = [];
  private readonly maxDistance: number;
  private readonly cacheSize: number;
  private readonly cache = new Map<string, string | undefined>();

  /**
   * `frequencies[i]` is the training frequency of `words[i]`. Without it, all words count as equally
   * frequent. A word listed twice keeps its higher frequency.
   */
  constructor(words: readonly string[], frequencies?: ArrayLike<number>, options: FuzzyMatcherOptions = {}) {
    if (frequencies !== undefined && frequencies.length !== words.length) {
      throw new Error(
        `FuzzyMatcher needs one frequency per word, got ${frequencies.length} frequencies for ${words.length} words`,
      );
    }
    const maxDistance = options.maxDistance ?? Number.POSITIVE_INFINITY;
    if (Number.isNaN(maxDistance) || maxDistance < 0) {
      throw new RangeError(`FuzzyMatcher maxDistance must be a non-negative number, got ${maxDistance}`);
    }
    const cacheSize = options.cacheSize ?? DEFAULT_CACHE_SIZE;
    if (!Number.isInteger(cacheSize) || cacheSize < 0) {
      throw new RangeError(`FuzzyMatcher cacheSize must be a non-negative integer, got ${cacheSize}`);
    }
    this.maxDistance = maxDistance;
    this.cacheSize = cacheSize;

    const order = words.map((_, index) => index);
    const frequencyOf = (index: number): number => (frequencies ? (frequencies[index] as number) : 0);
    order.sort((a, b) => {
      const byFrequency = frequencyOf(b) - frequencyOf(a);
      if (byFrequency !== 0) return byFrequency;
      return compareCodeUnits(words[a] as string, words[b] as string);
    });

    for (const index of order) {
      const word = words[index] as string;
      if (this.ranks.has(word)) continue;
      const rank = this.ranks.size;
      this.ranks.set(word, rank);
      let bucket = this.buckets[word.length];
      if (!bucket) {
        bucket = { words: [], ranks: [] };
        this.buckets[word.length] = bucket;
      }
      bucket.words.push(word);
      bucket.ranks.push(rank);
    }
  }

  /** Number of distinct vocabulary words. */
  get size(): number {
    return this.ranks.size;
  }

  has(word: string): boolean {
    return this.ranks.has(word);
  }

  /**
   * Returns the vocabulary word closest to `query`, the query itself when it is in the vocabulary, or
   * `undefined` when the vocabulary is empty or no word is within `maxDistance`.
   */
  closest(query: string): string | undefined {
    if (this.ranks.has(query)) return query;
    if (this.cache.has(query)) return this.cache.get(query);
    const found = this.search(query);
    if (this.cacheSize > 0) {
      if (this.cache.size >= this.cacheSize) {
        const oldest = this.cache.keys().next();
        if (!oldest.done) this.cache.delete(oldest.value);
      }
      this.cache.set(query, found);
    }
    return found;
  }

  private search(query: string): string | undefined {
    let best: string | undefined;
    let bestDistance = this.maxDistance;
    let bestRank = Number.POSITIVE_INFINITY;
    const length = query.length;
    const longest = this.buckets.length - 1;

    for (let offset = 0; offset <= bestDistance; offset++) {
      const shorter = length - offset;
      const longer = length + offset;
      if (shorter < 0 && longer > longest) break;
      const lengths = offset === 0 ? [length] : [shorter, longer];
      for (const bucketLength of lengths) {
        const bucket = bucketLength >= 0 ? this.buckets[bucketLength] : undefined;
        if (!bucket) continue;
        for (let i = 0; i < bucket.words.length; i++) {
          const rank = bucket.ranks[i] as number;
          // Every word here is at least `offset` away, so once only ties remain, a word ranked
          // below the best cannot win, and neither can the words after it in this bucket.
          if (offset === bestDistance && rank > bestRank) break;
          const word = bucket.words[i] as string;
          const d = distance(query, word);
          if (d < bestDistance || (d === bestDistance && rank < bestRank)) {
            best = word;
            bestDistance = d;
            bestRank = rank;
          }
        }
      }
    }
    return best;
  }
}
