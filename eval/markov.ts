/**
 * Baseline first-order Markov chain over words, fitted on tokenized training texts.
 *
 * Words are keyed by `String.prototype.toLowerCase` (locale-independent), and each key is written out in
 * its most frequent surface form. Bigrams are counted only between neighbouring tokens of the same text,
 * with no sentence-boundary symbols. Sampling works as in the Markov baseline of text-GAN comparisons:
 * - the sentence length is drawn from the empirical distribution of training text lengths;
 * - the first word is drawn uniformly from the vocabulary, ignoring word frequencies;
 * - each next word is drawn with probability c(current, next) / Σ_w c(current, w).
 * A word that has no successors (it only ever ended a text) is followed by a word drawn uniformly from the
 * vocabulary, like a first word, so every generated text keeps its drawn length.
 */
import type { Random } from '../lib/random';
import { BigramCounter, entryCount, searchCumulative, type BigramTable } from './bigram-table';

/** Size counts of a fitted chain. */
export interface MarkovChainStats {
  /** Distinct lowercased words. */
  readonly vocabularySize: number;
  /** Distinct (word, next word) pairs, which is also the number of stored transitions. */
  readonly distinctBigrams: number;
  /** Bigram occurrences counted during fitting, Σ over texts of (length − 1). */
  readonly totalBigrams: number;
  /** Non-empty texts fitted; empty texts are skipped and do not enter the length distribution. */
  readonly textCount: number;
}

/** A successor of a word with its bigram count, as returned by `MarkovChain.successors`. */
export interface MarkovSuccessor {
  readonly word: string;
  readonly count: number;
}

/** Collects counts from texts fed one at a time or in batches, then builds an immutable `MarkovChain`. */
export class MarkovChainBuilder {
  private readonly idsByKey = new Map<string, number>();
  /** Occurrences of each exact surface form; Map iteration order is first-seen order, used to break ties. */
  private readonly surfaceCounts = new Map<string, number>();
  private readonly bigrams = new BigramCounter();
  private readonly lengthCounts = new Map<number, number>();

  add(tokens: readonly string[]): this {
    if (tokens.length === 0) return this;
    let previous = -1;
    for (const token of tokens) {
      const key = token.toLowerCase();
      let id = this.idsByKey.get(key);
      if (id === undefined) {
        id = this.idsByKey.size;
        this.idsByKey.set(key, id);
      }
      this.surfaceCounts.set(token, (this.surfaceCounts.get(token) ?? 0) + 1);
      if (previous >= 0) this.bigrams.add(previous, id);
      previous = id;
    }
    this.lengthCounts.set(tokens.length, (this.lengthCounts.get(tokens.length) ?? 0) + 1);
    return this;
  }

  addAll(texts: Iterable<readonly string[]>): this {
    for (const tokens of texts) this.add(tokens);
    return this;
  }

  build(): MarkovChain {
    const vocabularySize = this.idsByKey.size;
    const words: string[] = new Array<string>(vocabularySize).fill('');
    const bestCounts = new Float64Array(vocabularySize);
    for (const [surface, count] of this.surfaceCounts) {
      const id = this.idsByKey.get(surface.toLowerCase());
      if (id === undefined)
        throw new Error(`Internal error: surface form ${JSON.stringify(surface)} has no id`);
      // Strictly greater, so among equally frequent forms the first one seen wins.
      if (count > (bestCounts[id] ?? 0)) {
        bestCounts[id] = count;
        words[id] = surface;
      }
    }

    const lengths = Uint32Array.from([...this.lengthCounts.keys()].sort((a, b) => a - b));
    const lengthCounts = Uint32Array.from(lengths, (length) => this.lengthCounts.get(length) ?? 0);
    return MarkovChain.fromParts(words, this.bigrams.toTable(vocabularySize), lengths, lengthCounts);
  }
}

const MAGIC = 0x434d4754; // 'TGMC' read as a little-endian uint32
const FORMAT_VERSION = 1;
const HEADER_BYTES = 20;
const MAX_UINT32 = 0xffffffff;

/**
 * Fitted chain: the transition counts in compressed sparse row typed arrays and the text length
 * distribution. Instances never change, and generation takes the `Random` as an argument.
 */
export class MarkovChain {
  private readonly idsByKey: Map<string, number>;
  private readonly lengthCumulative: Float64Array;

  private constructor(
    /** Surface form of each word id. */
    private readonly words: readonly string[],
    private readonly table: BigramTable,
    /** Distinct training text lengths, ascending. */
    private readonly lengths: Uint32Array,
    /** Number of training texts of each entry of `lengths`. */
    private readonly lengthCounts: Uint32Array,
  ) {
    this.idsByKey = new Map(words.map((word, id) => [word.toLowerCase(), id]));
    this.lengthCumulative = new Float64Array(lengthCounts.length);
    let runningTotal = 0;
    lengthCounts.forEach((count, index) => {
      runningTotal += count;
      this.lengthCumulative[index] = runningTotal;
    });
  }

  /** Fits a chain on `texts`, each an array of word tokens. */
  static fit(texts: Iterable<readonly string[]>): MarkovChain {
    return new MarkovChainBuilder().addAll(texts).build();
  }

  /**
   * Assembles a chain from parts without validating them; `MarkovChainBuilder` and `deserialize` call it
   * with consistent parts, and other callers should use `fit` or `deserialize`.
   */
  static fromParts(
    words: readonly string[],
    table: BigramTable,
    lengths: Uint32Array,
    lengthCounts: Uint32Array,
  ): MarkovChain {
    return new MarkovChain(words, table, lengths, lengthCounts);
  }

  get stats(): MarkovChainStats {
    const textCount = this.lengthCumulative[this.lengthCumulative.length - 1] ?? 0;
    let totalBigrams = 0;
    for (let source = 0; source < this.words.length; source++) {
      const end = this.table.offsets[source + 1] ?? 0;
      if (end > (this.table.offsets[source] ?? 0)) totalBigrams += this.table.cumulative[end - 1] ?? 0;
    }
    return {
      vocabularySize: this.words.length,
      distinctBigrams: this.table.targets.length,
      totalBigrams,
      textCount,
    };
  }

  /** Returns the surface form that generated text uses for `word` (matched case-insensitively). */
  surfaceForm(word: string): string | undefined {
    const id = this.idsByKey.get(word.toLowerCase());
    return id === undefined ? undefined : this.words[id];
  }

  /** Lists the successors of `word` (matched case-insensitively) with their bigram counts, by word id. */
  successors(word: string): MarkovSuccessor[] {
    const id = this.idsByKey.get(word.toLowerCase());
    if (id === undefined) return [];
    const start = this.table.offsets[id] ?? 0;
    const end = this.table.offsets[id + 1] ?? 0;
    const result: MarkovSuccessor[] = [];
    for (let index = start; index < end; index++) {
      result.push({
        word: this.words[this.table.targets[index] ?? 0] ?? '',
        count: entryCount(this.table, start, index),
      });
    }
    return result;
  }

  /** Returns the training text length distribution as (length, number of texts) pairs, ascending. */
  lengthDistribution(): [length: number, count: number][] {
    return Array.from(this.lengths, (length, index) => [length, this.lengthCounts[index] ?? 0]);
  }

  /** Generates `count` texts; the same generator state gives the same texts. */
  generate(count: number, random: Random): string[][] {
    if (!Number.isInteger(count) || count < 0) {
      throw new RangeError(`generate needs a non-negative integer count, got ${count}`);
    }
    const texts: string[][] = [];
    for (let index = 0; index < count; index++) texts.push(this.generateText(random));
    return texts;
  }

  /** Generates one text: a drawn length, a uniform first word, then bigram-weighted next words. */
  generateText(random: Random): string[] {
    const vocabularySize = this.words.length;
    if (vocabularySize === 0) throw new Error('Cannot generate from a Markov chain fitted on no words');

    const length = this.drawLength(random);
    let current = random.nextInt(vocabularySize);
    const text = [this.words[current] ?? ''];
    while (text.length < length) {
      const start = this.table.offsets[current] ?? 0;
      const end = this.table.offsets[current + 1] ?? 0;
      if (end === start) {
        current = random.nextInt(vocabularySize);
      } else {
        const rowTotal = this.table.cumulative[end - 1] ?? 0;
        const index = searchCumulative(this.table.cumulative, start, end, random.next() * rowTotal);
        current = this.table.targets[index] ?? 0;
      }
      text.push(this.words[current] ?? '');
    }
    return text;
  }

  private drawLength(random: Random): number {
    const end = this.lengthCumulative.length;
    const total = this.lengthCumulative[end - 1] ?? 0;
    const index = searchCumulative(this.lengthCumulative, 0, end, random.next() * total);
    return this.lengths[index] ?? 0;
  }

  /**
   * Encodes the chain as little-endian binary. A header of five uint32 values (magic 'TGMC', format version,
   * vocabulary size, distinct bigrams, distinct lengths) comes first. Then follow uint32 arrays of successors
   * per word, successor ids, bigram counts, text lengths and texts per length. Last, each word is stored as
   * a uint32 UTF-8 byte length followed by its bytes. The size is 20 + 8·V + 8·E + 8·L bytes plus the UTF-8 bytes of the words, for V
   * words, E distinct bigrams and L distinct text lengths.
   */
  serialize(): Buffer {
    const vocabularySize = this.words.length;
    const edgeCount = this.table.targets.length;
    const lengthCount = this.lengths.length;
    const encodedWords = this.words.map((word) => Buffer.from(word, 'utf8'));
    const wordBytes = encodedWords.reduce((sum, bytes) => sum + 4 + bytes.length, 0);
    const size = HEADER_BYTES + 4 * vocabularySize + 8 * edgeCount + 8 * lengthCount + wordBytes;

    const buffer = Buffer.alloc(size);
    let position = 0;
    const writeUint32 = (value: number): void => {
      if (!Number.isInteger(value) || value < 0 || value > MAX_UINT32) {
        throw new RangeError(`Cannot serialize ${value}: counts must be integers in [0, 2^32 − 1]`);
      }
      buffer.writeUInt32LE(value, position);
      position += 4;
    };

    for (const value of [MAGIC, FORMAT_VERSION, vocabularySize, edgeCount, lengthCount]) writeUint32(value);
    for (let source = 0; source < vocabularySize; source++) {
      writeUint32((this.table.offsets[source + 1] ?? 0) - (this.table.offsets[source] ?? 0));
    }
    for (const target of this.table.targets) writeUint32(target);
    for (let source = 0; source < vocabularySize; source++) {
      const start = this.table.offsets[source] ?? 0;
      const end = this.table.offsets[source + 1] ?? 0;
      for (let index = start; index < end; index++) writeUint32(entryCount(this.table, start, index));
    }
    for (const length of this.lengths) writeUint32(length);
    for (const count of this.lengthCounts) writeUint32(count);
    for (const bytes of encodedWords) {
      writeUint32(bytes.length);
      bytes.copy(buffer, position);
      position += bytes.length;
    }
    return buffer;
  }

  /** Decodes the output of `serialize`, rejecting truncated, corrupted or inconsistent input. */
  static deserialize(bytes: Uint8Array): MarkovChain {
    return decodeChain(bytes);
  }
}

function decodeChain(bytes: Uint8Array): MarkovChain {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let position = 0;
  const readUint32 = (field: string): number => {
    if (position + 4 > view.byteLength) {
      throw new Error(`Invalid Markov chain data: truncated while reading ${field} at byte ${position}`);
    }
    const value = view.getUint32(position, true);
    position += 4;
    return value;
  };

  if (readUint32('magic') !== MAGIC) throw new Error('Invalid Markov chain data: wrong magic number');
  const version = readUint32('version');
  if (version !== FORMAT_VERSION) {
    throw new Error(`Unsupported Markov chain format version ${version}; this code reads ${FORMAT_VERSION}`);
  }
  const vocabularySize = readUint32('vocabulary size');
  const edgeCount = readUint32('bigram count');
  const lengthCount = readUint32('length count');
  const minimumSize = HEADER_BYTES + 8 * vocabularySize + 8 * edgeCount + 8 * lengthCount;
  if (view.byteLength < minimumSize) {
    throw new Error(`Invalid Markov chain data: ${view.byteLength} bytes, expected at least ${minimumSize}`);
  }

  const offsets = new Uint32Array(vocabularySize + 1);
  for (let source = 0; source < vocabularySize; source++) {
    offsets[source + 1] = (offsets[source] ?? 0) + readUint32('successor count');
  }
  if (offsets[vocabularySize] !== edgeCount) {
    throw new Error(
      `Invalid Markov chain data: successor counts sum to ${offsets[vocabularySize]}, not ${edgeCount}`,
    );
  }

  const targets = new Uint32Array(edgeCount);
  for (let index = 0; index < edgeCount; index++) targets[index] = readUint32('successor id');
  const cumulative = new Float64Array(edgeCount);
  for (let source = 0; source < vocabularySize; source++) {
    const start = offsets[source] ?? 0;
    const end = offsets[source + 1] ?? 0;
    let runningTotal = 0;
    for (let index = start; index < end; index++) {
      const target = targets[index] ?? 0;
      if (target >= vocabularySize)
        throw new Error(`Invalid Markov chain data: successor id ${target} out of range`);
      if (index > start && target <= (targets[index - 1] ?? 0)) {
        throw new Error(`Invalid Markov chain data: successors of word ${source} are not strictly ascending`);
      }
      const count = readUint32('bigram count');
      if (count === 0) throw new Error(`Invalid Markov chain data: zero bigram count for word ${source}`);
      runningTotal += count;
      cumulative[index] = runningTotal;
    }
  }

  const lengths = new Uint32Array(lengthCount);
  for (let index = 0; index < lengthCount; index++) {
    lengths[index] = readUint32('text length');
    if (lengths[index] === 0 || (index > 0 && (lengths[index] ?? 0) <= (lengths[index - 1] ?? 0))) {
      throw new Error('Invalid Markov chain data: text lengths must be positive and strictly ascending');
    }
  }
  const lengthCounts = new Uint32Array(lengthCount);
  for (let index = 0; index < lengthCount; index++) {
    lengthCounts[index] = readUint32('texts per length');
    if (lengthCounts[index] === 0) throw new Error('Invalid Markov chain data: zero texts for a length');
  }
  if (vocabularySize > 0 && lengthCount === 0) {
    throw new Error('Invalid Markov chain data: words without a text length distribution');
  }

  const decoder = new TextDecoder('utf-8', { fatal: true });
  const words: string[] = [];
  for (let id = 0; id < vocabularySize; id++) {
    const byteLength = readUint32('word byte length');
    if (position + byteLength > view.byteLength) {
      throw new Error(`Invalid Markov chain data: word ${id} runs past the end of the data`);
    }
    words.push(decoder.decode(bytes.subarray(position, position + byteLength)));
    position += byteLength;
  }
  if (position !== view.byteLength) {
    throw new Error(`Invalid Markov chain data: ${view.byteLength - position} unexpected trailing bytes`);
  }
  if (new Set(words.map((word) => word.toLowerCase())).size !== words.length) {
    throw new Error('Invalid Markov chain data: two words share the same lowercased key');
  }
  return MarkovChain.fromParts(words, { offsets, targets, cumulative }, lengths, lengthCounts);
}
