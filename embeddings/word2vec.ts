import { z } from 'zod';
import { FuzzyMatcher } from './fuzzy';
import { word2vecOptionsSchema, type Word2vecOptions } from './word2vec-options';
import type { EmbeddingFactory, EmbeddingStrategy } from './strategy';
import { packVectors, unitCopy, unpackVectors, VectorTable } from './vector-table';
import { readCorpus } from './word2vec-corpus';
import { trainWord2vec } from './word2vec-train';

export { word2vecOptionsSchema, type Word2vecOptions };

/** Time after which `encode` yields to the event loop, in milliseconds. */
const ENCODE_YIELD_INTERVAL_MS = 50;

/** JSON header of a saved word2vec embedding. `packVectors` adds `dimension` and `words` to it. */
interface SavedWord2vecHeader extends Record<string, unknown> {
  name: 'word2vec';
  options: Word2vecOptions;
  /** Training frequency of each word, in table order: the fuzzy matcher's tie-break. */
  counts?: number[];
}

export class Word2vecEmbedding implements EmbeddingStrategy {
  readonly name = 'word2vec';
  readonly dimension: number;
  /** The table's vectors scaled to unit length, as `encode` writes them. */
  private readonly unitVectors: Float32Array;
  private readonly matcher: FuzzyMatcher;

  /** `counts[i]` is the training frequency of `table.words[i]`, used to break fuzzy-match ties. */
  constructor(
    readonly table: VectorTable,
    readonly options: Word2vecOptions,
    readonly counts?: readonly number[],
  ) {
    if (counts !== undefined && counts.length !== table.size) {
      throw new Error(
        `word2vec embedding needs one count per word, got ${counts.length} counts for ${table.size} words`,
      );
    }
    this.dimension = table.dimension;
    this.unitVectors = unitCopy(table.vectors, table.size, table.dimension);
    this.matcher = new FuzzyMatcher(table.words, counts);
  }

  get vocabularySize(): number {
    return this.table.size;
  }

  /**
   * Returns the vocabulary word whose vector encodes `word`. That is the lowercased word itself when it
   * is in the vocabulary, otherwise the closest word by edit distance, or undefined for an empty
   * vocabulary.
   */
  closestKnown(word: string): string | undefined {
    return this.matcher.closest(word.toLowerCase());
  }

  /**
   * Encodes texts as described on `EmbeddingStrategy.encode`. Each distinct out-of-vocabulary word
   * costs one fuzzy search, about a millisecond with a 40k-word vocabulary on a 2-core machine, so
   * the method yields to the event loop every 50 ms.
   */
  async encode(texts: ReadonlyArray<readonly string[]>, seqLen: number): Promise<Float32Array> {
    if (!Number.isInteger(seqLen) || seqLen < 0) {
      throw new RangeError(`seqLen must be a non-negative integer, got ${seqLen}`);
    }
    const dimension = this.dimension;
    const values = new Float32Array(texts.length * seqLen * dimension);
    let lastYield = Date.now();
    for (let text = 0; text < texts.length; text++) {
      const tokens = texts[text] as readonly string[];
      const length = Math.min(tokens.length, seqLen);
      for (let position = 0; position < length; position++) {
        const known = this.closestKnown(tokens[position] as string);
        const row = known === undefined ? undefined : this.table.rowOf(known);
        if (row === undefined) continue;
        const vector = this.unitVectors.subarray(row * dimension, (row + 1) * dimension);
        values.set(vector, (text * seqLen + position) * dimension);
      }
      if (Date.now() - lastYield >= ENCODE_YIELD_INTERVAL_MS) {
        await new Promise((resolve) => setImmediate(resolve));
        lastYield = Date.now();
      }
    }
    return values;
  }

  decodeBatch(values: Float32Array, count: number, seqLen: number): Array<Array<string | null>> {
    return this.table.decode(values, count, seqLen);
  }

  /** Returns the `k` vocabulary words most similar to the lowercased `word` by cosine, best first. */
  neighbours(word: string, k: number): Array<{ word: string; similarity: number }> {
    return this.table.neighbours(word.toLowerCase(), k);
  }

  /** Returns the cosine similarity of two lowercased words, or NaN when either is not in the vocabulary. */
  similarity(a: string, b: string): number {
    return this.table.similarity(a.toLowerCase(), b.toLowerCase());
  }

  save(): Buffer {
    const header: SavedWord2vecHeader = { name: 'word2vec', options: this.options };
    if (this.counts !== undefined) header.counts = [...this.counts];
    return packVectors(header, this.table);
  }

  dispose(): void {
    this.table.dispose();
  }
}

export const word2vecEmbedding: EmbeddingFactory<Word2vecOptions> = {
  name: 'word2vec',
  async fit(trainTexts, options, context) {
    const settings = word2vecOptionsSchema.parse(options);
    const onProgress = context?.onProgress;
    const corpus = await readCorpus(trainTexts, settings.minCount, onProgress);
    const vectors = await trainWord2vec(corpus, settings, onProgress);
    const table = new VectorTable(corpus.words, vectors, settings.vectorSize);
    return new Word2vecEmbedding(table, settings, Array.from(corpus.counts));
  },
  async load(buffer) {
    return loadWord2vec(buffer);
  },
};

/**
 * Returns the `name` of a strategy saved as one JSON document (as the scalar strategy saves), or
 * undefined when the buffer is not such a document.
 */
function jsonStrategyName(buffer: Buffer): string | undefined {
  if (buffer.length === 0 || buffer[0] !== '{'.charCodeAt(0)) return undefined;
  try {
    const parsed = JSON.parse(buffer.toString('utf8')) as { name?: unknown };
    return typeof parsed.name === 'string' ? parsed.name : '(no name)';
  } catch {
    return undefined;
  }
}

function loadWord2vec(buffer: Buffer): Word2vecEmbedding {
  const otherName = jsonStrategyName(buffer);
  if (otherName !== undefined) {
    throw new Error(
      `Not a saved word2vec embedding: the buffer is a saved "${otherName}" embedding. ` +
        'Load it with the factory of that strategy.',
    );
  }
  const { header, table } = unpackVectors<SavedWord2vecHeader>(buffer, 'word2vec');
  const parsed = word2vecOptionsSchema.safeParse(header.options);
  if (!parsed.success) {
    throw new Error(`Saved word2vec embedding has invalid options: ${z.prettifyError(parsed.error)}`);
  }
  if (parsed.data.vectorSize !== table.dimension) {
    throw new Error(
      `Saved word2vec embedding is inconsistent: vectorSize ${parsed.data.vectorSize}, ` +
        `but the vectors have ${table.dimension} values each`,
    );
  }
  const counts = header.counts;
  if (counts !== undefined && (!Array.isArray(counts) || counts.length !== table.size)) {
    throw new Error(
      `Saved word2vec embedding is inconsistent: counts must list one number per word (${table.size} words)`,
    );
  }
  return new Word2vecEmbedding(table, parsed.data, counts);
}
