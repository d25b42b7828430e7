import { distance } from 'fastest-levenshtein';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { FuzzyMatcher } from '../embeddings/fuzzy';
import { scalarEmbedding } from '../embeddings/scalar';
import { wordsOf } from '../embeddings/strategy';
import {
  word2vecEmbedding,
  word2vecOptionsSchema,
  type Word2vecEmbedding,
  type Word2vecOptions,
} from '../embeddings/word2vec';
import { readCorpus } from '../embeddings/word2vec-corpus';
import { Random } from '../lib/random';
import { loadTensorFlow } from '../ml/backend';

beforeAll(async () => {
  await loadTensorFlow({ preferred: 'wasm' });
});

async function* texts(items: ReadonlyArray<readonly string[]>): AsyncGenerator<readonly string[]> {
  for (const item of items) yield item;
}

function options(overrides: Partial<Word2vecOptions> = {}): Word2vecOptions {
  return word2vecOptionsSchema.parse(overrides);
}

async function fit(corpus: ReadonlyArray<readonly string[]>, overrides: Partial<Word2vecOptions> = {}) {
  return (await word2vecEmbedding.fit(texts(corpus), options(overrides))) as Word2vecEmbedding;
}

const SMALL_CORPUS: string[][] = [
  ['Hello', 'world', 'the', 'cat', 'sat', 'on', 'the', 'mat'],
  ['the', 'dog', 'ate', 'my', 'homework'],
  ['hello', 'again', 'World'],
  ['a', 'quiet', 'river', 'runs', 'under', 'the', 'bridge'],
];

function vectorAt(values: Float32Array, position: number, dimension: number): number[] {
  return Array.from(values.subarray(position * dimension, (position + 1) * dimension));
}

function norm(vector: readonly number[]): number {
  return Math.sqrt(vector.reduce((sum, value) => sum + value * value, 0));
}

const TOPICS = ['sport', 'food', 'music', 'ocean', 'code'];
const WORDS_PER_TOPIC = 12;
const FILLERS = ['the', 'and', 'of', 'to'];

/**
 * Sentences that each mix words of one topic only, plus filler words shared by all topics, so words
 * of a topic co-occur and words of different topics never do. Word i of a topic is `${topic}${i}`,
 * drawn with weight 1 / (i + 1), and a quarter of the tokens are fillers.
 */
function topicCorpus(seed: number, sentences: number): { corpus: string[][]; topicOf: Map<string, string> } {
  const random = Random.fromSeed(seed);
  const topicOf = new Map<string, string>();
  for (const topic of TOPICS) {
    for (let i = 0; i < WORDS_PER_TOPIC; i++) topicOf.set(`${topic}${i}`, topic);
  }
  const weights = Array.from({ length: WORDS_PER_TOPIC }, (_, i) => 1 / (i + 1));
  const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
  const drawIndex = (): number => {
    let remaining = random.next() * totalWeight;
    for (let i = 0; i < WORDS_PER_TOPIC; i++) {
      remaining -= weights[i] as number;
      if (remaining < 0) return i;
    }
    return WORDS_PER_TOPIC - 1;
  };

  const corpus: string[][] = [];
  for (let s = 0; s < sentences; s++) {
    const topic = TOPICS[random.nextInt(TOPICS.length)] as string;
    const length = 6 + random.nextInt(7);
    const sentence: string[] = [];
    for (let i = 0; i < length; i++) {
      sentence.push(
        random.next() < 0.25 ? (FILLERS[random.nextInt(FILLERS.length)] as string) : `${topic}${drawIndex()}`,
      );
    }
    corpus.push(sentence);
  }
  return { corpus, topicOf };
}

/** Closest word by brute force: smallest distance, then higher frequency, then code unit order. */
function bruteForceClosest(words: string[], frequencies: number[], query: string): string | undefined {
  let best: { word: string; distance: number; frequency: number } | undefined;
  words.forEach((word, index) => {
    const candidate = { word, distance: distance(query, word), frequency: frequencies[index] as number };
    if (
      best === undefined ||
      candidate.distance < best.distance ||
      (candidate.distance === best.distance && candidate.frequency > best.frequency) ||
      (candidate.distance === best.distance && candidate.frequency === best.frequency && word < best.word)
    ) {
      best = candidate;
    }
  });
  return best?.word;
}

describe('FuzzyMatcher', () => {
  it('returns a known word itself', () => {
    const matcher = new FuzzyMatcher(['hello', 'world']);
    expect(matcher.closest('world')).toBe('world');
  });

  it('finds the closest word', () => {
    const matcher = new FuzzyMatcher(['hello', 'world', 'river']);
    expect(matcher.closest('helo')).toBe('hello');
    expect(matcher.closest('wrld')).toBe('world');
    expect(matcher.closest('rivers')).toBe('river');
  });

  it('breaks ties by frequency, then code unit order', () => {
    expect(new FuzzyMatcher(['bat', 'cat'], [1, 3]).closest('xat')).toBe('cat');
    expect(new FuzzyMatcher(['bat', 'cat'], [3, 1]).closest('xat')).toBe('bat');
    expect(new FuzzyMatcher(['cat', 'bat'], [2, 2]).closest('xat')).toBe('bat');
    expect(new FuzzyMatcher(['cat', 'bat']).closest('xat')).toBe('bat');
  });

  it('breaks ties across word lengths', () => {
    // "help" has the query's length and "hello" does not, but both are one edit away.
    expect(new FuzzyMatcher(['help', 'hello'], [1, 9]).closest('helo')).toBe('hello');
    expect(new FuzzyMatcher(['help', 'hello'], [9, 1]).closest('helo')).toBe('help');
  });

  it('returns undefined for an empty vocabulary', () => {
    const matcher = new FuzzyMatcher([]);
    expect(matcher.size).toBe(0);
    expect(matcher.closest('anything')).toBeUndefined();
    expect(matcher.closest('')).toBeUndefined();
  });

  it('respects maxDistance', () => {
    expect(new FuzzyMatcher(['alpha'], undefined, { maxDistance: 2 }).closest('omega')).toBeUndefined();
    expect(new FuzzyMatcher(['alpha'], undefined, { maxDistance: 4 }).closest('omega')).toBe('alpha');
    expect(new FuzzyMatcher(['alpha'], undefined, { maxDistance: 0 }).closest('alpha')).toBe('alpha');
  });

  it('matches the empty query and empty word', () => {
    expect(new FuzzyMatcher(['ab', 'abc', 'x']).closest('')).toBe('x');
    expect(new FuzzyMatcher(['', 'abc']).closest('a')).toBe('');
  });

  it('does not depend on vocabulary order', () => {
    const words = ['card', 'cart', 'care', 'core', 'cord'];
    const frequencies = [2, 2, 5, 1, 5];
    const reversed = new FuzzyMatcher([...words].reverse(), [...frequencies].reverse());
    const forward = new FuzzyMatcher(words, frequencies);
    for (const query of ['carx', 'corx', 'cxrd', 'c', 'cards']) {
      expect(reversed.closest(query)).toBe(forward.closest(query));
    }
  });

  it('agrees with brute force on random words', () => {
    const random = Random.fromSeed(3);
    const letters = 'abcde';
    const randomWord = (maxLength: number) =>
      Array.from(
        { length: 1 + random.nextInt(maxLength) },
        () => letters[random.nextInt(letters.length)],
      ).join('');
    const words = [...new Set(Array.from({ length: 400 }, () => randomWord(7)))];
    const frequencies = words.map(() => 1 + random.nextInt(4));
    const matcher = new FuzzyMatcher(words, frequencies);
    for (let i = 0; i < 300; i++) {
      const query = randomWord(9);
      expect(matcher.closest(query), query).toBe(bruteForceClosest(words, frequencies, query));
    }
  });

  it('returns cached results unchanged', () => {
    const matcher = new FuzzyMatcher(['hello', 'world'], undefined, { cacheSize: 1 });
    expect(matcher.closest('helo')).toBe('hello');
    expect(matcher.closest('wrld')).toBe('world');
    expect(matcher.closest('helo')).toBe('hello');
  });

  it('rejects frequencies of the wrong length', () => {
    expect(() => new FuzzyMatcher(['a', 'b'], [1])).toThrow('1 frequencies for 2 words');
  });
});

describe('readCorpus', () => {
  it('numbers words by frequency and drops rare ones', async () => {
    const corpus = await readCorpus(texts([['b', 'A', 'c'], [], ['a', 'B', 'a'], ['d']]), 2);
    expect(corpus.words).toEqual(['a', 'b']);
    expect(Array.from(corpus.counts)).toEqual([3, 2]);
    expect(Array.from(corpus.tokens)).toEqual([1, 0, 0, 1, 0]);
    // The empty text and the text left empty by dropping "d" are not sentences.
    expect(Array.from(corpus.sentenceEnds)).toEqual([2, 5]);
  });

  it('cuts long texts into sentences of 1000 tokens', async () => {
    const long = Array.from({ length: 2500 }, (_, i) => (i % 2 === 0 ? 'x' : 'y'));
    const corpus = await readCorpus(texts([long, ['x']]), 1);
    expect(corpus.tokens).toHaveLength(2501);
    expect(Array.from(corpus.sentenceEnds)).toEqual([1000, 2000, 2500, 2501]);
  });
});

describe('word2vec embedding', () => {
  it('round-trips known words, lowercased', async () => {
    const strategy = await fit(SMALL_CORPUS);
    const text = ['The', 'CAT', 'sat', 'on', 'the', 'mat', 'Hello', 'World'];
    const values = await strategy.encode([text], text.length);
    const decoded = strategy.decodeBatch(values, 1, text.length);
    expect(decoded).toEqual([text.map((word) => word.toLowerCase())]);
    strategy.dispose();
  });

  it('encodes unit vectors and zero padding', async () => {
    const strategy = await fit(SMALL_CORPUS);
    const dimension = strategy.dimension;
    expect(dimension).toBe(12);
    const values = await strategy.encode([['river', 'bridge'], ['dog']], 4);
    expect(values).toHaveLength(2 * 4 * dimension);
    for (const position of [0, 1, 4]) {
      expect(norm(vectorAt(values, position, dimension))).toBeCloseTo(1, 5);
    }
    for (const position of [2, 3, 5, 6, 7]) {
      expect(vectorAt(values, position, dimension).every((value) => value === 0)).toBe(true);
    }
    for (const value of values) {
      expect(Math.abs(value)).toBeLessThanOrEqual(1);
    }
    const decoded = strategy.decodeBatch(values, 2, 4);
    expect(decoded).toEqual([
      ['river', 'bridge', null, null],
      ['dog', null, null, null],
    ]);
    expect(wordsOf(decoded[1] ?? [])).toEqual(['dog']);
    strategy.dispose();
  });

  it('cuts texts longer than the sequence length', async () => {
    const strategy = await fit(SMALL_CORPUS);
    const values = await strategy.encode([['the', 'dog', 'ate', 'my', 'homework']], 2);
    expect(values).toHaveLength(2 * strategy.dimension);
    expect(strategy.decodeBatch(values, 1, 2)).toEqual([['the', 'dog']]);
    strategy.dispose();
  });

  it('rejects an invalid sequence length', async () => {
    const strategy = await fit(SMALL_CORPUS);
    await expect(strategy.encode([['hello']], 1.5)).rejects.toThrow('seqLen must be a non-negative integer');
    await expect(strategy.encode([['hello']], -1)).rejects.toThrow('seqLen must be a non-negative integer');
    strategy.dispose();
  });

  it('maps misspellings to the closest known word', async () => {
    const strategy = await fit(SMALL_CORPUS);
    expect(strategy.closestKnown('helo')).toBe('hello');
    expect(strategy.closestKnown('Wrld')).toBe('world');
    expect(strategy.closestKnown('homewrk')).toBe('homework');

    const misspelled = await strategy.encode([['helo', 'wrld']], 2);
    const correct = await strategy.encode([['hello', 'world']], 2);
    expect(Array.from(misspelled)).toEqual(Array.from(correct));
    expect(strategy.decodeBatch(misspelled, 1, 2)).toEqual([['hello', 'world']]);
    strategy.dispose();
  });

  it('leaves rare words out with minCount', async () => {
    const strategy = await fit(SMALL_CORPUS, { minCount: 2 });
    // Words seen at least twice after lowercasing: the, hello, world.
    expect(strategy.vocabularySize).toBe(3);
    expect(strategy.table.words).toEqual(['the', 'hello', 'world']);
    expect(strategy.table.has('cat')).toBe(false);
    expect(strategy.closestKnown('hellos')).toBe('hello');
    strategy.dispose();
  });

  it('fits an empty train split', async () => {
    const strategy = await fit([[], []]);
    expect(strategy.vocabularySize).toBe(0);
    expect(strategy.closestKnown('word')).toBeUndefined();
    const values = await strategy.encode([['word']], 2);
    expect(values.every((value) => value === 0)).toBe(true);
    expect(strategy.decodeBatch(values, 1, 2)).toEqual([[null, null]]);
    strategy.dispose();
  });

  it('survives save and load', async () => {
    const strategy = await fit(SMALL_CORPUS, { vectorSize: 8, mode: 'cbow', seed: 3 });
    const loaded = (await word2vecEmbedding.load(strategy.save())) as Word2vecEmbedding;
    expect(loaded.name).toBe('word2vec');
    expect(loaded.dimension).toBe(8);
    expect(loaded.vocabularySize).toBe(strategy.vocabularySize);
    expect(loaded.options).toEqual(strategy.options);

    const text = ['hello', 'wrld', 'river', 'unknownword', 'the'];
    const original = await strategy.encode([text], 6);
    const restored = await loaded.encode([text], 6);
    expect(Array.from(restored)).toEqual(Array.from(original));
    expect(loaded.decodeBatch(restored, 1, 6)).toEqual(strategy.decodeBatch(original, 1, 6));
    strategy.dispose();
    loaded.dispose();
  });

  it('rejects a saved scalar embedding', async () => {
    const scalar = await scalarEmbedding.fit(texts(SMALL_CORPUS), { scale: 'unit' });
    await expect(word2vecEmbedding.load(scalar.save())).rejects.toThrow(
      'Not a saved word2vec embedding: the buffer is a saved "scalar" embedding',
    );
  });

  it('rejects a truncated buffer', async () => {
    await expect(word2vecEmbedding.load(Buffer.from([1, 2]))).rejects.toThrow('truncated');
  });

  it('rejects invalid options', async () => {
    await expect(word2vecEmbedding.fit(texts(SMALL_CORPUS), { ...options(), window: 0 })).rejects.toThrow();
  });

  it('gives equal vectors for equal seeds', async () => {
    const { corpus } = topicCorpus(1, 300);
    for (const mode of ['skipgram', 'cbow'] as const) {
      const first = await fit(corpus, { mode, seed: 5 });
      const second = await fit(corpus, { mode, seed: 5 });
      const other = await fit(corpus, { mode, seed: 6 });
      expect(Array.from(second.table.vectors)).toEqual(Array.from(first.table.vectors));
      expect(Array.from(other.table.vectors)).not.toEqual(Array.from(first.table.vectors));
      for (const value of first.table.vectors) expect(Number.isFinite(value)).toBe(true);
    }
  });

  for (const mode of ['skipgram', 'cbow'] as const) {
    it(`groups topic words (${mode})`, async () => {
      const { corpus, topicOf } = topicCorpus(2, 3000);
      const strategy = await fit(corpus, { mode });
      const topicWords = [...topicOf.keys()];
      // The four most frequent words of each topic.
      const frequentWords = topicWords.filter((word) => Number(word.replace(/\D/g, '')) < 4);

      // Of the 63 other words, 11 share a topic, so by chance about 17% of neighbours would.
      let sameTopic = 0;
      let total = 0;
      for (const word of frequentWords) {
        for (const neighbour of strategy.neighbours(word, 5)) {
          total += 1;
          if (topicOf.get(neighbour.word) === topicOf.get(word)) sameTopic += 1;
        }
      }
      expect(total).toBe(frequentWords.length * 5);
      expect(sameTopic / total).toBeGreaterThan(0.8);

      const random = Random.fromSeed(9);
      let cooccurring = 0;
      let unrelated = 0;
      const pairs = 500;
      for (let i = 0; i < pairs; i++) {
        const sentence = corpus[random.nextInt(corpus.length)] as string[];
        cooccurring += strategy.similarity(
          sentence[random.nextInt(sentence.length)] as string,
          sentence[random.nextInt(sentence.length)] as string,
        );
        unrelated += strategy.similarity(
          topicWords[random.nextInt(topicWords.length)] as string,
          topicWords[random.nextInt(topicWords.length)] as string,
        );
      }
      expect(cooccurring / pairs).toBeGreaterThan(unrelated / pairs + 0.2);
      strategy.dispose();
    });
  }

  it('reports progress while training', async () => {
    // A clock that jumps two seconds per reading makes every clock check report.
    let clock = 0;
    const now = vi.spyOn(Date, 'now').mockImplementation(() => (clock += 2000));
    try {
      const messages: string[] = [];
      const { corpus } = topicCorpus(4, 1000);
      const strategy = await word2vecEmbedding.fit(texts(corpus), options({ iterations: 3 }), {
        onProgress: (message) => messages.push(message),
      });
      expect(messages.length).toBeGreaterThan(3);
      for (const message of messages) {
        expect(message).toMatch(/^word2vec (reading train split, \d+ tokens|epoch [1-3]\/3, \d+%)$/);
      }
      expect(messages.some((message) => message.startsWith('word2vec epoch 3/3'))).toBe(true);
      strategy.dispose?.();
    } finally {
      now.mockRestore();
    }
  });

  it('lowercases neighbours and similarity queries', async () => {
    const strategy = await fit(SMALL_CORPUS);
    expect(strategy.similarity('HELLO', 'hello')).toBeCloseTo(1, 6);
    expect(strategy.similarity('hello', 'missing')).toBeNaN();
    const neighbours = strategy.neighbours('Hello', 3);
    expect(neighbours).toHaveLength(3);
    expect(neighbours.map((entry) => entry.word)).not.toContain('hello');
    strategy.dispose();
  });
});
