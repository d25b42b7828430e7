import type { Random } from '../lib/random';

/**
 * A logistic-regression classifier over hashed word unigrams and bigrams, for the classifier
 * two-sample test. It trains in milliseconds and reliably learns surface differences between two
 * sets of texts, so its held-out accuracy is a floor on how distinguishable they are. The
 * LSTM-shaped classifier can stay near 50% simply because it failed to train; this one rarely does.
 */
export interface NgramClassifierOptions {
  /** Feature buckets; a power of two. Collisions only cost a little accuracy. */
  buckets?: number;
  epochs?: number;
  learningRate?: number;
  /** L2 penalty per update, which keeps rare n-grams from dominating. */
  l2?: number;
}

const DEFAULTS = { buckets: 1 << 18, epochs: 5, learningRate: 0.2, l2: 1e-6 };

/** FNV-1a over the UTF-16 code units of a string, folded into `mask + 1` buckets. */
function bucketOf(text: string, mask: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) & mask;
}

/** Returns the distinct feature buckets of a text: its words and its word bigrams with boundaries. */
export function featuresOf(tokens: readonly string[], buckets: number): Int32Array {
  const mask = buckets - 1;
  const found = new Set<number>();
  const words = ['<s>', ...tokens.map((token) => token.toLowerCase()), '</s>'];
  for (let i = 0; i < words.length; i++) {
    found.add(bucketOf(`1 ${words[i] as string}`, mask));
    if (i + 1 < words.length) found.add(bucketOf(`2 ${words[i] as string} ${words[i + 1] as string}`, mask));
  }
  return Int32Array.from(found);
}

export class NgramClassifier {
  private constructor(
    private readonly weights: Float64Array,
    private readonly bias: number,
    private readonly buckets: number,
  ) {}

  /** Trains on real texts (label 1) against generated ones (label 0), visiting them in a seeded order. */
  static train(
    real: ReadonlyArray<readonly string[]>,
    generated: ReadonlyArray<readonly string[]>,
    random: Random,
    options: NgramClassifierOptions = {},
  ): NgramClassifier {
    const { buckets, epochs, learningRate, l2 } = { ...DEFAULTS, ...options };
    if (!Number.isInteger(Math.log2(buckets)))
      throw new RangeError(`buckets must be a power of two, got ${buckets}`);
    const examples = [
      ...real.map((tokens) => ({ features: featuresOf(tokens, buckets), label: 1 })),
      ...generated.map((tokens) => ({ features: featuresOf(tokens, buckets), label: 0 })),
    ];
    const weights = new Float64Array(buckets);
    // Per-weight AdaGrad step sizes: frequent n-grams settle quickly, rare ones still learn.
    const squared = new Float64Array(buckets).fill(1e-8);
    let bias = 0;
    let biasSquared = 1e-8;
    for (let epoch = 0; epoch < epochs; epoch++) {
      for (const index of random.shuffle(examples.map((_, i) => i))) {
        const example = examples[index] as (typeof examples)[number];
        let logit = bias;
        for (const feature of example.features) logit += weights[feature] as number;
        const gradient = 1 / (1 + Math.exp(-logit)) - example.label;
        for (const feature of example.features) {
          const g = gradient + l2 * (weights[feature] as number);
          squared[feature] = (squared[feature] as number) + g * g;
          weights[feature] =
            (weights[feature] as number) - (learningRate * g) / Math.sqrt(squared[feature] as number);
        }
        biasSquared += gradient * gradient;
        bias -= (learningRate * gradient) / Math.sqrt(biasSquared);
      }
    }
    return new NgramClassifier(weights, bias, buckets);
  }

  /** Returns the probability that each text is real. */
  predict(texts: ReadonlyArray<readonly string[]>): Float64Array {
    return Float64Array.from(texts, (tokens) => {
      let logit = this.bias;
      for (const feature of featuresOf(tokens, this.buckets)) logit += this.weights[feature] as number;
      return 1 / (1 + Math.exp(-logit));
    });
  }
}
