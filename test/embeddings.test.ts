import { describe, expect, it } from 'vitest';
import { scalarEmbedding } from '../embeddings/scalar';
import { encodeBatch, wordsOf } from '../embeddings/strategy';

async function* texts(...items: string[][]): AsyncGenerator<string[]> {
  for (const item of items) yield item;
}

describe('scalar embedding', () => {
  it('numbers lowercased words by first occurrence', async () => {
    const strategy = await scalarEmbedding.fit(texts(['The', 'cat', 'sat'], ['the', 'Dog']), {
      scale: 'raw',
    });
    const values = await encodeBatch(strategy, [['the', 'cat', 'sat', 'dog', 'emu']], 6);
    expect(Array.from(values)).toEqual([1, 2, 3, 4, 0, 0]);
    expect(strategy.vocabularySize).toBe(4);
  });

  it('round-trips known words with unit scaling', async () => {
    const strategy = await scalarEmbedding.fit(texts(['a', 'b', 'c', 'd', 'e']), { scale: 'unit' });
    const values = await encodeBatch(strategy, [['e', 'a', 'c']], 4);
    expect(Array.from(values)).toEqual(Array.from(Float32Array.from([1, 0.2, 0.6, 0])));
    expect(strategy.decodeBatch(values, 1, 4)).toEqual([['e', 'a', 'c', null]]);
  });

  it('decodes by rounding to the nearest id', async () => {
    const strategy = await scalarEmbedding.fit(texts(['x', 'y', 'z']), { scale: 'raw' });
    const decoded = strategy.decodeBatch(Float32Array.from([0.6, 1.4, 2.5, 3.49, 3.51, -2]), 1, 6);
    expect(decoded).toEqual([['x', 'x', 'z', 'z', null, null]]);
    expect(wordsOf(decoded[0] ?? [])).toEqual(['x', 'x', 'z', 'z']);
  });

  it('cuts texts longer than the sequence length', async () => {
    const strategy = await scalarEmbedding.fit(texts(['p', 'q']), { scale: 'raw' });
    expect(Array.from(await encodeBatch(strategy, [['p', 'q', 'p']], 2))).toEqual([1, 2]);
  });

  it('survives save and load', async () => {
    const strategy = await scalarEmbedding.fit(texts(['Hello', 'world']), { scale: 'unit' });
    const loaded = await scalarEmbedding.load(strategy.save());
    const values = await encodeBatch(loaded, [['world', 'hello']], 2);
    expect(Array.from(values)).toEqual(Array.from(await encodeBatch(strategy, [['world', 'hello']], 2)));
    expect(loaded.decodeBatch(values, 1, 2)).toEqual([['world', 'hello']]);
  });

  it('rejects a buffer of another kind', async () => {
    await expect(scalarEmbedding.load(Buffer.from('{"name":"word2vec","words":[]}'))).rejects.toThrow(
      'Not a saved scalar embedding',
    );
  });
});
