import { describe, expect, it } from 'vitest';
import {
  accuracyAt,
  classifierTwoSampleTest,
  distinctN,
  erfc,
  meanSquaredError,
  normalCdf,
  normalQuantile,
  tokenShare,
  wilsonInterval,
} from '../eval/metrics';

describe('distinctN', () => {
  // Samples "a b a b" and "c a".
  const samples = [
    ['a', 'b', 'a', 'b'],
    ['c', 'a'],
  ];

  it('divides distinct by total n-grams', () => {
    // Unigrams: a b a b c a, 6 in total, distinct {a, b, c}: 3/6 = 0.5.
    expect(distinctN(samples, 1)).toBe(0.5);
    // Bigrams: ab, ba, ab, ca (none across samples, so no "b c"): 4 in total, distinct 3: 0.75.
    expect(distinctN(samples, 2)).toBe(0.75);
    // Trigrams: aba, bab from the first sample only: 2/2.
    expect(distinctN(samples, 3)).toBe(1);
  });

  it('returns 0 without n-grams', () => {
    expect(distinctN(samples, 5)).toBe(0);
    expect(distinctN([], 1)).toBe(0);
    expect(() => distinctN(samples, 0)).toThrow(RangeError);
  });

  it('does not confuse tokens containing spaces', () => {
    // "a b" + "c" and "a" + "b c" would collide if n-grams were keyed by joining tokens with spaces.
    expect(
      distinctN(
        [
          ['a b', 'c'],
          ['a', 'b c'],
        ],
        2,
      ),
    ).toBe(1);
  });
});

describe('tokenShare', () => {
  const texts = [
    ['hello', '<pad>', 'world'],
    ['<pad>', '<pad>'],
  ];

  it('counts padding tokens', () => {
    // 3 of 5 tokens are "<pad>".
    expect(tokenShare(texts, (token) => token === '<pad>')).toBe(0.6);
  });

  it('counts padding or out-of-vocabulary tokens', () => {
    // With vocabulary {hello}: <pad>, world, <pad>, <pad> match, 4 of 5.
    const vocabulary = new Set(['hello']);
    expect(tokenShare(texts, (token) => token === '<pad>' || !vocabulary.has(token))).toBe(0.8);
    expect(tokenShare([[]], () => true)).toBe(0);
  });
});

describe('accuracyAt', () => {
  const scores = [0.9, 0.4, 0.5, 0.2];
  const labels = [1, 1, 0, 0];

  it('thresholds scores at 0.5 by default', () => {
    // Predictions 1 0 1 0 (0.5 counts as positive) against labels 1 1 0 0: 2 of 4 correct.
    expect(accuracyAt(scores, labels)).toBe(0.5);
  });

  it('accepts another threshold and boolean labels', () => {
    // Threshold 0.3: predictions 1 1 1 0 against 1 1 0 0: 3 of 4.
    expect(accuracyAt(scores, [true, true, false, false], 0.3)).toBe(0.75);
  });

  it('rejects invalid input', () => {
    expect(() => accuracyAt(scores, [1, 1, 0])).toThrow(/as many labels/);
    expect(() => accuracyAt([], [])).toThrow(/at least one/);
    expect(() => accuracyAt([0.1], [2])).toThrow(/labels 0, 1/);
    expect(() => accuracyAt([Number.NaN], [1])).toThrow(/finite/);
    expect(() => accuracyAt([0.5], [1], Number.NaN)).toThrow(/threshold/);
  });
});

describe('meanSquaredError', () => {
  it('averages squared differences', () => {
    // Differences −0.1, −0.6, 0.5, 0.2; squares 0.01 + 0.36 + 0.25 + 0.04 = 0.66; 0.66 / 4 = 0.165.
    expect(meanSquaredError([0.9, 0.4, 0.5, 0.2], [1, 1, 0, 0])).toBeCloseTo(0.165, 14);
    // Soft targets: (0.5 − 0.9)² = 0.16.
    expect(meanSquaredError([0.5], [0.9])).toBeCloseTo(0.16, 14);
  });

  it('rejects invalid input', () => {
    expect(() => meanSquaredError([0.5, 0.5], [1])).toThrow(/as many labels/);
    expect(() => meanSquaredError([0.5], [Number.POSITIVE_INFINITY])).toThrow(/finite labels/);
  });
});

describe('classifierTwoSampleTest', () => {
  it('reports accuracy, interval and p-value', () => {
    // Real scores 0.9 0.8 0.3 0.6: 3 of 4 are ≥ 0.5. Generated 0.1 0.7 0.2 0.4: 3 of 4 are < 0.5.
    // Accuracy 6/8 = 0.75; z = (0.75 − 0.5) / √(0.25/8) = √2 = 1.4142135624; p = 1 − Φ(√2) = 0.0786496035.
    // Wilson 95% with z = 1.959964, n = 8: center (0.75 + z²/16) / (1 + z²/8) = 0.6688981,
    // half-width z·√(0.75·0.25/8 + z²/256) / (1 + z²/8) = 0.2596227, so [0.4092754, 0.9285208].
    const result = classifierTwoSampleTest([0.9, 0.8, 0.3, 0.6], [0.1, 0.7, 0.2, 0.4]);
    expect(result.correct).toBe(6);
    expect(result.total).toBe(8);
    expect(result.accuracy).toBe(0.75);
    expect(result.realAccuracy).toBe(0.75);
    expect(result.generatedAccuracy).toBe(0.75);
    expect(result.zScore).toBeCloseTo(Math.SQRT2, 12);
    expect(result.pValue).toBeCloseTo(0.07864960352514257, 10);
    expect(result.confidenceInterval[0]).toBeCloseTo(0.40927543031016883, 9);
    expect(result.confidenceInterval[1]).toBeCloseTo(0.9285207872478909, 9);
  });

  it('centers on chance for an uninformative classifier', () => {
    const result = classifierTwoSampleTest([0.6, 0.4], [0.6, 0.4]);
    expect(result.accuracy).toBe(0.5);
    expect(result.zScore).toBe(0);
    expect(result.pValue).toBeCloseTo(0.5, 14);
  });

  it('rejects empty score sets', () => {
    expect(() => classifierTwoSampleTest([], [0.1])).toThrow(/at least one/);
    expect(() => classifierTwoSampleTest([0.5], [0.1], { confidence: 1 })).toThrow(/confidence/);
  });
});

describe('normal distribution helpers', () => {
  it('matches tabulated erfc values', () => {
    const table: [number, number][] = [
      [0, 1],
      [0.5, 0.4795001221869535],
      [1, 0.15729920705028513],
      [2, 0.004677734981047266],
      [2.5, 0.000406952017444959],
      [3, 2.209049699858544e-5],
      [5, 1.537459794428035e-12],
      [10, 2.088487583762545e-45],
      [-1, 1.8427007929497148],
    ];
    for (const [x, expected] of table) expect(erfc(x) / expected).toBeCloseTo(1, 12);
  });

  it('inverts the normal CDF', () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 10);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 12);
    expect(normalQuantile(1e-10)).toBeCloseTo(-6.361340902404056, 9);
    // The upper tail is computed from 1 − p, so it keeps full precision: Φ⁻¹(1 − 1e-12) = 7.0344869100.
    expect(normalQuantile(1 - 1e-12)).toBeCloseTo(7.0344869100478356, 9);
    expect(() => normalQuantile(1)).toThrow(RangeError);
  });

  it('computes a Wilson interval', () => {
    // 80 of 100 at 95%: the Wilson interval is [0.7111708, 0.8666331].
    const [low, high] = wilsonInterval(80, 100);
    expect(low).toBeCloseTo(0.7111708344068423, 9);
    expect(high).toBeCloseTo(0.8666330666689669, 9);
    const [zeroLow] = wilsonInterval(0, 10);
    expect(zeroLow).toBe(0);
  });
});
