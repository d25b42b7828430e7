/**
 * Fits the product's word2vec embedding strategy with its default options, timed.
 *
 *   node --import tsx bench/node/word2vec-step.ts --tokens FILE
 *
 * FILE has one text a line, tokens separated by single spaces (bench/node/data-step.ts writes it).
 * Reading the file is not timed. `word2vecEmbedding.fit` is: it lowercases the tokens, builds the
 * vocabulary and trains CBOW with negative sampling on one thread. Prints one result line (see
 * ./result.ts) with the time in seconds and the corpus size.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { word2vecEmbedding, word2vecOptionsSchema } from '../../embeddings/word2vec';
import { emitResult } from './result';

async function* iterate(texts: ReadonlyArray<readonly string[]>): AsyncIterable<readonly string[]> {
  yield* texts;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { tokens: { type: 'string' } } });
  if (values.tokens === undefined) throw new Error('--tokens is required: the file data-step.ts wrote');
  const texts = readFileSync(values.tokens, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.split(' '));

  const start = performance.now();
  const strategy = await word2vecEmbedding.fit(iterate(texts), word2vecOptionsSchema.parse({}));
  const seconds = (performance.now() - start) / 1000;

  emitResult({
    seconds,
    counts: {
      texts: texts.length,
      tokens: texts.reduce((sum, tokens) => sum + tokens.length, 0),
      vocabulary: strategy.vocabularySize,
      dimension: strategy.dimension,
    },
  });
  strategy.dispose?.();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
