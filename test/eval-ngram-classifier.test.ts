import { describe, expect, it } from 'vitest';
import { NgramClassifier, featuresOf } from '../eval/ngram-classifier';
import { accuracyAt } from '../eval/metrics';
import { Random } from '../lib/random';

function sentences(words: string[], count: number, seed: number): string[][] {
  const random = Random.fromSeed(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: 3 + random.nextInt(6) }, () => words[random.nextInt(words.length)] as string),
  );
}

function heldOutAccuracy(real: string[][], fake: string[][]): number {
  const half = (texts: string[][]) =>
    [texts.slice(0, texts.length / 2), texts.slice(texts.length / 2)] as const;
  const [realTrain, realTest] = half(real);
  const [fakeTrain, fakeTest] = half(fake);
  const model = NgramClassifier.train(realTrain, fakeTrain, Random.fromSeed(1));
  const scores = [...model.predict(realTest), ...model.predict(fakeTest)];
  const labels = [...realTest.map(() => 1), ...fakeTest.map(() => 0)];
  return accuracyAt(scores, labels);
}

describe('n-gram two-sample classifier', () => {
  it('separates texts from different vocabularies', () => {
    const real = sentences(['sun', 'rain', 'cloud', 'wind', 'snow'], 400, 1);
    const fake = sentences(['cat', 'dog', 'bird', 'fish', 'mouse'], 400, 2);
    expect(heldOutAccuracy(real, fake)).toBeGreaterThan(0.95);
  });

  it('separates texts that differ only in word order', () => {
    const random = Random.fromSeed(5);
    const real = Array.from({ length: 400 }, () => [
      'the',
      'quick',
      'fox',
      random.nextInt(2) ? 'runs' : 'jumps',
    ]);
    const fake = real.map((tokens) => [...tokens].reverse());
    expect(heldOutAccuracy(real, fake)).toBeGreaterThan(0.95);
  });

  it('stays near chance on texts from one distribution', () => {
    const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta'];
    const accuracy = heldOutAccuracy(sentences(words, 800, 3), sentences(words, 800, 4));
    expect(accuracy).toBeGreaterThan(0.4);
    expect(accuracy).toBeLessThan(0.6);
  });

  it('hashes words and bigrams with boundaries', () => {
    expect(featuresOf(['a', 'b'], 1 << 10).length).toBe(7);
    expect(Array.from(featuresOf(['A'], 1 << 10)).sort()).toEqual(
      Array.from(featuresOf(['a'], 1 << 10)).sort(),
    );
  });
});
