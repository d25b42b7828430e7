import { describe, expect, it } from 'vitest';
import { Random } from '../lib/random';
import {
  averageSentenceBleu,
  bleu,
  BleuReferenceIndex,
  brevityPenalty,
  selfBleu,
  sentenceBleu,
} from '../eval/bleu';

const words = (text: string): string[] => text.split(' ');

describe('sentence BLEU', () => {
  const references = [words('the cat is on the mat'), words('there is a cat on the mat')];

  it('clips counts by the max in one reference', () => {
    // "the" ×7 in the candidate; the most in any single reference is 2 (first one), so p1 = 2/7.
    // c = 7 and the closest reference length is 7, so BP = exp(1 − 7/7) = 1 and BLEU-1 = 2/7.
    const candidate = words('the the the the the the the');
    expect(sentenceBleu(candidate, references, 1)).toBeCloseTo(2 / 7, 12);
  });

  it('applies epsilon smoothing to zero counts', () => {
    // Same candidate: no reference contains "the the", so bigram matches are 0 of 6.
    // Unsmoothed BLEU-2 is 0; method 1 gives p2 = 0.1 / 6 and BLEU-2 = √(2/7 · 0.1/6) = 0.0690065559.
    const candidate = words('the the the the the the the');
    expect(sentenceBleu(candidate, references, 2, { smoothing: 'none' })).toBe(0);
    expect(sentenceBleu(candidate, references, 2)).toBeCloseTo(0.0690065559342354, 12);
    expect(sentenceBleu(candidate, references, 2, { epsilon: 0.2 })).toBeCloseTo(
      Math.sqrt((2 / 7) * (0.2 / 6)),
      12,
    );
  });

  it('returns 0 without unigram matches', () => {
    // Like NLTK, no unigram match means 0 even with smoothing.
    expect(sentenceBleu(words('dog barks'), references, 2)).toBe(0);
    expect(sentenceBleu([], references, 2)).toBe(0);
  });

  it('uses the closest reference length', () => {
    // References of length 5 and 8; the candidate has length 4, so r = 5 and BP = exp(1 − 5/4) = exp(−0.25).
    // All 4 unigrams and all 3 bigrams occur in the first reference, so BLEU-2 = BP = 0.7788007831.
    const lengths = [words('a b c d e'), words('a b c d e f g h')];
    expect(sentenceBleu(words('a b c d'), lengths, 2)).toBeCloseTo(0.7788007830714049, 12);
  });

  it('breaks length ties toward the shorter reference', () => {
    // Lengths 3 and 5 are both 1 away from 4; the shorter (3) wins, c = 4 > r = 3, so BP = 1.
    const index = new BleuReferenceIndex([words('a b c'), words('a b c d e')], 2);
    expect(index.closestReferenceLength(4)).toBe(3);
    expect(sentenceBleu(words('a b c d'), index, 2)).toBeCloseTo(1, 12);
  });

  it('matches n-grams across different references', () => {
    // References "the cat sat on the mat" and "a dog sat on a rug"; candidate "the cat sat on a rug".
    // p1 = 6/6, p2 = 5/5 (the cat, cat sat, sat on, on a, a rug), p3 = 4/4 (the cat sat, cat sat on from
    // the first; sat on a, on a rug from the second), p4 = 2/3 (the cat sat on, sat on a rug; not
    // cat sat on a). c = r = 6 so BP = 1; BLEU-3 = 1 and BLEU-4 = (2/3)^(1/4) = 0.9036020036.
    const pair = [words('the cat sat on the mat'), words('a dog sat on a rug')];
    const candidate = words('the cat sat on a rug');
    expect(sentenceBleu(candidate, pair, 3)).toBeCloseTo(1, 12);
    expect(sentenceBleu(candidate, pair, 4)).toBeCloseTo(0.9036020036098448, 12);
  });

  it('smooths orders longer than a short candidate', () => {
    // Candidate "the": p1 = 1/1; it has no bigram, so p2 = 0.1 / max(1, 0) = 0.1.
    // c = 1, r = 6, BP = exp(1 − 6) = exp(−5); BLEU-2 = exp(−5) · √0.1 = 0.0021307259.
    const candidate = ['the'];
    expect(sentenceBleu(candidate, [words('the cat sat on the mat')], 2)).toBeCloseTo(
      0.0021307259270606544,
      14,
    );
  });

  it('compares tokens case-sensitively', () => {
    expect(sentenceBleu(['The'], [['the']], 1)).toBe(0);
  });
});

describe('corpus and average BLEU', () => {
  const references = [words('the cat sat on the mat'), words('a dog sat on a rug')];
  // Candidate 1 "the cat sat": 3/3 unigrams and 2/2 bigrams match; closest reference length 6.
  // Candidate 2 "a dog ran on a mat": unigrams a ×2 (clipped at 2 by the second reference), dog, on, mat
  // match and ran does not, so 5/6; bigrams "a dog" and "on a" match, so 2/5; closest length 6.
  const candidates = [words('the cat sat'), words('a dog ran on a mat')];

  it('pools counts at corpus level', () => {
    // p1 = (3 + 5) / (3 + 6) = 8/9, p2 = (2 + 2) / (2 + 5) = 4/7, c = 9, r = 12.
    // BP = exp(1 − 12/9) = 0.7165313106; BLEU-2 = BP · √(8/9 · 4/7) = 0.7165313106 · 0.7126966451 = 0.5106694612.
    expect(bleu(candidates, references, 2)).toBeCloseTo(0.5106694611549013, 12);
  });

  it('averages sentence scores', () => {
    // Candidate 1: BP = exp(1 − 6/3) = exp(−1), precisions 1, so 0.3678794412.
    // Candidate 2: BP = 1 (c = r = 6), √(5/6 · 2/5) = √(1/3) = 0.5773502692. Mean = 0.4726148552.
    expect(averageSentenceBleu(candidates, references, 2)).toBeCloseTo(0.47261485518053403, 12);
  });

  it('reuses one reference index', () => {
    const index = new BleuReferenceIndex(references, 4);
    expect(bleu(candidates, index, 2)).toBeCloseTo(bleu(candidates, references, 2), 14);
    expect(averageSentenceBleu(candidates, index, 3)).toBeCloseTo(
      averageSentenceBleu(candidates, references, 3),
      14,
    );
    expect(() => bleu(candidates, new BleuReferenceIndex(references, 2), 3)).toThrow(/order/);
  });

  it('scores identical text as 1', () => {
    expect(bleu(references, references, 4)).toBeCloseTo(1, 12);
    expect(averageSentenceBleu(references, references, 4)).toBeCloseTo(1, 12);
  });

  it('rejects empty inputs', () => {
    expect(() => bleu([], references, 2)).toThrow(/candidate/);
    expect(() => bleu(candidates, [], 2)).toThrow(/reference/);
    expect(() => bleu(candidates, references, 0)).toThrow(/order/);
  });

  it('computes the brevity penalty', () => {
    expect(brevityPenalty(5, 4)).toBe(1);
    expect(brevityPenalty(4, 4)).toBe(1);
    expect(brevityPenalty(0, 4)).toBe(0);
    expect(brevityPenalty(2, 4)).toBeCloseTo(Math.exp(-1), 14);
  });
});

describe('self-BLEU', () => {
  it('scores each sample against the others', () => {
    // Samples "x x y", "x y z", "q", BLEU-2 with epsilon smoothing.
    // "x x y" against {"x y z", "q"}: x ×2 clips to 1 (its own count of 2 is excluded), y matches: p1 = 2/3;
    // bigrams "x x" no, "x y" yes: p2 = 1/2; r = 3 = c so BP = 1; score √(1/3) = 0.5773502692.
    // "x y z" against {"x x y", "q"}: x, y match, z does not: p1 = 2/3; "x y" yes, "y z" no: p2 = 1/2; √(1/3).
    // "q" against the others: no unigram match, 0. Mean = 2√(1/3)/3 = 0.3849001795.
    const samples = [words('x x y'), words('x y z'), ['q']];
    expect(selfBleu(samples, 2)).toBeCloseTo(0.38490017945975047, 12);
  });

  it('scores exact duplicates as 1', () => {
    // "a b" twice and "c d": each "a b" has its duplicate as a reference (1), "c d" matches nothing (0).
    expect(selfBleu([words('a b'), words('a b'), words('c d')], 2)).toBeCloseTo(2 / 3, 12);
  });

  it('excludes the sample from the closest length', () => {
    const index = new BleuReferenceIndex([words('a b'), words('a b c'), words('a b c d e')], 1);
    // Leaving out the length-3 reference, 2 and 5 remain and 2 is closer to 3.
    expect(index.closestReferenceLength(3, 3)).toBe(2);
    expect(index.closestReferenceLength(3)).toBe(3);
    const twice = new BleuReferenceIndex([words('a b c'), words('d e f')], 1);
    expect(twice.closestReferenceLength(3, 3)).toBe(3);
  });

  it('draws a seeded subset', () => {
    const samples = Array.from({ length: 12 }, (_, index) =>
      words(`w${index % 4} w${index % 3} w${index % 5} end`),
    );
    const first = selfBleu(samples, 3, { subsetSize: 5, random: Random.fromSeed(21) });
    const again = selfBleu(samples, 3, { subsetSize: 5, random: Random.fromSeed(21) });
    expect(again).toBe(first);
    // The subset is the first 5 of a seeded shuffle of the sample positions.
    const positions = Random.fromSeed(21)
      .shuffle(samples.map((_, position) => position))
      .slice(0, 5);
    const subset = positions.map((position) => samples[position] ?? []);
    expect(first).toBeCloseTo(selfBleu(subset, 3), 14);
  });

  it('rejects a subset without a generator', () => {
    const samples = [words('a b'), words('b c'), words('c d')];
    expect(() => selfBleu(samples, 2, { subsetSize: 2 })).toThrow(/random/);
    expect(() => selfBleu([words('a b')], 2)).toThrow(/at least 2/);
  });

  it('matches a brute-force leave-one-out computation', () => {
    const random = Random.fromSeed(5);
    const vocabulary = ['red', 'green', 'blue', 'cat', 'dog', 'runs', 'sleeps'];
    const samples = Array.from({ length: 30 }, () =>
      Array.from(
        { length: 2 + random.nextInt(6) },
        () => vocabulary[random.nextInt(vocabulary.length)] ?? '',
      ),
    );
    const bruteForce =
      samples.reduce((sum, sample, position) => {
        const others = samples.filter((_, other) => other !== position);
        return sum + sentenceBleu(sample, others, 3);
      }, 0) / samples.length;
    expect(selfBleu(samples, 3)).toBeCloseTo(bruteForce, 12);
  });
});

describe('BLEU speed', () => {
  it('scores 5,000 candidates against 9,000 references quickly', () => {
    const random = Random.fromSeed(1);
    const vocabulary = Array.from({ length: 2_000 }, (_, index) => `w${index}`);
    // Word indices are drawn as ⌊2000 · u³⌋, so common n-grams repeat as in real text. With uniform words
    // no 4-gram would match, and unsmoothed corpus BLEU-4 would be 0.
    const word = (): string => vocabulary[Math.floor(vocabulary.length * random.next() ** 3)] ?? '';
    const text = (): string[] => Array.from({ length: 10 + random.nextInt(11) }, word);
    const references = Array.from({ length: 9_000 }, text);
    const candidates = Array.from({ length: 5_000 }, text);
    const started = performance.now();
    const index = new BleuReferenceIndex(references, 4);
    const scores = [2, 3, 4].map((n) => averageSentenceBleu(candidates, index, n));
    const corpus = bleu(candidates, index, 4);
    const elapsedSeconds = (performance.now() - started) / 1000;
    expect(scores.every((score) => score > 0 && score < 1)).toBe(true);
    expect(corpus).toBeGreaterThan(0);
    expect(elapsedSeconds).toBeLessThan(20);
  });
});
