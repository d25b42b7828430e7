import { z } from 'zod';

// Kept apart from the strategy so that parsing a run config does not load TensorFlow.js.

/**
 * Word2vec trained on the train split with negative sampling. Each word maps to its vector scaled to
 * unit length. A word outside the vocabulary maps to the vector of the vocabulary word closest to it
 * by edit distance, so a misspelling usually gets the vector of the word it misspells.
 */
export const word2vecOptionsSchema = z.strictObject({
  /** Values per word vector. The study used 12. */
  vectorSize: z.number().int().min(1).max(1024).default(12),
  /** Max distance in words between a centre word and a context word. */
  window: z.number().int().min(1).max(100).default(5),
  /** Training epochs over the train split. */
  iterations: z.number().int().min(1).max(1000).default(10),
  /** Noise words drawn per positive example in negative sampling. */
  negative: z.number().int().min(1).max(100).default(5),
  /**
   * `skipgram` predicts the centre word from each context word, `cbow` from their mean. CBOW is
   * gensim's default, which the study used, and trains about 4 times faster here.
   */
  mode: z.enum(['skipgram', 'cbow']).default('cbow'),
  /** Words seen fewer times than this in the train split are left out of the vocabulary. */
  minCount: z.number().int().min(1).default(1),
  /**
   * Starting learning rate, which falls linearly to 0.0001 times this value by the end of training.
   * The original word2vec starts CBOW at 0.05 instead.
   */
  learningRate: z.number().positive().max(1).default(0.025),
  /**
   * Frequent-word subsampling threshold t. Each occurrence of a word with corpus share f is kept with
   * probability (sqrt(f / t) + 1) * t / f, as in the original word2vec C code, so only words with f
   * above about 2.6 t lose occurrences. 0 keeps every token.
   */
  subsample: z.number().min(0).max(1).default(1e-3),
  /** Seed of the random generator for the initial vectors, windows, noise words and subsampling. */
  seed: z.number().int().min(0).max(4294967295).default(7),
});
export type Word2vecOptions = z.infer<typeof word2vecOptionsSchema>;
