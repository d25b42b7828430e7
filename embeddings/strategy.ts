/**
 * An embedding strategy maps word sequences to the GAN's input and its output back to words.
 * Training and evaluation see only this interface, so adding a strategy touches no training code.
 *
 * Encoded sequences are float32, row-major [seqLen, dimension]. Positions past the end of a text
 * hold the strategy's padding vector, which decodes to no word.
 */
export interface EmbeddingStrategy {
  /** Strategy name as it appears in configs and artifact keys, e.g. "scalar". */
  readonly name: string;
  /** Values per word: the GAN's input size. */
  readonly dimension: number;
  /** Number of words the strategy can decode to. */
  readonly vocabularySize: number;

  /**
   * Writes the encoding of `tokens` (cut to `seqLen`, padded after the end) into
   * `target[offset .. offset + seqLen * dimension)`.
   */
  encodeInto(tokens: readonly string[], seqLen: number, target: Float32Array, offset: number): void;

  /**
   * Decodes `count` sequences stored back to back in `values` ([count, seqLen, dimension]) into words.
   * Padding and positions that decode to out-of-vocabulary are returned as `null`, so callers can
   * count them; `wordsOf` drops them.
   */
  decodeBatch(values: Float32Array, count: number, seqLen: number): Array<Array<string | null>>;

  /** Serializes the fitted strategy (vocabulary and any vectors) for storage in S3. */
  save(): Buffer;
}

export interface EmbeddingFactory<Options> {
  readonly name: string;
  /** Fits the strategy on the train split's token sequences, in order. */
  fit(trainTexts: AsyncIterable<readonly string[]>, options: Options): Promise<EmbeddingStrategy>;
  load(buffer: Buffer): EmbeddingStrategy;
}

/** Drops padding and out-of-vocabulary positions from a decoded sequence. */
export function wordsOf(decoded: ReadonlyArray<string | null>): string[] {
  return decoded.filter((word): word is string => word !== null);
}

/** Encodes many token sequences into one [count, seqLen, dimension] array. */
export function encodeBatch(
  strategy: EmbeddingStrategy,
  texts: ReadonlyArray<readonly string[]>,
  seqLen: number,
): Float32Array {
  const stride = seqLen * strategy.dimension;
  const values = new Float32Array(texts.length * stride);
  texts.forEach((tokens, index) => strategy.encodeInto(tokens, seqLen, values, index * stride));
  return values;
}
