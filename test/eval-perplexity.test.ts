import { describe, expect, it } from 'vitest';
import {
  BigramLanguageModel,
  BigramLanguageModelBuilder,
  SENTENCE_END,
  SENTENCE_START,
} from '../eval/bigram-language-model';

// Training texts "a b" and "a c" become <s> a b </s> and <s> a c </s>, with bigram counts
// (<s>, a) = 2 and (a, b) = (b, </s>) = (a, c) = (c, </s>) = 1, so c(<s>) = 2, c(a) = 2, c(b) = c(c) = 1.
const train = [
  ['a', 'b'],
  ['a', 'c'],
];

describe('maximum-likelihood perplexity', () => {
  const model = BigramLanguageModel.fit(train);

  it('uses bigram relative frequencies', () => {
    // "a b": P(a | <s>) = 2/2, P(b | a) = 1/2, P(</s> | b) = 1/1; M = 3 predictions.
    // Perplexity = exp(−ln(1/2) / 3) = 2^(1/3) = 1.2599210499.
    const report = model.perplexity([['a', 'b']], 'maximum-likelihood');
    expect(report.perplexity).toBeCloseTo(1.2599210498948732, 12);
    expect(report.predictions).toBe(3);
    expect(report.unseenBigrams).toBe(0);
    expect(report.unknownWords).toBe(0);
  });

  it('gives unseen bigrams 1e-12 and pools over texts', () => {
    // "b a": (<s>, b), (b, a), (a, </s>) are all unseen, so each gets 1e-12.
    // Pooled with "a b": M = 6, Σ ln P = ln(1/2) + 3 ln(1e-12),
    // perplexity = (2 · 1e36)^(1/6) = 2^(1/6) · 1e6 = 1122462.0483.
    const report = model.perplexity(
      [
        ['a', 'b'],
        ['b', 'a'],
      ],
      'maximum-likelihood',
    );
    expect(report.perplexity / 1122462.048309373).toBeCloseTo(1, 10);
    expect(report.predictions).toBe(6);
    expect(report.unseenBigrams).toBe(3);
  });

  it('counts unknown words', () => {
    // "z": P(z | <s>) and P(</s> | z) are unseen, 1e-12 each, so the perplexity is 1e12.
    const report = model.perplexity([['z']], 'maximum-likelihood');
    expect(report.perplexity / 1e12).toBeCloseTo(1, 10);
    expect(report.unknownWords).toBe(1);
    expect(report.unseenBigrams).toBe(2);
  });

  it('accepts another unseen probability', () => {
    const custom = BigramLanguageModel.fit(train, { unseenProbability: 1e-6 });
    expect(custom.probability('b', 'a', 'maximum-likelihood')).toBe(1e-6);
    expect(() => BigramLanguageModel.fit(train, { unseenProbability: 0 })).toThrow(/unseenProbability/);
  });

  it('predicts only inner bigrams without boundaries', () => {
    // Without boundaries only (a, b) and (a, c) are counted; "a b" has one prediction P(b | a) = 1/2.
    const inner = BigramLanguageModel.fit(train, { sentenceBoundaries: false });
    const report = inner.perplexity([['a', 'b'], ['c']], 'maximum-likelihood');
    expect(report.predictions).toBe(1);
    expect(report.perplexity).toBeCloseTo(2, 12);
  });

  it('returns NaN without predictions', () => {
    const report = model.perplexity([[]], 'maximum-likelihood');
    expect(report.predictions).toBe(0);
    expect(report.perplexity).toBeNaN();
  });
});

describe('Kneser-Ney perplexity', () => {
  const model = BigramLanguageModel.fit(train);

  it('estimates the discount from count-of-counts', () => {
    // Four bigrams seen once (n1 = 4), one seen twice (n2 = 1): D = 4 / (4 + 2·1) = 2/3.
    expect(model.discount).toBeCloseTo(2 / 3, 14);
  });

  it('computes continuation probabilities', () => {
    // N1+(• •) = 5 distinct bigrams. Distinct predecessors: a ← {<s>}, b ← {a}, c ← {a}, </s> ← {b, c},
    // so T = 4. Outcomes U = 3 words + </s> + unknown = 5. With D = 2/3:
    // P_cont(w) = (N1+(• w) − 2/3) / 5 + (2/3 · 4 / 5) / 5 = (N1+(• w) − 2/3) / 5 + 8/75.
    // P_cont(a) = 1/15 + 8/75 = 13/75; P_cont(</s>) = 4/15 + 8/75 = 28/75; P_cont(unknown) = 8/75.
    // An unknown history backs off to P_cont alone.
    expect(model.probability('z', 'a', 'kneser-ney')).toBeCloseTo(13 / 75, 14);
    expect(model.probability('z', SENTENCE_END, 'kneser-ney')).toBeCloseTo(28 / 75, 14);
    expect(model.probability('z', 'y', 'kneser-ney')).toBeCloseTo(8 / 75, 14);
  });

  it('interpolates discounted bigrams', () => {
    // P(a | <s>) = (2 − 2/3) / 2 + (2/3 · 1 / 2) · 13/75 = 2/3 + 13/225 = 163/225.
    // P(b | a) = (1 − 2/3) / 2 + (2/3 · 2 / 2) · 13/75 = 1/6 + 26/225 = 127/450.
    // P(</s> | b) = (1 − 2/3) / 1 + (2/3 · 1 / 1) · 28/75 = 1/3 + 56/225 = 131/225.
    expect(model.probability(SENTENCE_START, 'a', 'kneser-ney')).toBeCloseTo(163 / 225, 14);
    expect(model.probability('a', 'b', 'kneser-ney')).toBeCloseTo(127 / 450, 14);
    expect(model.probability('b', SENTENCE_END, 'kneser-ney')).toBeCloseTo(131 / 225, 14);
    // Perplexity of "a b" = (163/225 · 127/450 · 131/225)^(−1/3) = 2.0328483254.
    expect(model.perplexity([['a', 'b']], 'kneser-ney').perplexity).toBeCloseTo(2.0328483254040512, 12);
  });

  it('sums to one over all outcomes', () => {
    // From "a": P(b) = P(c) = 127/450, P(a) = 52/450, P(</s>) = 112/450, P(unknown) = 32/450; sum 450/450.
    const histories: (string | typeof SENTENCE_START)[] = [SENTENCE_START, 'a', 'b', 'c', 'unseen'];
    for (const history of histories) {
      const outcomes: (string | typeof SENTENCE_END)[] = ['a', 'b', 'c', SENTENCE_END, 'unknown'];
      const total = outcomes.reduce((sum, word) => sum + model.probability(history, word, 'kneser-ney'), 0);
      expect(total).toBeCloseTo(1, 14);
    }
    expect(model.probability('a', 'unknown', 'kneser-ney')).toBeCloseTo(32 / 450, 14);
  });

  it('sums to one on a larger corpus', () => {
    const texts = [
      ['the', 'cat', 'sat', 'on', 'the', 'mat'],
      ['the', 'dog', 'sat', 'on', 'the', 'rug'],
      ['a', 'cat', 'and', 'a', 'dog'],
      ['the', 'cat', 'ran'],
    ];
    const larger = BigramLanguageModel.fit(texts, { sentenceBoundaries: false });
    const vocabulary = [...new Set(texts.flat())];
    for (const history of [...vocabulary, 'never']) {
      const total = [...vocabulary, 'never'].reduce(
        (sum, word) => sum + larger.probability(history, word, 'kneser-ney'),
        0,
      );
      expect(total).toBeCloseTo(1, 12);
    }
  });

  it('keeps unseen text finite', () => {
    const report = model.perplexity([['b', 'a', 'z']], 'kneser-ney');
    expect(Number.isFinite(report.perplexity)).toBe(true);
    expect(report.unknownWords).toBe(1);
    expect(report.unseenBigrams).toBe(4);
  });

  it('accepts a fixed discount', () => {
    const fixed = BigramLanguageModel.fit(train, { discount: 0.5 });
    // P(b | a) = (1 − 0.5) / 2 + (0.5 · 2 / 2) · P_cont(b), P_cont(b) = (1 − 0.5) / 5 + (0.5 · 4 / 5) / 5 = 0.18.
    expect(fixed.probability('a', 'b', 'kneser-ney')).toBeCloseTo(0.25 + 0.5 * 0.18, 14);
    expect(() => BigramLanguageModel.fit(train, { discount: 0 })).toThrow(/discount/);
  });
});

describe('BigramLanguageModelBuilder', () => {
  it('fits batches like one pass', () => {
    const builder = new BigramLanguageModelBuilder();
    builder.add(['a', 'b']).addAll([['a', 'c']]);
    const batched = builder.build();
    const whole = BigramLanguageModel.fit(train);
    expect(batched.perplexity([['a', 'c', 'b']], 'kneser-ney')).toEqual(
      whole.perplexity([['a', 'c', 'b']], 'kneser-ney'),
    );
    expect(batched.vocabularySize).toBe(3);
  });

  it('treats marker-like tokens as words', () => {
    const model = BigramLanguageModel.fit([['<s>', 'x']]);
    // The literal "<s>" is an ordinary word, so P("<s>" | <s>) = 1 and P(x | "<s>") = 1.
    expect(model.probability(SENTENCE_START, '<s>', 'maximum-likelihood')).toBe(1);
    expect(model.probability('<s>', 'x', 'maximum-likelihood')).toBe(1);
  });

  it('accumulates texts across calls', () => {
    const model = BigramLanguageModel.fit(train);
    const accumulator = model.perplexityAccumulator('maximum-likelihood');
    accumulator.add(['a', 'b']).add(['b', 'a']);
    expect(accumulator.report()).toEqual(
      model.perplexity(
        [
          ['a', 'b'],
          ['b', 'a'],
        ],
        'maximum-likelihood',
      ),
    );
  });
});
