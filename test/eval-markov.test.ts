import { describe, expect, it } from 'vitest';
import { Random } from '../lib/random';
import { MarkovChain, MarkovChainBuilder } from '../eval/markov';

const corpus: string[][] = [
  ['The', 'cat', 'sat', 'on', 'the', 'mat'],
  ['the', 'dog', 'sat', 'on', 'the', 'rug'],
  ['A', 'cat', 'and', 'a', 'dog'],
  ['the', 'cat', 'ran'],
  ['The', 'end'],
];

/** Distinct lowercased (word, next word) pairs of a corpus, counted independently of the chain. */
function bigramCounts(texts: string[][]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const text of texts) {
    for (let index = 1; index < text.length; index++) {
      const key = `${(text[index - 1] ?? '').toLowerCase()} ${(text[index] ?? '').toLowerCase()}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

describe('MarkovChain structure', () => {
  it('stores one transition per distinct bigram', () => {
    const chain = MarkovChain.fit(corpus);
    const expected = bigramCounts(corpus);
    // Words: the cat sat on mat dog rug a and ran end = 11; bigrams: 5 + 5 + 4 + 2 + 1 = 17 occurrences.
    expect(chain.stats.vocabularySize).toBe(11);
    expect(chain.stats.distinctBigrams).toBe(expected.size);
    expect(chain.stats.totalBigrams).toBe(17);
    expect(chain.stats.textCount).toBe(5);
    const stored = ['the', 'cat', 'sat', 'on', 'mat', 'dog', 'rug', 'a', 'and', 'ran', 'end'].reduce(
      (sum, word) => sum + chain.successors(word).length,
      0,
    );
    expect(stored).toBe(expected.size);
  });

  it('counts successors case-insensitively', () => {
    const chain = MarkovChain.fit(corpus);
    // "the" (any case) is followed by cat ×2 (The cat, the cat), mat, dog, rug, end.
    const successors = Object.fromEntries(chain.successors('THE').map(({ word, count }) => [word, count]));
    expect(successors).toEqual({ cat: 2, mat: 1, dog: 1, rug: 1, end: 1 });
    expect(chain.successors('unknown')).toEqual([]);
    expect(chain.successors('mat')).toEqual([]);
  });

  it('writes each word in its most frequent surface form', () => {
    // "the" ×4 against "The" ×2 and "THE" ×1; "A" ×1 against "a" ×1 is a tie, so the first seen wins.
    const chain = MarkovChain.fit([...corpus, ['THE', 'cat']]);
    expect(chain.surfaceForm('THE')).toBe('the');
    expect(chain.surfaceForm('a')).toBe('A');
    expect(chain.surfaceForm('missing')).toBeUndefined();
  });

  it('skips empty texts', () => {
    const chain = MarkovChain.fit([[], ['one', 'two'], []]);
    expect(chain.stats.textCount).toBe(1);
    expect(chain.lengthDistribution()).toEqual([[2, 1]]);
  });

  it('fits the same from batches as at once', () => {
    const builder = new MarkovChainBuilder();
    builder.addAll(corpus.slice(0, 2));
    builder.addAll(corpus.slice(2));
    expect(builder.build().serialize().equals(MarkovChain.fit(corpus).serialize())).toBe(true);
  });
});

describe('MarkovChain sampling', () => {
  it('draws next words in proportion to bigram counts', () => {
    // Every text starts with "x"; x is followed by a ×1, b ×3 and c ×6, so P(a, b, c | x) = 0.1, 0.3, 0.6.
    const texts = [
      ['x', 'a'],
      ...Array.from({ length: 3 }, () => ['x', 'b']),
      ...Array.from({ length: 6 }, () => ['x', 'c']),
    ];
    const chain = MarkovChain.fit(texts);

    const random = Random.fromSeed(7);
    const observed = new Map<string, number>();
    let draws = 0;
    for (const text of chain.generate(40_000, random)) {
      if (text[0] !== 'x') continue;
      const next = text[1] ?? '';
      observed.set(next, (observed.get(next) ?? 0) + 1);
      draws += 1;
    }
    // The first word is uniform over 4 words, so about 10,000 texts start with "x".
    expect(draws).toBeGreaterThan(9_000);

    const expected: [string, number][] = [
      ['a', 0.1],
      ['b', 0.3],
      ['c', 0.6],
    ];
    let chiSquare = 0;
    for (const [word, probability] of expected) {
      const difference = (observed.get(word) ?? 0) - probability * draws;
      chiSquare += (difference * difference) / (probability * draws);
    }

    expect(observed.get('x') ?? 0).toBe(0);
    // 99.9th percentile of chi-square with 2 degrees of freedom is 13.8.
    expect(chiSquare).toBeLessThan(13.8);
  });

  it('draws the first word uniformly', () => {
    // "common" is ten times as frequent as "rare", but first words ignore frequency.
    const chain = MarkovChain.fit([...Array.from({ length: 10 }, () => ['common']), ['rare']]);
    const firsts = chain.generate(20_000, Random.fromSeed(3)).map((text) => text[0]);
    const rareShare = firsts.filter((word) => word === 'rare').length / firsts.length;
    expect(rareShare).toBeGreaterThan(0.48);
    expect(rareShare).toBeLessThan(0.52);
  });

  it('draws lengths from the training distribution', () => {
    // Lengths 1 ×1, 2 ×1 and 4 ×2 give P(1, 2, 4) = 0.25, 0.25, 0.5.
    const chain = MarkovChain.fit([['a'], ['a', 'b'], ['a', 'b', 'c', 'd'], ['d', 'c', 'b', 'a']]);
    expect(chain.lengthDistribution()).toEqual([
      [1, 1],
      [2, 1],
      [4, 2],
    ]);
    const lengths = chain.generate(20_000, Random.fromSeed(11)).map((text) => text.length);
    const share = (length: number): number =>
      lengths.filter((value) => value === length).length / lengths.length;
    expect(share(1)).toBeCloseTo(0.25, 1);
    expect(share(2)).toBeCloseTo(0.25, 1);
    expect(share(4)).toBeCloseTo(0.5, 1);
    expect(share(3)).toBe(0);
  });

  it('restarts uniformly after a word without successors', () => {
    // "stop" only ends texts, so the word after it is uniform over {go, stop}, and texts keep their drawn length of 2 or 3.
    const chain = MarkovChain.fit([
      ['go', 'stop'],
      ['go', 'go', 'stop'],
    ]);
    expect(chain.successors('stop')).toEqual([]);
    const afterStop = new Map<string, number>();
    const lengths = new Set<number>();
    for (const text of chain.generate(20_000, Random.fromSeed(5))) {
      lengths.add(text.length);
      for (let index = 1; index < text.length; index++) {
        if (text[index - 1] !== 'stop') continue;
        const next = text[index] ?? '';
        afterStop.set(next, (afterStop.get(next) ?? 0) + 1);
      }
    }
    expect([...lengths].sort()).toEqual([2, 3]);
    const total = (afterStop.get('go') ?? 0) + (afterStop.get('stop') ?? 0);
    expect(total).toBeGreaterThan(1_000);
    expect((afterStop.get('stop') ?? 0) / total).toBeCloseTo(0.5, 1);
  });

  it('repeats output for the same seed', () => {
    const chain = MarkovChain.fit(corpus);
    const first = chain.generate(50, Random.fromSeed(42));
    const second = chain.generate(50, Random.fromSeed(42));
    const other = chain.generate(50, Random.fromSeed(43));
    expect(second).toEqual(first);
    expect(other).not.toEqual(first);
  });

  it('continues from a restored generator state', () => {
    const chain = MarkovChain.fit(corpus);
    const random = Random.fromSeed(9);
    chain.generate(5, random);
    const state = random.state();
    expect(chain.generate(5, Random.fromState(state))).toEqual(chain.generate(5, random));
  });

  it('rejects generation without words', () => {
    expect(() => MarkovChain.fit([]).generate(1, Random.fromSeed(1))).toThrow(/no words/);
    expect(MarkovChain.fit([]).generate(0, Random.fromSeed(1))).toEqual([]);
    expect(() => MarkovChain.fit(corpus).generate(-1, Random.fromSeed(1))).toThrow(RangeError);
  });
});

describe('MarkovChain serialization', () => {
  it('round-trips to an equal chain', () => {
    const chain = MarkovChain.fit([...corpus, ['Ünïcödé', 'wörds', '🙂', 'the']]);
    const bytes = chain.serialize();
    const restored = MarkovChain.deserialize(bytes);
    expect(restored.stats).toEqual(chain.stats);
    expect(restored.lengthDistribution()).toEqual(chain.lengthDistribution());
    expect(restored.successors('the')).toEqual(chain.successors('the'));
    expect(restored.surfaceForm('ünïcödé')).toBe('Ünïcödé');
    expect(restored.generate(100, Random.fromSeed(1))).toEqual(chain.generate(100, Random.fromSeed(1)));
    expect(restored.serialize().equals(bytes)).toBe(true);
  });

  it('has the documented size', () => {
    const chain = MarkovChain.fit(corpus);
    const { vocabularySize, distinctBigrams } = chain.stats;
    const wordBytes = ['The', 'cat', 'sat', 'on', 'mat', 'dog', 'rug', 'A', 'and', 'ran', 'end'].join(
      '',
    ).length;
    const distinctLengths = chain.lengthDistribution().length;
    expect(chain.serialize().length).toBe(
      20 + 8 * vocabularySize + 8 * distinctBigrams + 8 * distinctLengths + wordBytes,
    );
  });

  it('reads from an unaligned byte view', () => {
    const bytes = MarkovChain.fit(corpus).serialize();
    const padded = new Uint8Array(bytes.length + 3);
    padded.set(bytes, 3);
    expect(MarkovChain.deserialize(padded.subarray(3)).stats).toEqual(MarkovChain.fit(corpus).stats);
  });

  it('round-trips an empty chain', () => {
    const restored = MarkovChain.deserialize(MarkovChain.fit([]).serialize());
    expect(restored.stats).toEqual({ vocabularySize: 0, distinctBigrams: 0, totalBigrams: 0, textCount: 0 });
  });

  it('rejects corrupted data', () => {
    const bytes = MarkovChain.fit(corpus).serialize();
    expect(() => MarkovChain.deserialize(bytes.subarray(0, bytes.length - 1))).toThrow(
      /Invalid Markov chain data/,
    );
    expect(() => MarkovChain.deserialize(Buffer.concat([bytes, Buffer.from([0])]))).toThrow(/trailing/);
    const wrongMagic = Buffer.from(bytes);
    wrongMagic[0] = 0;
    expect(() => MarkovChain.deserialize(wrongMagic)).toThrow(/magic/);
    const wrongVersion = Buffer.from(bytes);
    wrongVersion.writeUInt32LE(99, 4);
    expect(() => MarkovChain.deserialize(wrongVersion)).toThrow(/version 99/);
    const badTarget = Buffer.from(bytes);
    // The first successor id follows the header and the 11 per-word successor counts.
    badTarget.writeUInt32LE(1_000, 20 + 4 * 11);
    expect(() => MarkovChain.deserialize(badTarget)).toThrow(/out of range|ascending/);
  });
});
