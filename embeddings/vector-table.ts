import * as tf from '@tensorflow/tfjs';

/**
 * Vectors shorter than this decode to padding (no word). Strategies encode words as unit vectors
 * and padding as the zero vector, so half the unit length is the boundary between the two.
 */
const PADDING_NORM = 0.5;
/** Upper bound on the similarity matrix of one decoding chunk, in float32 values. */
const CHUNK_VALUES = 16 * 1024 * 1024;

/**
 * A vocabulary with one vector per word, decoded by cosine similarity.
 *
 * Decoding takes one matrix product per chunk of positions against the unit-length vocabulary
 * matrix on the active TensorFlow.js backend, then an arg-max per row. So a batch of generated
 * texts costs a few large products instead of a loop over words.
 */
export class VectorTable {
  readonly size: number;
  private readonly index = new Map<string, number>();
  private unit: tf.Tensor2D | undefined;

  /** `vectors` is [words.length, dimension] row-major; the table keeps it, it does not copy it. */
  constructor(
    readonly words: readonly string[],
    readonly vectors: Float32Array,
    readonly dimension: number,
  ) {
    if (vectors.length !== words.length * dimension) {
      throw new Error(
        `Invalid vector table: ${vectors.length} values, expected ${words.length} words x ${dimension}`,
      );
    }
    this.size = words.length;
    words.forEach((word, row) => this.index.set(word, row));
  }

  has(word: string): boolean {
    return this.index.has(word);
  }

  rowOf(word: string): number | undefined {
    return this.index.get(word);
  }

  /** Returns the stored vector of `word`, or undefined when the word is not in the table. */
  vectorOf(word: string): Float32Array | undefined {
    const row = this.index.get(word);
    return row === undefined
      ? undefined
      : this.vectors.subarray(row * this.dimension, (row + 1) * this.dimension);
  }

  /**
   * Row of the most similar word for each of the `positions` vectors in `values`
   * ([positions, dimension]), or -1 for padding (a vector of about zero length).
   */
  nearestRows(values: Float32Array, positions: number): Int32Array {
    const result = new Int32Array(positions).fill(-1);
    if (this.size === 0 || positions === 0) return result;
    const unit = this.unitMatrix();
    const chunk = Math.max(1, Math.floor(CHUNK_VALUES / this.size));
    for (let start = 0; start < positions; start += chunk) {
      const rows = Math.min(chunk, positions - start);
      const slice = values.subarray(start * this.dimension, (start + rows) * this.dimension);
      const best = tf.tidy(() => {
        const queries = tf.tensor2d(slice, [rows, this.dimension]);
        return tf.argMax(tf.matMul(queries, unit), 1);
      });
      const found = best.dataSync();
      best.dispose();
      for (let row = 0; row < rows; row++) {
        if (norm(slice, row * this.dimension, this.dimension) > PADDING_NORM) {
          result[start + row] = found[row] as number;
        }
      }
    }
    return result;
  }

  /** Decodes [count, seqLen, dimension] values into words, `null` for padding. */
  decode(values: Float32Array, count: number, seqLen: number): Array<Array<string | null>> {
    const rows = this.nearestRows(values, count * seqLen);
    const texts: Array<Array<string | null>> = [];
    for (let text = 0; text < count; text++) {
      const words: Array<string | null> = [];
      for (let position = 0; position < seqLen; position++) {
        const row = rows[text * seqLen + position] as number;
        words.push(row < 0 ? null : (this.words[row] as string));
      }
      texts.push(words);
    }
    return texts;
  }

  /** Finds the `k` words most similar to `word` by cosine, best first, the word itself left out. */
  neighbours(word: string, k: number): Array<{ word: string; similarity: number }> {
    const vector = this.vectorOf(word);
    if (!vector) return [];
    const scores = tf.tidy(() =>
      tf.matMul(tf.tensor2d(unitCopy(vector, 1, this.dimension), [1, this.dimension]), this.unitMatrix()),
    );
    const similarity = scores.dataSync();
    scores.dispose();
    return Array.from(similarity, (value, row) => ({ word: this.words[row] as string, similarity: value }))
      .filter((entry) => entry.word !== word)
      .sort((a, b) => b.similarity - a.similarity)
      .slice(0, k);
  }

  /** Cosine similarity of two words in the table; NaN when either is missing. */
  similarity(a: string, b: string): number {
    const first = this.vectorOf(a);
    const second = this.vectorOf(b);
    if (!first || !second) return Number.NaN;
    let dot = 0;
    for (let i = 0; i < this.dimension; i++) dot += (first[i] as number) * (second[i] as number);
    const denominator = norm(first, 0, this.dimension) * norm(second, 0, this.dimension);
    return denominator > 0 ? dot / denominator : 0;
  }

  dispose(): void {
    this.unit?.dispose();
    this.unit = undefined;
  }

  /**
   * Returns the unit-length vocabulary, transposed to [dimension, size]: the WebAssembly backend's
   * matMul with a transposed second operand measured 3 to 5 times slower than with a stored one.
   */
  private unitMatrix(): tf.Tensor2D {
    if (!this.unit || this.unit.isDisposed) {
      const rows = unitCopy(this.vectors, this.size, this.dimension);
      this.unit = tf.keep(tf.tidy(() => tf.transpose(tf.tensor2d(rows, [this.size, this.dimension]))));
    }
    return this.unit;
  }
}

function norm(values: Float32Array, offset: number, length: number): number {
  let sum = 0;
  for (let i = offset; i < offset + length; i++) sum += (values[i] as number) ** 2;
  return Math.sqrt(sum);
}

/** Copies `rows` vectors scaled to unit length; zero vectors stay zero. */
export function unitCopy(values: Float32Array, rows: number, dimension: number): Float32Array {
  const out = new Float32Array(rows * dimension);
  for (let row = 0; row < rows; row++) {
    const length = norm(values, row * dimension, dimension);
    if (length <= 0) continue;
    for (let i = 0; i < dimension; i++) {
      out[row * dimension + i] = (values[row * dimension + i] as number) / length;
    }
  }
  return out;
}

/**
 * Binary layout of saved vector strategies: a little-endian uint32 with the JSON header's byte
 * length, the UTF-8 JSON header (strategy settings and the word list), then the float32 vectors.
 */
export function packVectors(header: Record<string, unknown>, table: VectorTable): Buffer {
  const json = Buffer.from(
    JSON.stringify({ ...header, dimension: table.dimension, words: table.words }),
    'utf8',
  );
  const size = Buffer.alloc(4);
  size.writeUInt32LE(json.length, 0);
  const vectors = Buffer.from(table.vectors.buffer, table.vectors.byteOffset, table.vectors.byteLength);
  return Buffer.concat([size, json, vectors]);
}

export function unpackVectors<Header extends Record<string, unknown>>(
  buffer: Buffer,
  expectedName: string,
): { header: Header; table: VectorTable } {
  if (buffer.length < 4)
    throw new Error(`Saved ${expectedName} embedding is truncated (${buffer.length} bytes)`);
  const headerLength = buffer.readUInt32LE(0);
  if (4 + headerLength > buffer.length) {
    throw new Error(
      `Saved ${expectedName} embedding is truncated: header of ${headerLength} bytes does not fit`,
    );
  }
  const header = JSON.parse(buffer.subarray(4, 4 + headerLength).toString('utf8')) as Header & {
    name?: unknown;
    dimension?: unknown;
    words?: unknown;
  };
  if (header.name !== expectedName || typeof header.dimension !== 'number' || !Array.isArray(header.words)) {
    throw new Error(`Not a saved ${expectedName} embedding (name "${String(header.name)}")`);
  }
  const body = buffer.subarray(4 + headerLength);
  // Copy into a fresh, aligned buffer: the slice may start at any byte offset.
  const vectors = new Float32Array(body.length / 4);
  new Uint8Array(vectors.buffer).set(body);
  return { header, table: new VectorTable(header.words as string[], vectors, header.dimension) };
}
