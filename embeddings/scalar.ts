import { z } from 'zod';
import type { EmbeddingFactory, EmbeddingStrategy } from './strategy';

/**
 * The study's scalar incremental embedding: each lowercased train word gets the next integer on
 * first occurrence (1, 2, 3, ...), and 0 stands for padding and out-of-vocabulary words. Decoding
 * rounds to the nearest id.
 *
 * `scale: "unit"` (the default) divides ids by the vocabulary size so inputs lie in [0, 1], where
 * an LSTM's tanh does not saturate. `scale: "raw"` feeds the integers as the study did.
 */
export const scalarOptionsSchema = z.strictObject({
  scale: z.enum(['unit', 'raw']).default('unit'),
});
export type ScalarOptions = z.infer<typeof scalarOptionsSchema>;

interface SavedScalar {
  name: 'scalar';
  scale: ScalarOptions['scale'];
  /** Words in id order: words[0] has id 1. */
  words: string[];
}

class ScalarEmbedding implements EmbeddingStrategy {
  readonly name = 'scalar';
  readonly dimension = 1;
  private readonly ids = new Map<string, number>();
  private readonly factor: number;

  constructor(
    private readonly words: string[],
    private readonly scale: ScalarOptions['scale'],
  ) {
    words.forEach((word, index) => this.ids.set(word, index + 1));
    this.factor = scale === 'unit' ? Math.max(1, words.length) : 1;
  }

  get vocabularySize(): number {
    return this.words.length;
  }

  idOf(word: string): number {
    return this.ids.get(word.toLowerCase()) ?? 0;
  }

  encode(texts: ReadonlyArray<readonly string[]>, seqLen: number): Promise<Float32Array> {
    const values = new Float32Array(texts.length * seqLen);
    texts.forEach((tokens, row) => {
      const length = Math.min(tokens.length, seqLen);
      for (let position = 0; position < length; position++) {
        values[row * seqLen + position] = this.idOf(tokens[position] as string) / this.factor;
      }
    });
    return Promise.resolve(values);
  }

  decodeBatch(values: Float32Array, count: number, seqLen: number): Array<Array<string | null>> {
    const texts: Array<Array<string | null>> = [];
    for (let row = 0; row < count; row++) {
      const words: Array<string | null> = [];
      for (let position = 0; position < seqLen; position++) {
        const id = Math.round((values[row * seqLen + position] as number) * this.factor);
        words.push(id >= 1 && id <= this.words.length ? (this.words[id - 1] as string) : null);
      }
      texts.push(words);
    }
    return texts;
  }

  save(): Buffer {
    const saved: SavedScalar = { name: 'scalar', scale: this.scale, words: this.words };
    return Buffer.from(JSON.stringify(saved), 'utf8');
  }
}

export const scalarEmbedding: EmbeddingFactory<ScalarOptions> = {
  name: 'scalar',
  async fit(trainTexts, options) {
    const seen = new Set<string>();
    const words: string[] = [];
    for await (const tokens of trainTexts) {
      for (const token of tokens) {
        const word = token.toLowerCase();
        if (!seen.has(word)) {
          seen.add(word);
          words.push(word);
        }
      }
    }
    return new ScalarEmbedding(words, options.scale);
  },
  // Async so that a bad buffer rejects the promise instead of throwing at the call.
  async load(buffer) {
    return loadScalar(buffer);
  },
};

function loadScalar(buffer: Buffer): ScalarEmbedding {
  const saved = JSON.parse(buffer.toString('utf8')) as SavedScalar;
  if (saved.name !== 'scalar' || !Array.isArray(saved.words)) {
    throw new Error(`Not a saved scalar embedding (name "${String(saved.name)}")`);
  }
  return new ScalarEmbedding(saved.words, saved.scale);
}
