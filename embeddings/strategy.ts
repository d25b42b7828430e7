import type { Storage } from '../infra/s3';

/**
 * An embedding strategy maps word sequences to the GAN's input and its output back to words.
 * Training and evaluation see only this interface, so adding a strategy touches no training code.
 *
 * Encoded sequences are float32, row-major [count, seqLen, dimension]. Positions past the end of a
 * text hold the zero vector, which decodes to no word.
 */
export interface EmbeddingStrategy {
  /** Strategy name as it appears in configs and artifact keys, e.g. "scalar". */
  readonly name: string;
  /** Values per word: the GAN's input size. */
  readonly dimension: number;
  /** Number of words the strategy can decode to. */
  readonly vocabularySize: number;

  /**
   * Encodes a batch of token sequences, each cut to `seqLen` and padded after its end, into one
   * [texts.length, seqLen, dimension] array. Asynchronous because contextual strategies run a model.
   */
  encode(texts: ReadonlyArray<readonly string[]>, seqLen: number): Promise<Float32Array>;

  /**
   * Decodes `count` sequences stored back to back in `values` ([count, seqLen, dimension]) into words.
   * Padding and positions that decode to out-of-vocabulary are returned as `null`, so callers can
   * count them; `wordsOf` drops them.
   */
  decodeBatch(values: Float32Array, count: number, seqLen: number): Array<Array<string | null>>;

  /** Serializes the fitted strategy (vocabulary and any vectors) for storage in S3. */
  save(): Buffer;

  /** Frees models or tensors the strategy holds. */
  dispose?(): void;
}

/** Inputs of fitting and loading besides the texts: the run's object store and a progress hook. */
export interface EmbeddingContext {
  /** Store that `s3://` model locations are read from. */
  storage?: Storage;
  /** Called now and then with a short description of the work in progress, e.g. for heartbeats. */
  onProgress?: (message: string) => void;
}

export interface EmbeddingFactory<Options> {
  readonly name: string;
  /** Fits the strategy on the train split's token sequences, in order. */
  fit(
    trainTexts: AsyncIterable<readonly string[]>,
    options: Options,
    context?: EmbeddingContext,
  ): Promise<EmbeddingStrategy>;
  load(buffer: Buffer, context?: EmbeddingContext): Promise<EmbeddingStrategy>;
}

/** Drops padding and out-of-vocabulary positions from a decoded sequence. */
export function wordsOf(decoded: ReadonlyArray<string | null>): string[] {
  return decoded.filter((word): word is string => word !== null);
}

/**
 * Encodes many token sequences into one [count, seqLen, dimension] array, `chunk` texts per call
 * to the strategy so that model-backed strategies keep their working memory bounded. `onChunk`
 * gets the number of texts encoded so far after each call, e.g. to heartbeat.
 */
export async function encodeBatch(
  strategy: EmbeddingStrategy,
  texts: ReadonlyArray<readonly string[]>,
  seqLen: number,
  chunk = 256,
  onChunk?: (encoded: number) => void,
): Promise<Float32Array> {
  const stride = seqLen * strategy.dimension;
  const values = new Float32Array(texts.length * stride);
  for (let start = 0; start < texts.length; start += chunk) {
    const part = texts.slice(start, start + chunk);
    values.set(await strategy.encode(part, seqLen), start * stride);
    onChunk?.(start + part.length);
  }
  return values;
}
