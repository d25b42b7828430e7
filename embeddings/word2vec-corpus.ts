import { compareCodeUnits } from './fuzzy';

/**
 * The train split as word ids, with sentences stored back to back. Ids index `words`, which lists the
 * vocabulary most frequent first, ties in code unit order.
 */
export interface Corpus {
  words: string[];
  /** Training frequency of each word. */
  counts: Int32Array;
  /** Word id of every token of every sentence. */
  tokens: Int32Array;
  /** Exclusive end offset in `tokens` of each sentence. Empty sentences are left out. */
  sentenceEnds: Int32Array;
}

/** Minimum time between two progress messages, in milliseconds. */
export const PROGRESS_INTERVAL_MS = 1000;
/**
 * Longer texts are cut into sentences of this many tokens, as the original word2vec does, so that
 * one call of the trainer stays short enough for the event loop.
 */
const MAX_SENTENCE_TOKENS = 1000;

/** A growable Int32Array, so that a corpus of millions of tokens takes 4 bytes per token. */
class IntList {
  private values = new Int32Array(1024);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const grown = new Int32Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    this.values[this.length++] = value;
  }

  toArray(): Int32Array {
    return this.values.slice(0, this.length);
  }
}

/**
 * Reads the token sequences once, lowercases them and stores them as word ids, one sentence per
 * sequence or per 1000 tokens of a longer one. Words seen fewer than `minCount` times are dropped from
 * the vocabulary and from the sentences, as the original word2vec does, so context windows reach
 * across them.
 */
export async function readCorpus(
  texts: AsyncIterable<readonly string[]>,
  minCount: number,
  onProgress?: (message: string) => void,
): Promise<Corpus> {
  const ids = new Map<string, number>();
  const firstWords: string[] = [];
  const firstCounts = new IntList();
  const tokens = new IntList();
  const sentenceEnds = new IntList();
  let lastReport = Date.now();
  let lastEnd = 0;

  for await (const sentence of texts) {
    for (const token of sentence) {
      const word = token.toLowerCase();
      let id = ids.get(word);
      if (id === undefined) {
        id = firstWords.length;
        ids.set(word, id);
        firstWords.push(word);
        firstCounts.push(0);
      }
      tokens.push(id);
      if (tokens.length - lastEnd === MAX_SENTENCE_TOKENS) {
        lastEnd = tokens.length;
        sentenceEnds.push(lastEnd);
      }
    }
    if (tokens.length > lastEnd) {
      lastEnd = tokens.length;
      sentenceEnds.push(lastEnd);
    }
    const now = Date.now();
    if (onProgress && now - lastReport >= PROGRESS_INTERVAL_MS) {
      lastReport = now;
      onProgress(`word2vec reading train split, ${tokens.length} tokens`);
    }
  }

  const firstTokens = tokens.toArray();
  const counts = firstCounts.toArray();
  for (const id of firstTokens) counts[id] = (counts[id] as number) + 1;
  return keepFrequentWords(firstWords, counts, firstTokens, sentenceEnds.toArray(), minCount);
}

/** Sorts the vocabulary by frequency, drops rare words and renumbers the tokens. */
function keepFrequentWords(
  firstWords: string[],
  firstCounts: Int32Array,
  firstTokens: Int32Array,
  firstEnds: Int32Array,
  minCount: number,
): Corpus {
  const keptIds = firstWords
    .map((_, id) => id)
    .filter((id) => (firstCounts[id] as number) >= minCount)
    .sort((a, b) => {
      const byCount = (firstCounts[b] as number) - (firstCounts[a] as number);
      if (byCount !== 0) return byCount;
      return compareCodeUnits(firstWords[a] as string, firstWords[b] as string);
    });

  const newId = new Int32Array(firstWords.length).fill(-1);
  keptIds.forEach((id, index) => (newId[id] = index));

  const tokens = new Int32Array(firstTokens.length);
  const ends = new IntList();
  let length = 0;
  let start = 0;
  for (const end of firstEnds) {
    const sentenceStart = length;
    for (let i = start; i < end; i++) {
      const id = newId[firstTokens[i] as number] as number;
      if (id >= 0) tokens[length++] = id;
    }
    if (length > sentenceStart) ends.push(length);
    start = end;
  }

  return {
    words: keptIds.map((id) => firstWords[id] as string),
    counts: Int32Array.from(keptIds, (id) => firstCounts[id] as number),
    tokens: tokens.slice(0, length),
    sentenceEnds: ends.toArray(),
  };
}
