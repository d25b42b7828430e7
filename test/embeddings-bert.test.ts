import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { GetObjectCommand, NoSuchKey, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BertEmbedding,
  bertEmbedding,
  bertOptionsSchema,
  DEFAULT_BERT_MODEL,
  type BertOptions,
} from '../embeddings/bert';
import { loadBertModel, type BertModel } from '../embeddings/bert/model';
import {
  bfloat16ToFloat,
  floatToBfloat16,
  floatToHalf,
  halfToFloat,
  readSafetensors,
  writeSafetensors,
} from '../embeddings/bert/safetensors';
import { WordPieceTokenizer } from '../embeddings/bert/wordpiece';
import { wordsOf, type EmbeddingStrategy } from '../embeddings/strategy';
import type { Storage } from '../infra/s3';
import { loadTensorFlow, type TensorFlow } from '../ml/backend';
import { tinyVocabulary, writeTinyBert } from './helpers/tiny-bert';

const TRAIN_TEXTS: string[][] = [
  'The cat likes fresh bread today'.split(' '),
  'a dog hates loud music again'.split(' '),
  'my neighbour follows the news'.split(' '),
  'The old man walked quickly to the garden !'.split(' '),
  'our team plays with the cat'.split(' '),
  'the cat and the dog really like the garden'.split(' '),
  "you don't know what they want".split(' '),
];

async function* fromArray<T>(items: readonly T[]): AsyncGenerator<T> {
  for (const item of items) yield item;
}

function options(overrides: Partial<BertOptions>): BertOptions {
  return bertOptionsSchema.parse(overrides);
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs((a[i] as number) - (b[i] as number)));
  return max;
}

function vectorAt(values: Float32Array, text: number, position: number, seqLen: number, dimension: number) {
  const start = (text * seqLen + position) * dimension;
  return values.subarray(start, start + dimension);
}

function norm(vector: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += (vector[i] as number) ** 2;
  return Math.sqrt(sum);
}

const folders: string[] = [];

function tinyModel(...args: Parameters<typeof writeTinyBert>): string {
  const folder = writeTinyBert(...args);
  folders.push(folder);
  return folder;
}

let tf: TensorFlow;

beforeAll(async () => {
  ({ tf } = await loadTensorFlow({ preferred: 'wasm' }));
});

afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

describe('WordPiece tokenizer', () => {
  const tokenizer = new WordPieceTokenizer(tinyVocabulary());

  it('lowercases and strips accents', () => {
    expect(tokenizer.basicTokens('Héllo CAFÉ Naïve')).toEqual(['hello', 'cafe', 'naive']);
  });

  it('keeps case and accents when lowercasing is off', () => {
    const cased = new WordPieceTokenizer(tinyVocabulary(), { doLowerCase: false });
    expect(cased.basicTokens('Héllo CAFÉ')).toEqual(['Héllo', 'CAFÉ']);
  });

  it('splits at punctuation', () => {
    expect(tokenizer.basicTokens("don't-stop!")).toEqual(['don', "'", 't', '-', 'stop', '!']);
    expect(tokenizer.basicTokens('a$b^c')).toEqual(['a', '$', 'b', '^', 'c']);
    expect(tokenizer.basicTokens('«quoted»')).toEqual(['«', 'quoted', '»']);
  });

  it('splits CJK ideographs and cleans control characters', () => {
    expect(tokenizer.basicTokens('猫dog犬')).toEqual(['猫', 'dog', '犬']);
    expect(tokenizer.basicTokens('ca\u0000t\u200b\tdog\u00a0cat')).toEqual(['cat', 'dog', 'cat']);
  });

  it('matches the longest piece first with ## continuations', () => {
    expect(tokenizer.wordPieces('cats')).toEqual(['cat', '##s']);
    expect(tokenizer.wordPieces('playing')).toEqual(['play', '##ing']);
    expect(tokenizer.wordPieces('quickly')).toEqual(['q', '##u', '##i', '##c', '##k', '##ly']);
  });

  it('returns [UNK] for unmatched and long words', () => {
    expect(tokenizer.wordPieces('cat9')).toEqual(['[UNK]']);
    expect(tokenizer.tokenize('日本')).toEqual(['[UNK]', '[UNK]']);
    expect(tokenizer.wordPieces('a'.repeat(101))).toEqual(['[UNK]']);
    expect(tokenizer.wordPieces('a'.repeat(100))).toHaveLength(100);
  });

  it('keeps each word range', () => {
    const result = tokenizer.tokenizeWords(['Cats', "don't", '\u0000', 'the']);
    expect(result.pieces).toEqual(['cat', '##s', 'do', '##n', "'", 't', '[UNK]', 'the']);
    expect(result.wordRanges).toEqual([
      [0, 2],
      [2, 6],
      [6, 7],
      [7, 8],
    ]);
    expect(result.ids).toEqual(result.pieces.map((piece) => tokenizer.idOf(piece)));
  });

  it('reads vocab.txt lines as ids', () => {
    const fromText = WordPieceTokenizer.fromVocabText('[PAD]\r\n[UNK]\n[CLS]\n[SEP]\nhello\n');
    expect(fromText.size).toBe(5);
    expect(fromText.idOf('hello')).toBe(4);
    expect(fromText.classifierId).toBe(2);
    expect(() => WordPieceTokenizer.fromVocabText('[PAD]\nhello\n')).toThrow(/no \[UNK\] token/);
  });
});

describe('safetensors', () => {
  const values = Float32Array.from([0, 1, -2.5, 3.140625, 65504, 1e-5, -0.1, 7]);

  it('round-trips F32 exactly', () => {
    const buffer = writeSafetensors(
      { a: { shape: [2, 4], values }, b: { shape: [1], values: [42] } },
      { k: 'v' },
    );
    const headerLength = Number(buffer.readBigUInt64LE(0));
    expect(headerLength % 8).toBe(0);
    const { tensors, metadata } = readSafetensors(buffer);
    expect(metadata).toEqual({ k: 'v' });
    expect(tensors.get('a')?.shape).toEqual([2, 4]);
    expect(tensors.get('a')?.dtype).toBe('F32');
    expect(Array.from(tensors.get('a')?.values ?? [])).toEqual(Array.from(values));
    expect(Array.from(tensors.get('b')?.values ?? [])).toEqual([42]);
  });

  it('round-trips F16 and BF16 within precision', () => {
    const buffer = writeSafetensors({
      half: { shape: [8], values, dtype: 'F16' },
      brain: { shape: [8], values, dtype: 'BF16' },
    });
    const { tensors } = readSafetensors(buffer);
    const half = tensors.get('half')?.values ?? new Float32Array();
    const brain = tensors.get('brain')?.values ?? new Float32Array();
    expect(tensors.get('half')?.dtype).toBe('F16');
    values.forEach((value, i) => {
      expect(Math.abs((half[i] as number) - value)).toBeLessThanOrEqual(
        Math.abs(value) * 2 ** -11 + 2 ** -24,
      );
      expect(Math.abs((brain[i] as number) - value)).toBeLessThanOrEqual(Math.abs(value) * 2 ** -8);
    });
    expect(half[4]).toBe(65504);
  });

  it('converts special half values', () => {
    expect(halfToFloat(0x7c00)).toBe(Infinity);
    expect(halfToFloat(0xfc00)).toBe(-Infinity);
    expect(Number.isNaN(halfToFloat(0x7e00))).toBe(true);
    expect(halfToFloat(0x0001)).toBe(2 ** -24);
    expect(floatToHalf(1e6)).toBe(0x7c00);
    expect(floatToHalf(2 ** -25)).toBe(0);
    expect(floatToHalf(2 ** -24)).toBe(1);
    expect(floatToHalf(-0.5)).toBe(0xb800);
    expect(bfloat16ToFloat(floatToBfloat16(1.5))).toBe(1.5);
    expect(Number.isNaN(bfloat16ToFloat(floatToBfloat16(NaN)))).toBe(true);
  });

  it('skips tensors outside the filter', () => {
    const buffer = writeSafetensors({ keep: { shape: [1], values: [1] }, drop: { shape: [1], values: [2] } });
    expect([...readSafetensors(buffer, (name) => name === 'keep').tensors.keys()]).toEqual(['keep']);
  });

  it('rejects truncated and malformed data', () => {
    const buffer = writeSafetensors({ a: { shape: [2, 4], values } });
    expect(() => readSafetensors(buffer.subarray(0, 4))).toThrow(/shorter than the 8-byte header/);
    expect(() => readSafetensors(buffer.subarray(0, buffer.length - 4))).toThrow(/outside the 28-byte data/);
    const header = Buffer.from(JSON.stringify({ a: { dtype: 'F8_E4M3', shape: [1], data_offsets: [0, 1] } }));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(header.length));
    expect(() => readSafetensors(Buffer.concat([length, header, Buffer.alloc(1)]))).toThrow(
      /unsupported safetensors dtype F8_E4M3/,
    );
  });
});

describe('bert embedding on a tiny model', () => {
  let folder: string;
  let strategy: BertEmbedding;

  beforeAll(async () => {
    folder = tinyModel();
    strategy = (await bertEmbedding.fit(fromArray(TRAIN_TEXTS), options({ model: folder }))) as BertEmbedding;
  });

  afterAll(() => strategy.dispose());

  it('decodes encoded train texts', async () => {
    const seqLen = 10;
    const encoded = await strategy.encode(TRAIN_TEXTS, seqLen);
    const decoded = strategy.decodeBatch(encoded, TRAIN_TEXTS.length, seqLen);
    TRAIN_TEXTS.forEach((tokens, index) => {
      expect(wordsOf(decoded[index] ?? [])).toEqual(tokens.map((token) => token.toLowerCase()));
    });
  });

  it('builds the vocabulary from train words', () => {
    const words = new Set(TRAIN_TEXTS.flat().map((word) => word.toLowerCase()));
    expect(strategy.vocabularySize).toBe(words.size);
    expect(strategy.dimension).toBe(32);
    expect(norm(strategy.vectorOf('cat') ?? [])).toBeCloseTo(1, 5);
    expect(strategy.vectorOf('Cat')).toBeUndefined();
    const neighbours = strategy.neighbours('cat', 3);
    expect(neighbours).toHaveLength(3);
    expect(neighbours.map((entry) => entry.word)).not.toContain('cat');
  });

  it('pads after the end with zeros and null', async () => {
    const seqLen = 8;
    const texts = [['cat', 'dog'], []];
    const encoded = await strategy.encode(texts, seqLen);
    expect(norm(vectorAt(encoded, 0, 0, seqLen, 32))).toBeCloseTo(1, 5);
    expect(norm(vectorAt(encoded, 0, 1, seqLen, 32))).toBeCloseTo(1, 5);
    for (let position = 2; position < seqLen; position++) {
      expect(norm(vectorAt(encoded, 0, position, seqLen, 32))).toBe(0);
    }
    expect(norm(encoded.subarray(seqLen * 32))).toBe(0);
    const decoded = strategy.decodeBatch(encoded, 2, seqLen);
    expect(decoded[0]).toEqual(['cat', 'dog', null, null, null, null, null, null]);
    expect(decoded[1]).toEqual(new Array(seqLen).fill(null));
  });

  it('cuts texts longer than seqLen', async () => {
    const text = TRAIN_TEXTS[3] as string[];
    const full = await strategy.encode([text], text.length);
    const cut = await strategy.encode([text], 3);
    expect(maxDifference(cut, full.subarray(0, 3 * 32))).toBe(0);
  });

  it('encodes a text independently of its batch', async () => {
    const short = ['the', 'cat'];
    const long = 'the old man walked quickly to the garden and the dog followed'.split(' ');
    const alone = await strategy.encode([short], 12);
    const padded = await strategy.encode([long, short], 12);
    expect(maxDifference(alone, padded.subarray(12 * 32))).toBeLessThan(1e-5);
    // Context matters: the same word gets different vectors in different texts.
    const other = await strategy.encode([['a', 'cat']], 12);
    expect(maxDifference(alone.subarray(32, 64), other.subarray(32, 64))).toBeGreaterThan(1e-3);
  });

  it('frees its tensors after encode', async () => {
    await strategy.encode(TRAIN_TEXTS.slice(0, 2), 10);
    const before = tf.memory().numTensors;
    await strategy.encode([['a', 'new', 'text', 'with', 'the', 'horse']], 10);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('caches fit encodings without changing them', async () => {
    expect(strategy.cachedTexts).toBe(TRAIN_TEXTS.length);
    const uncached = (await bertEmbedding.fit(
      fromArray(TRAIN_TEXTS),
      options({ model: folder, cacheMegabytes: 0 }),
    )) as BertEmbedding;
    expect(uncached.cachedTexts).toBe(0);
    const fromCache = await strategy.encode(TRAIN_TEXTS, 10);
    const computed = await uncached.encode(TRAIN_TEXTS, 10);
    expect(maxDifference(fromCache, computed)).toBeLessThan(1e-5);
    uncached.dispose();
  });

  it('round-trips through save and load', async () => {
    const loaded = await bertEmbedding.load(strategy.save());
    expect(loaded.name).toBe('bert');
    expect(loaded.dimension).toBe(strategy.dimension);
    expect(loaded.vocabularySize).toBe(strategy.vocabularySize);
    const texts = [...TRAIN_TEXTS, ['new', 'words', 'like', 'horse', 'and', 'river']];
    const original = await strategy.encode(texts, 10);
    const reloaded = await loaded.encode(texts, 10);
    expect(maxDifference(original, reloaded)).toBeLessThan(1e-5);
    expect(loaded.decodeBatch(reloaded, texts.length, 10)).toEqual(
      strategy.decodeBatch(original, texts.length, 10),
    );
    loaded.dispose?.();
  });

  it('reads the model on first encode only', async () => {
    const copy = tinyModel();
    const fitted = await bertEmbedding.fit(fromArray(TRAIN_TEXTS), options({ model: copy }));
    const saved = fitted.save();
    fitted.dispose?.();
    rmSync(copy, { recursive: true, force: true });

    const loaded = await bertEmbedding.load(saved);
    const decoded = loaded.decodeBatch(new Float32Array(2 * 32), 1, 2);
    expect(decoded).toEqual([[null, null]]);
    await expect(loaded.encode([['cat']], 2)).rejects.toThrow(/BERT model file not found: .*config\.json/);
    loaded.dispose?.();
  });

  it('caps word pieces at the model positions', async () => {
    // The tiny model has 64 positions: [CLS], 62 pieces and [SEP], although maxWordPieces allows 512.
    const words = new Array<string>(100).fill('cat');
    const encoded = await strategy.encode([words], 100);
    expect(norm(vectorAt(encoded, 0, 61, 100, 32))).toBeCloseTo(1, 5);
    expect(norm(vectorAt(encoded, 0, 62, 100, 32))).toBe(0);
  });

  it('treats words cut by maxWordPieces as past the end', async () => {
    const limited = (await bertEmbedding.fit(
      fromArray(TRAIN_TEXTS),
      options({ model: folder, maxWordPieces: 6 }),
    )) as BertEmbedding;
    // After [CLS] and [SEP], 4 pieces remain: "cats" (cat ##s) fits as pieces 3-4 but not as 4-5.
    const encoded = await limited.encode([['the', 'the', 'cats', 'the']], 4);
    expect(norm(vectorAt(encoded, 0, 1, 4, 32))).toBeCloseTo(1, 5);
    expect(norm(vectorAt(encoded, 0, 2, 4, 32))).toBeCloseTo(1, 5);
    expect(norm(vectorAt(encoded, 0, 3, 4, 32))).toBe(0);
    const cut = await limited.encode([['the', 'the', 'the', 'cats']], 4);
    expect(norm(vectorAt(cut, 0, 2, 4, 32))).toBeCloseTo(1, 5);
    expect(norm(vectorAt(cut, 0, 3, 4, 32))).toBe(0);
    limited.dispose();
  });

  it('reports progress while fitting', async () => {
    const messages: string[] = [];
    const fitted = await bertEmbedding.fit(fromArray(TRAIN_TEXTS), options({ model: folder }), {
      onProgress: (message) => messages.push(message),
    });
    expect(messages[0]).toMatch(/^bert: reading the model at /);
    fitted.dispose?.();
  });
});

describe('bert model loading', () => {
  it('loads F16 weights with a bert. prefix', async () => {
    const plain = tinyModel({ seed: 5 });
    const variant = tinyModel({ seed: 5, dtype: 'F16', prefix: 'bert.' });
    const a = await loadBertModel(plain);
    const b = await loadBertModel(variant);
    const ids = [
      a.tokenizer.classifierId,
      ...a.tokenizer.tokenizeWords(['the', 'cats']).ids,
      a.tokenizer.separatorId,
    ];
    const first = a.sumLastHiddenStates([ids], 4);
    const second = b.sumLastHiddenStates([ids], 4);
    // F16 keeps 11 significant bits, so the outputs differ only slightly.
    expect(maxDifference(first.values, second.values)).toBeLessThan(0.05);
    expect(first.length).toBe(ids.length);
    a.dispose();
    b.dispose();
  });

  it('masks padding in a batch', async () => {
    const model = await loadBertModel(tinyModel({ seed: 6 }));
    const { classifierId, separatorId } = model.tokenizer;
    const short = [classifierId, ...model.tokenizer.tokenizeWords(['the', 'cat']).ids, separatorId];
    const long = [
      classifierId,
      ...model.tokenizer.tokenizeWords('a dog hates loud music again'.split(' ')).ids,
      separatorId,
    ];
    const alone = model.sumLastHiddenStates([short], 3);
    const batched = model.sumLastHiddenStates([long, short], 3);
    const hidden = model.config.hiddenSize;
    expect(batched.length).toBe(long.length);
    const row = batched.values.subarray(
      batched.length * hidden,
      batched.length * hidden + short.length * hidden,
    );
    expect(maxDifference(alone.values, row)).toBeLessThan(1e-5);
    const padding = batched.values.subarray(batched.length * hidden + short.length * hidden);
    expect(norm(padding)).toBe(0);
    model.dispose();
  });

  it('names the missing model folder', async () => {
    const missing = join(folders[0] ?? '/tmp', 'no-such-model');
    await expect(bertEmbedding.fit(fromArray(TRAIN_TEXTS), options({ model: missing }))).rejects.toThrow(
      /BERT model file not found: .*no-such-model\/config\.json\. Run `bash infra\/scripts\/install-bert\.sh`/,
    );
  });

  it('names a missing weights file', async () => {
    const folder = tinyModel({ omitWeights: true });
    await expect(loadBertModel(folder)).rejects.toThrow(/not found: .*model\.safetensors/);
  });

  it('rejects invalid inputs', async () => {
    const model = await loadBertModel(tinyModel({ maxPositions: 8 }));
    expect(() => model.sumLastHiddenStates([new Array<number>(9).fill(5)], 1)).toThrow(
      /exceeds the model's 8 positions/,
    );
    expect(() => model.sumLastHiddenStates([[2, model.config.vocabSize, 3]], 1)).toThrow(/Invalid token id/);
    model.dispose();
  });

  it('reads an s3:// location through the storage', async () => {
    const folder = tinyModel({ seed: 9 });
    const objects = new Map<string, Buffer>();
    for (const file of readdirSync(folder))
      objects.set(`models-bucket/bert/tiny/${file}`, readFileSync(join(folder, file)));
    const requested: string[] = [];
    const client = {
      send(command: unknown) {
        if (!(command instanceof GetObjectCommand)) throw new Error('unexpected S3 command');
        const id = `${command.input.Bucket}/${command.input.Key}`;
        requested.push(id);
        const body = objects.get(id);
        if (!body) {
          return Promise.reject(new NoSuchKey({ message: `no ${id}`, $metadata: { httpStatusCode: 404 } }));
        }
        return Promise.resolve({
          Body: { transformToByteArray: () => Promise.resolve(new Uint8Array(body)) },
        });
      },
    };
    const storage: Storage = { client: client as unknown as S3Client, bucket: 'run-bucket' };

    const fitted = await bertEmbedding.fit(
      fromArray(TRAIN_TEXTS),
      options({ model: 's3://models-bucket/bert/tiny/' }),
      {
        storage,
      },
    );
    expect(requested).toContain('models-bucket/bert/tiny/model.safetensors');
    const encoded = await fitted.encode(TRAIN_TEXTS.slice(0, 2), 8);
    const local = await bertEmbedding.fit(fromArray(TRAIN_TEXTS), options({ model: folder }));
    expect(maxDifference(encoded, await local.encode(TRAIN_TEXTS.slice(0, 2), 8))).toBe(0);

    await expect(
      bertEmbedding.fit(fromArray(TRAIN_TEXTS), options({ model: 's3://models-bucket/other' }), { storage }),
    ).rejects.toThrow(/not found: s3:\/\/models-bucket\/other\/config\.json/);
    await expect(
      bertEmbedding.fit(fromArray(TRAIN_TEXTS), options({ model: 's3://models-bucket/bert/tiny' })),
    ).rejects.toThrow(/no object store/);
    fitted.dispose?.();
    local.dispose?.();
  });
});

interface ReferenceSentence {
  words: string[];
  pieces: string[];
  ids: number[];
  wordRanges: Array<[number, number]>;
  summedLastLayers: number[][];
  wordVectors: number[][];
}

const REFERENCE_TOLERANCE = 1e-3;

describe.skipIf(!existsSync(join(DEFAULT_BERT_MODEL, 'model.safetensors')))(
  'bert on all-MiniLM-L6-v2',
  () => {
    const fixture = JSON.parse(
      readFileSync(join(__dirname, 'fixtures', 'minilm-reference.json'), 'utf8'),
    ) as {
      summedLayers: number;
      valuesPerVector: number;
      sentences: ReferenceSentence[];
    };
    let model: BertModel;

    beforeAll(async () => {
      model = await loadBertModel(DEFAULT_BERT_MODEL);
    });

    afterAll(() => model.dispose());

    it('tokenizes like the reference', () => {
      for (const sentence of fixture.sentences) {
        const { ids, pieces, wordRanges } = model.tokenizer.tokenizeWords(sentence.words);
        expect(['[CLS]', ...pieces, '[SEP]']).toEqual(sentence.pieces);
        expect([model.tokenizer.classifierId, ...ids, model.tokenizer.separatorId]).toEqual(sentence.ids);
        expect(wordRanges.map(([first, last]) => [first + 1, last + 1])).toEqual(sentence.wordRanges);
      }
    });

    it('matches the reference hidden states', () => {
      const { values, length } = model.sumLastHiddenStates(
        fixture.sentences.map((sentence) => sentence.ids),
        fixture.summedLayers,
      );
      const hidden = model.config.hiddenSize;
      fixture.sentences.forEach((sentence, row) => {
        sentence.summedLastLayers.forEach((expected, position) => {
          const start = (row * length + position) * hidden;
          const actual = values.subarray(start, start + fixture.valuesPerVector);
          expect(maxDifference(actual, expected)).toBeLessThan(REFERENCE_TOLERANCE);
        });
      });
    });

    it('matches the reference word vectors', async () => {
      const strategy: EmbeddingStrategy = await bertEmbedding.fit(
        fromArray(fixture.sentences.map((sentence) => sentence.words)),
        options({}),
      );
      const seqLen = 12;
      const encoded = await strategy.encode(
        fixture.sentences.map((sentence) => sentence.words),
        seqLen,
      );
      fixture.sentences.forEach((sentence, row) => {
        sentence.wordVectors.forEach((expected, word) => {
          const actual = vectorAt(encoded, row, word, seqLen, strategy.dimension).subarray(
            0,
            fixture.valuesPerVector,
          );
          expect(maxDifference(actual, expected)).toBeLessThan(REFERENCE_TOLERANCE);
        });
      });
      strategy.dispose?.();
    });
  },
);
