import { beforeAll, describe, expect, it } from 'vitest';
import { packVectors, unitCopy, unpackVectors, VectorTable } from '../embeddings/vector-table';
import { Random } from '../lib/random';
import { loadTensorFlow } from '../ml/backend';

beforeAll(async () => {
  await loadTensorFlow({ preferred: 'wasm' });
});

// Three words in two dimensions: east, north and north-east (not unit length on purpose).
function compass(): VectorTable {
  return new VectorTable(['east', 'north', 'northeast'], Float32Array.from([2, 0, 0, 3, 1, 1]), 2);
}

describe('VectorTable', () => {
  it('decodes each vector to the most similar word', () => {
    const table = compass();
    const values = Float32Array.from([0.9, 0.1, 0.1, 0.9, 0.7, 0.7, -1, 0.01]);
    expect(table.decode(values, 1, 4)).toEqual([['east', 'north', 'northeast', 'north']]);
  });

  it('decodes short vectors to padding', () => {
    const table = compass();
    const values = Float32Array.from([0, 0, 0.3, 0.3, 0.49, 0, 0.51, 0]);
    expect(table.decode(values, 2, 2)).toEqual([
      [null, null],
      [null, 'east'],
    ]);
  });

  it('decodes across several chunks', () => {
    // 20,000 words make each chunk of the similarity matrix 838 rows, so 2,000 queries take three.
    const random = Random.fromSeed(3);
    const words = Array.from({ length: 20_000 }, (_, index) => `w${index}`);
    const vectors = Float32Array.from({ length: words.length * 64 }, () => random.nextGaussian());
    const table = new VectorTable(words, vectors, 64);
    const queries = unitCopy(vectors.subarray(0, 2000 * 64), 2000, 64);
    const rows = table.nearestRows(queries, 2000);
    expect(Array.from(rows)).toEqual(Array.from({ length: 2000 }, (_, index) => index));
  });

  it('ranks neighbours by cosine without the word itself', () => {
    const neighbours = compass().neighbours('east', 2);
    expect(neighbours.map((entry) => entry.word)).toEqual(['northeast', 'north']);
    expect(neighbours[0]?.similarity).toBeCloseTo(Math.SQRT1_2, 5);
    expect(compass().similarity('east', 'north')).toBeCloseTo(0, 6);
    expect(compass().similarity('east', 'west')).toBeNaN();
  });

  it('packs and unpacks words and vectors', () => {
    const table = compass();
    const { header, table: loaded } = unpackVectors<{ name: string; extra: number }>(
      packVectors({ name: 'test', extra: 7 }, table),
      'test',
    );
    expect(header.extra).toBe(7);
    expect(loaded.words).toEqual(table.words);
    expect(Array.from(loaded.vectors)).toEqual(Array.from(table.vectors));
  });

  it('rejects a truncated or foreign buffer', () => {
    const packed = packVectors({ name: 'test' }, compass());
    expect(() => unpackVectors(packed.subarray(0, 2), 'test')).toThrow('truncated');
    expect(() => unpackVectors(packed, 'word2vec')).toThrow('Not a saved word2vec embedding');
  });

  it('rejects vectors that do not match the words', () => {
    expect(() => new VectorTable(['a', 'b'], new Float32Array(3), 2)).toThrow(
      'Invalid vector table: 3 values, expected 2 words x 2',
    );
  });
});
