import { bertOptionsSchema, type BertOptions } from './bert-options';
import { describeModelLocation, loadBertModel, type BertModel } from './bert/model';
import type { EmbeddingContext, EmbeddingFactory, EmbeddingStrategy } from './strategy';
import { packVectors, unpackVectors, VectorTable } from './vector-table';

export { bertOptionsSchema, type BertOptions };
export { DEFAULT_BERT_MODEL } from './bert-options';

/** Upper bound on one layer's attention scores ([batch, heads, length, length] float32) in bytes. */
const ATTENTION_SCORE_BYTES = 64 * 1024 * 1024;
/**
 * Max padding tokens per batch, as a share of its real tokens. The time per token of one forward
 * pass barely depended on the batch size on the WASM backend (sequences of 32 to 128 pieces, 1 to
 * 32 texts, all-MiniLM-L6-v2), so splitting a batch costs less than padding it.
 */
const MAX_PADDING_SHARE = 0.1;
/** Minimum time between two progress messages during fit. */
const PROGRESS_INTERVAL_MS = 1000;
/** Estimated bytes per cache entry besides its vectors and key: Map slot and object headers. */
const CACHE_ENTRY_OVERHEAD = 96;

/** Model sizes stored with a fitted strategy, checked when the model is read again. */
interface ModelSummary {
  hiddenSize: number;
  numLayers: number;
  vocabSize: number;
}

interface SavedBertHeader extends Record<string, unknown> {
  name: 'bert';
  options: BertOptions;
  model: ModelSummary;
}

/** A text's input ids ([CLS] pieces [SEP]) and the range of each word's pieces within them. */
interface TextPieces {
  ids: number[];
  wordRanges: Array<[number, number]>;
}

/**
 * Runs the model over word sequences and returns one unit-length vector per word. The model is
 * read on first use, so a loaded strategy that only decodes never reads it.
 */
class BertTextEncoder {
  private model: Promise<BertModel> | undefined;
  private disposed = false;

  constructor(
    readonly options: BertOptions,
    private readonly context: EmbeddingContext | undefined,
    private readonly expected?: ModelSummary,
  ) {}

  /** Uses an already loaded model instead of reading the model location. */
  static withModel(options: BertOptions, model: BertModel): BertTextEncoder {
    const encoder = new BertTextEncoder(options, undefined);
    encoder.model = Promise.resolve(model);
    return encoder;
  }

  loadModel(): Promise<BertModel> {
    if (this.disposed) return Promise.reject(new Error('BERT embedding used after dispose()'));
    if (!this.model) {
      const loading = loadBertModel(this.options.model, this.context).then((model) => this.checkModel(model));
      // A failed read is not kept, so a later call retries it, for example after the model is installed.
      loading.catch(() => {
        if (this.model === loading) this.model = undefined;
      });
      this.model = loading;
    }
    return this.model;
  }

  /**
   * Encodes each text into [words kept, hidden] unit vectors and passes them to `onText` with the
   * text's index. Texts run sorted by length, so each batch has little padding. `onBatch` gets
   * the number of texts done after each batch, and the event loop gets a turn between batches.
   */
  async encodeTexts(
    texts: ReadonlyArray<readonly string[]>,
    onText: (index: number, vectors: Float32Array) => void,
    onBatch?: (done: number) => void,
  ): Promise<void> {
    const model = await this.loadModel();
    const hidden = model.config.hiddenSize;
    const pieces = texts.map((words) => this.piecesOf(words, model));
    const order: Array<{ index: number; length: number }> = [];
    pieces.forEach((text, index) => {
      if (text.wordRanges.length === 0) {
        // A text without words needs no forward pass.
        onText(index, new Float32Array(0));
      } else {
        order.push({ index, length: text.ids.length });
      }
    });
    order.sort((a, b) => a.length - b.length);

    let done = texts.length - order.length;
    let start = 0;
    while (start < order.length) {
      const end = this.batchEnd(order, start, model.config.numHeads);
      const batch = order.slice(start, end).map((entry) => entry.index);
      const { values, length } = model.sumLastHiddenStates(
        batch.map((index) => (pieces[index] as TextPieces).ids),
        this.options.layers,
      );
      batch.forEach((index, row) => {
        const vectors = wordVectors(
          values,
          row * length * hidden,
          (pieces[index] as TextPieces).wordRanges,
          hidden,
        );
        onText(index, vectors);
      });
      done += batch.length;
      start = end;
      onBatch?.(done);
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  dispose(): void {
    this.disposed = true;
    void this.model?.then(
      (model) => model.dispose(),
      () => undefined,
    );
    this.model = undefined;
  }

  /**
   * Tokenizes a text and cuts it to the piece budget. A word is kept only when all its pieces fit,
   * and the input contains only the pieces of kept words.
   */
  private piecesOf(words: readonly string[], model: BertModel): TextPieces {
    const budget = Math.min(this.options.maxWordPieces, model.config.maxPositions) - 2;
    // Every word has at least one piece, so words past the budget cannot fit.
    const { ids, wordRanges } = model.tokenizer.tokenizeWords(words.slice(0, Math.max(0, budget)));
    let kept = 0;
    while (kept < wordRanges.length && (wordRanges[kept] as [number, number])[1] <= budget) kept += 1;
    const pieceCount = kept > 0 ? (wordRanges[kept - 1] as [number, number])[1] : 0;
    return {
      ids: [model.tokenizer.classifierId, ...ids.slice(0, pieceCount), model.tokenizer.separatorId],
      wordRanges: wordRanges.slice(0, kept).map(([first, last]) => [first + 1, last + 1]),
    };
  }

  /**
   * Returns the end of the batch that starts at `start`: at most batchSize texts, within the
   * attention score budget, and with padding of at most MAX_PADDING_SHARE of its real tokens.
   */
  private batchEnd(order: ReadonlyArray<{ length: number }>, start: number, heads: number): number {
    let end = start + 1;
    let tokens = (order[start] as { length: number }).length;
    while (end < order.length && end - start < this.options.batchSize) {
      // Texts are sorted by length, so the text at `end` sets the padded length of the batch.
      const length = (order[end] as { length: number }).length;
      const count = end - start + 1;
      if (count * heads * length * length * 4 > ATTENTION_SCORE_BYTES) break;
      if (count * length > (1 + MAX_PADDING_SHARE) * (tokens + length)) break;
      tokens += length;
      end += 1;
    }
    return end;
  }

  private checkModel(model: BertModel): BertModel {
    const expected = this.expected;
    if (!expected) return model;
    const { hiddenSize, numLayers, vocabSize } = model.config;
    if (
      hiddenSize !== expected.hiddenSize ||
      numLayers !== expected.numLayers ||
      vocabSize !== expected.vocabSize
    ) {
      model.dispose();
      throw new Error(
        `BERT model at ${describeModelLocation(this.options.model)} has hidden size ${hiddenSize}, ` +
          `${numLayers} layers and ${vocabSize} tokens, but the embedding was fitted with hidden size ` +
          `${expected.hiddenSize}, ${expected.numLayers} layers and ${expected.vocabSize} tokens. ` +
          'Point the model option at the model used for fitting, or fit the embedding again.',
      );
    }
    return model;
  }
}

/** Sums the piece vectors of each word range and scales the sum to unit length (the mean's direction). */
function wordVectors(
  values: Float32Array,
  offset: number,
  ranges: ReadonlyArray<[number, number]>,
  hidden: number,
): Float32Array {
  const vectors = new Float32Array(ranges.length * hidden);
  ranges.forEach(([first, last], word) => {
    const target = vectors.subarray(word * hidden, (word + 1) * hidden);
    for (let position = first; position < last; position++) {
      const source = offset + position * hidden;
      for (let i = 0; i < hidden; i++) target[i] = (target[i] as number) + (values[source + i] as number);
    }
    normalize(target);
  });
  return vectors;
}

function normalize(vector: Float32Array): void {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const length = Math.sqrt(sum);
  if (length > 0) for (let i = 0; i < vector.length; i++) vector[i] = (vector[i] as number) / length;
}

/**
 * Word vectors of texts encoded during fit, keyed by their tokens, within a memory budget.
 * Entries are never evicted, so once the budget is spent, further texts are not stored.
 */
class EncodingCache {
  private readonly entries = new Map<string, Float32Array>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(tokens: readonly string[]): Float32Array | undefined {
    return this.entries.get(cacheKey(tokens));
  }

  add(tokens: readonly string[], vectors: Float32Array): void {
    const key = cacheKey(tokens);
    const bytes = vectors.byteLength + key.length * 2 + CACHE_ENTRY_OVERHEAD;
    if (this.entries.has(key) || this.bytes + bytes > this.maxBytes) return;
    this.entries.set(key, vectors);
    this.bytes += bytes;
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }
}

/** Cache key of a token sequence. JSON keeps apart sequences that join to the same string. */
function cacheKey(tokens: readonly string[]): string {
  return JSON.stringify(tokens);
}

/** A fitted bert strategy. bertOptionsSchema describes how it turns words into vectors. */
export class BertEmbedding implements EmbeddingStrategy {
  readonly name = 'bert';

  constructor(
    /** Decoding vocabulary: the train words and their vectors. */
    readonly table: VectorTable,
    private readonly encoder: BertTextEncoder,
    private readonly model: ModelSummary,
    private readonly cache = new EncodingCache(0),
  ) {}

  get options(): BertOptions {
    return this.encoder.options;
  }

  get dimension(): number {
    return this.table.dimension;
  }

  get vocabularySize(): number {
    return this.table.size;
  }

  /** Number of texts whose fit-time encodings are cached. */
  get cachedTexts(): number {
    return this.cache.size;
  }

  /** Returns the decoding vector of a lowercased train word, or undefined when fit did not see the word. */
  vectorOf(word: string): Float32Array | undefined {
    return this.table.vectorOf(word);
  }

  /** Returns the `k` train words whose vectors are most similar to `word`'s, best first. */
  neighbours(word: string, k: number): Array<{ word: string; similarity: number }> {
    return this.table.neighbours(word, k);
  }

  async encode(texts: ReadonlyArray<readonly string[]>, seqLen: number): Promise<Float32Array> {
    const dimension = this.dimension;
    const values = new Float32Array(texts.length * seqLen * dimension);
    const place = (index: number, vectors: Float32Array): void => {
      const words = Math.min(seqLen, vectors.length / dimension);
      values.set(vectors.subarray(0, words * dimension), index * seqLen * dimension);
    };

    const missing: number[] = [];
    texts.forEach((tokens, index) => {
      const cached = this.cache.get(tokens);
      if (cached) {
        place(index, cached);
      } else {
        missing.push(index);
      }
    });
    if (missing.length > 0) {
      await this.encoder.encodeTexts(
        missing.map((index) => texts[index] as readonly string[]),
        (position, vectors) => place(missing[position] as number, vectors),
      );
    }
    return values;
  }

  decodeBatch(values: Float32Array, count: number, seqLen: number): Array<Array<string | null>> {
    return this.table.decode(values, count, seqLen);
  }

  /** Serializes the vocabulary vectors, the options and the model location, but not the model itself. */
  save(): Buffer {
    const header: SavedBertHeader = { name: 'bert', options: this.options, model: this.model };
    return packVectors(header, this.table);
  }

  dispose(): void {
    this.encoder.dispose();
    this.table.dispose();
    this.cache.clear();
  }
}

/** Sums of a growing vocabulary's word vectors, one row per word in first-seen order. */
class VocabularySums {
  readonly words: string[] = [];
  private readonly rows = new Map<string, number>();
  private sums: Float32Array;

  constructor(private readonly dimension: number) {
    this.sums = new Float32Array(1024 * dimension);
  }

  add(word: string, vector: Float32Array): void {
    let row = this.rows.get(word);
    if (row === undefined) {
      row = this.words.length;
      this.rows.set(word, row);
      this.words.push(word);
      if ((row + 1) * this.dimension > this.sums.length) {
        const grown = new Float32Array(this.sums.length * 2);
        grown.set(this.sums);
        this.sums = grown;
      }
    }
    const target = this.sums.subarray(row * this.dimension, (row + 1) * this.dimension);
    for (let i = 0; i < this.dimension; i++) target[i] = (target[i] as number) + (vector[i] as number);
  }

  /** Builds the table of unit-length means, which have the direction of the sums. */
  toTable(): VectorTable {
    const vectors = this.sums.slice(0, this.words.length * this.dimension);
    for (let row = 0; row < this.words.length; row++) {
      normalize(vectors.subarray(row * this.dimension, (row + 1) * this.dimension));
    }
    return new VectorTable(this.words, vectors, this.dimension);
  }
}

async function fitBert(
  trainTexts: AsyncIterable<readonly string[]>,
  options: BertOptions,
  context: EmbeddingContext | undefined,
): Promise<BertEmbedding> {
  const texts: Array<readonly string[]> = [];
  for await (const tokens of trainTexts) texts.push(tokens);

  context?.onProgress?.(`bert: reading the model at ${describeModelLocation(options.model)}`);
  const model = await loadBertModel(options.model, context);
  const encoder = BertTextEncoder.withModel(options, model);
  const dimension = model.config.hiddenSize;
  const sums = new VocabularySums(dimension);
  // Texts reach the cache shortest first, the order they are encoded in, so a full cache contains
  // as many texts as the budget allows.
  const cache = new EncodingCache(options.cacheMegabytes * 1024 * 1024);

  let lastReport = Date.now();
  const total = texts.length.toLocaleString('en-US');
  try {
    await encoder.encodeTexts(
      texts,
      (index, vectors) => {
        const tokens = texts[index] as readonly string[];
        for (let word = 0; word < vectors.length / dimension; word++) {
          sums.add(
            (tokens[word] as string).toLowerCase(),
            vectors.subarray(word * dimension, (word + 1) * dimension),
          );
        }
        cache.add(tokens, vectors);
      },
      (done) => {
        if (Date.now() - lastReport < PROGRESS_INTERVAL_MS) return;
        lastReport = Date.now();
        context?.onProgress?.(`bert: ${done.toLocaleString('en-US')} of ${total} train texts`);
      },
    );
  } catch (error) {
    encoder.dispose();
    throw error;
  }

  const { hiddenSize, numLayers, vocabSize } = model.config;
  return new BertEmbedding(sums.toTable(), encoder, { hiddenSize, numLayers, vocabSize }, cache);
}

export const bertEmbedding: EmbeddingFactory<BertOptions> = {
  name: 'bert',
  fit(trainTexts, options, context) {
    return fitBert(trainTexts, bertOptionsSchema.parse(options), context);
  },
  load(buffer, context) {
    const { header, table } = unpackVectors<SavedBertHeader>(buffer, 'bert');
    const options = bertOptionsSchema.parse(header.options);
    const encoder = new BertTextEncoder(options, context, header.model);
    return Promise.resolve(new BertEmbedding(table, encoder, header.model));
  },
};
