import { Random } from '../lib/random';
import { PROGRESS_INTERVAL_MS, type Corpus } from './word2vec-corpus';
import type { Word2vecOptions } from './word2vec-options';

/** Time after which training yields to the event loop, in milliseconds. */
const YIELD_INTERVAL_MS = 50;
/** Tokens trained between two looks at the clock: a few milliseconds of work. */
const CLOCK_CHECK_TOKENS = 4096;

/**
 * Sigmoid lookup table as in the original word2vec: 1000 steps over [-6, 6], plus one entry for
 * scores that round up to the top index (a score just below 6 can, in floating point).
 */
const SIGMOID_TABLE_SIZE = 1000;
const MAX_EXP = 6;
const SIGMOID_TABLE = Float32Array.from({ length: SIGMOID_TABLE_SIZE + 1 }, (_, i) => {
  const e = Math.exp(((i / SIGMOID_TABLE_SIZE) * 2 - 1) * MAX_EXP);
  return e / (e + 1);
});
const SIGMOID_SCALE = SIGMOID_TABLE_SIZE / MAX_EXP / 2;

/** Learning rate floor, as a fraction of the starting rate, as in the original word2vec. */
const MIN_LEARNING_RATE_FRACTION = 1e-4;

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Noise distribution of negative sampling: each word's count raised to 0.75, as in the original
 * word2vec, stored for Walker's alias method (Vose's construction). One draw picks a column
 * uniformly and then the column's word or its alias, so sampling is O(1). The two arrays have one
 * entry per word, far smaller than the original's table of 1e8 slots.
 */
interface NoiseDistribution {
  /** Probability of keeping column i's own word instead of its alias. */
  threshold: Float64Array;
  alias: Int32Array;
}

function noiseDistribution(counts: Int32Array): NoiseDistribution {
  const size = counts.length;
  const threshold = new Float64Array(size);
  const alias = new Int32Array(size);
  let total = 0;
  for (const count of counts) total += count ** 0.75;
  // Scaled so that the mean weight is 1: columns below 1 are topped up from columns above 1.
  const scaled = Float64Array.from(counts, (count) => (count ** 0.75 * size) / total);
  const small: number[] = [];
  const large: number[] = [];
  scaled.forEach((weight, word) => (weight < 1 ? small : large).push(word));
  while (small.length > 0 && large.length > 0) {
    const low = small.pop() as number;
    const high = large.pop() as number;
    threshold[low] = scaled[low] as number;
    alias[low] = high;
    scaled[high] = (scaled[high] as number) + (scaled[low] as number) - 1;
    ((scaled[high] as number) < 1 ? small : large).push(high);
  }
  // What remains is 1 up to rounding error: those columns always keep their own word.
  for (const word of [...small, ...large]) {
    threshold[word] = 1;
    alias[word] = word;
  }
  return { threshold, alias };
}

/**
 * Probability of keeping each occurrence of each word under frequent-word subsampling, with the
 * formula of the original word2vec C code: (sqrt(count / t) + 1) * t / count, where t is `subsample`
 * times the corpus size. A `subsample` of 0 keeps every token.
 */
function keepProbabilities(counts: Int32Array, totalTokens: number, subsample: number): Float64Array {
  const keep = new Float64Array(counts.length).fill(1);
  if (subsample <= 0) return keep;
  const threshold = subsample * totalTokens;
  counts.forEach((count, id) => {
    keep[id] = Math.min(1, (Math.sqrt(count / threshold) + 1) * (threshold / count));
  });
  return keep;
}

/**
 * Maps a 32-bit draw r to [0, 1). `Math.floor(r * n * UINT32_SCALE)` is then an integer in [0, n),
 * uniform up to a bias of n / 2^32.
 */
const UINT32_SCALE = 1 / 4294967296;

/**
 * Skip-gram or CBOW with negative sampling over flat float32 weight matrices, on one thread with one
 * seeded generator, so equal corpora and options give equal vectors.
 *
 * Integers are drawn by scaling a 32-bit draw, not with `%`, because V8 computes `%` on an unsigned
 * value of 2^31 or more as a floating-point modulo. In a Node 20 micro-benchmark that modulo cost
 * about as much as the 12-value update it would serve.
 */
class Trainer {
  /** Input (word) vectors, [words, dimension]: the embedding that training returns. */
  readonly input: Float32Array;
  /** Output (context) vectors of negative sampling, [words, dimension]. */
  private readonly output: Float32Array;
  private readonly noise: NoiseDistribution;
  private readonly keep: Float64Array;
  private readonly random: Random;
  private readonly dimension: number;
  private readonly window: number;
  private readonly negative: number;
  private readonly cbow: boolean;
  /** Tokens of the current sentence that survive subsampling. */
  private sentence: Int32Array;
  /** Mean of the context vectors (CBOW only). */
  private readonly hidden: Float32Array;
  /** Gradient accumulated for the input side of the current example. */
  private readonly hiddenGradient: Float32Array;

  constructor(
    private readonly tokens: Int32Array,
    counts: Int32Array,
    options: Word2vecOptions,
  ) {
    const words = counts.length;
    this.dimension = options.vectorSize;
    this.window = options.window;
    this.negative = options.negative;
    this.cbow = options.mode === 'cbow';
    this.random = Random.fromSeed(options.seed);
    // Initialization of the original word2vec: uniform in ±0.5 / dimension, output vectors zero.
    this.input = new Float32Array(words * this.dimension);
    for (let i = 0; i < this.input.length; i++) {
      this.input[i] = (this.random.next() - 0.5) / this.dimension;
    }
    this.output = new Float32Array(words * this.dimension);
    this.noise = noiseDistribution(counts);
    this.keep = keepProbabilities(counts, tokens.length, options.subsample);
    this.sentence = new Int32Array(64);
    this.hidden = new Float32Array(this.dimension);
    this.hiddenGradient = new Float32Array(this.dimension);
  }

  /** Trains on the tokens in [start, end) with the given learning rate. */
  trainSentence(start: number, end: number, learningRate: number): void {
    const length = this.subsample(start, end);
    if (this.cbow) {
      this.cbowSentence(length, learningRate);
    } else {
      this.skipgramSentence(length, learningRate);
    }
  }

  /** Copies the tokens that survive subsampling into `sentence` and returns how many there are. */
  private subsample(start: number, end: number): number {
    if (this.sentence.length < end - start) this.sentence = new Int32Array(end - start);
    const sentence = this.sentence;
    const tokens = this.tokens;
    const keepProbability = this.keep;
    const random = this.random;
    let length = 0;
    for (let i = start; i < end; i++) {
      const word = tokens[i] as number;
      const keep = keepProbability[word] as number;
      if (keep < 1 && random.nextUint32() * UINT32_SCALE >= keep) continue;
      sentence[length++] = word;
    }
    return length;
  }

  /**
   * Trains skip-gram on the current sentence. Each context word's input vector predicts the centre
   * word against `negative` noise words, the pairing of the original C code. As there, each centre
   * word gets a window shrunk to a random size in [1, window].
   */
  private skipgramSentence(length: number, learningRate: number): void {
    const sentence = this.sentence;
    const window = this.window;
    const dimension = this.dimension;
    const input = this.input;
    const gradientSum = this.hiddenGradient;
    const random = this.random;
    for (let position = 0; position < length; position++) {
      const centre = sentence[position] as number;
      const shrink = Math.floor(random.nextUint32() * window * UINT32_SCALE);
      const first = Math.max(0, position - window + shrink);
      const last = Math.min(length - 1, position + window - shrink);
      for (let c = first; c <= last; c++) {
        if (c === position) continue;
        const inputOffset = (sentence[c] as number) * dimension;
        for (let i = 0; i < dimension; i++) gradientSum[i] = 0;
        this.negativeSampling(input, inputOffset, centre, learningRate);
        for (let i = 0; i < dimension; i++) {
          input[inputOffset + i] = (input[inputOffset + i] as number) + (gradientSum[i] as number);
        }
      }
    }
  }

  /**
   * Trains CBOW on the current sentence. The mean of the context words' input vectors predicts the
   * centre word, and every context word gets the whole gradient, as in the original C code.
   */
  private cbowSentence(length: number, learningRate: number): void {
    const sentence = this.sentence;
    const window = this.window;
    const dimension = this.dimension;
    const input = this.input;
    const hidden = this.hidden;
    const gradientSum = this.hiddenGradient;
    const random = this.random;
    for (let position = 0; position < length; position++) {
      const centre = sentence[position] as number;
      const shrink = Math.floor(random.nextUint32() * window * UINT32_SCALE);
      const first = Math.max(0, position - window + shrink);
      const last = Math.min(length - 1, position + window - shrink);
      // [first, last] always includes the centre, so it has last - first context words.
      const contexts = last - first;
      if (contexts === 0) continue;

      for (let i = 0; i < dimension; i++) hidden[i] = 0;
      for (let c = first; c <= last; c++) {
        if (c === position) continue;
        const offset = (sentence[c] as number) * dimension;
        for (let i = 0; i < dimension; i++) hidden[i] = (hidden[i] as number) + (input[offset + i] as number);
      }
      for (let i = 0; i < dimension; i++) hidden[i] = (hidden[i] as number) / contexts;

      for (let i = 0; i < dimension; i++) gradientSum[i] = 0;
      this.negativeSampling(hidden, 0, centre, learningRate);
      for (let c = first; c <= last; c++) {
        if (c === position) continue;
        const offset = (sentence[c] as number) * dimension;
        for (let i = 0; i < dimension; i++) {
          input[offset + i] = (input[offset + i] as number) + (gradientSum[i] as number);
        }
      }
    }
  }

  /**
   * Updates the output vectors of `target` (label 1) and of `negative` noise words (label 0) against
   * the vector at `source[sourceOffset]`, and adds the gradient for that vector to `hiddenGradient`.
   * A noise word equal to the target is skipped, as in the original C code.
   */
  private negativeSampling(
    source: Float32Array,
    sourceOffset: number,
    target: number,
    learningRate: number,
  ): void {
    const dimension = this.dimension;
    const output = this.output;
    const gradientSum = this.hiddenGradient;
    const noiseThreshold = this.noise.threshold;
    const noiseAlias = this.noise.alias;
    const noiseScale = noiseAlias.length * UINT32_SCALE;
    const random = this.random;
    const samples = this.negative;
    for (let sample = 0; sample <= samples; sample++) {
      let word = target;
      let label = 1;
      if (sample > 0) {
        // The integer part of the scaled draw picks the column and the fraction decides between the
        // column's word and its alias. The fraction keeps 32 - log2(words) bits of resolution.
        const scaledDraw = random.nextUint32() * noiseScale;
        const column = Math.floor(scaledDraw);
        word =
          scaledDraw - column < (noiseThreshold[column] as number) ? column : (noiseAlias[column] as number);
        if (word === target) continue;
        label = 0;
      }
      const outputOffset = word * dimension;
      let score = 0;
      for (let i = 0; i < dimension; i++) {
        score += (source[sourceOffset + i] as number) * (output[outputOffset + i] as number);
      }
      // (label - sigmoid(score)) times the learning rate, with the sigmoid read from the lookup
      // table and scores beyond ±6 treated as saturated, as in the original C code.
      let g: number;
      if (score > MAX_EXP) {
        g = (label - 1) * learningRate;
      } else if (score < -MAX_EXP) {
        g = label * learningRate;
      } else {
        g = (label - (SIGMOID_TABLE[Math.floor((score + MAX_EXP) * SIGMOID_SCALE)] as number)) * learningRate;
      }
      for (let i = 0; i < dimension; i++) {
        const outputValue = output[outputOffset + i] as number;
        gradientSum[i] = (gradientSum[i] as number) + g * outputValue;
        output[outputOffset + i] = outputValue + g * (source[sourceOffset + i] as number);
      }
    }
  }
}

/**
 * Trains word vectors on `corpus` for `options.iterations` epochs and returns the input vectors,
 * [corpus.words.length, vectorSize] row-major.
 *
 * The learning rate falls linearly from `learningRate` to 0.0001 times it over all epochs, by the
 * share of tokens processed, as in the original word2vec. Every 4096 tokens or so, training looks at
 * the clock. It yields to the event loop when 50 ms have passed since the last yield and reports
 * progress when a second has passed since the last report.
 */
export async function trainWord2vec(
  corpus: Corpus,
  options: Word2vecOptions,
  onProgress?: (message: string) => void,
): Promise<Float32Array> {
  if (corpus.words.length === 0) return new Float32Array(0);
  const trainer = new Trainer(corpus.tokens, corpus.counts, options);
  const sentences = corpus.sentenceEnds.length;
  const totalTokens = corpus.tokens.length;
  const plannedTokens = options.iterations * totalTokens + 1;
  const minLearningRate = options.learningRate * MIN_LEARNING_RATE_FRACTION;
  let processed = 0;
  let sinceClockCheck = 0;
  let lastYield = Date.now();
  let lastReport = lastYield;

  for (let epoch = 0; epoch < options.iterations; epoch++) {
    let start = 0;
    for (let index = 0; index < sentences; index++) {
      const end = corpus.sentenceEnds[index] as number;
      const learningRate = Math.max(minLearningRate, options.learningRate * (1 - processed / plannedTokens));
      trainer.trainSentence(start, end, learningRate);
      processed += end - start;
      sinceClockCheck += end - start;
      start = end;

      if (sinceClockCheck >= CLOCK_CHECK_TOKENS) {
        sinceClockCheck = 0;
        const now = Date.now();
        if (onProgress && now - lastReport >= PROGRESS_INTERVAL_MS) {
          lastReport = now;
          const percent = Math.floor((100 * end) / totalTokens);
          onProgress(`word2vec epoch ${epoch + 1}/${options.iterations}, ${percent}%`);
        }
        if (now - lastYield >= YIELD_INTERVAL_MS) {
          await yieldToEventLoop();
          lastYield = Date.now();
        }
      }
    }
  }
  return trainer.input;
}
