/**
 * Fits the product's Markov chain baseline and generates sentences from it, timed.
 *
 *   node --import tsx bench/node/markov-step.ts --tokens FILE [--sentences 1000]
 *
 * FILE has one text a line, tokens separated by single spaces (bench/node/data-step.ts writes it).
 * Reading the file is not timed; fitting `MarkovChain` and generating the sentences are. Prints one
 * result line (see ./result.ts) with the time in seconds and the chain's size.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { MarkovChain } from '../../eval/markov';
import { Random } from '../../lib/random';
import { emitResult } from './result';

function main(): void {
  const { values } = parseArgs({
    options: { tokens: { type: 'string' }, sentences: { type: 'string', default: '1000' } },
  });
  if (values.tokens === undefined) throw new Error('--tokens is required: the file data-step.ts wrote');
  const sentences = Number(values.sentences);
  const texts = readFileSync(values.tokens, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => line.split(' '));

  const start = performance.now();
  const chain = MarkovChain.fit(texts);
  const fitted = performance.now();
  const generated = chain.generate(sentences, Random.fromSeed(99));
  const end = performance.now();

  const stats = chain.stats;
  emitResult({
    seconds: (end - start) / 1000,
    fitSeconds: (fitted - start) / 1000,
    generateSeconds: (end - fitted) / 1000,
    counts: {
      texts: stats.textCount,
      vocabulary: stats.vocabularySize,
      distinctBigrams: stats.distinctBigrams,
      generatedTokens: generated.reduce((sum, text) => sum + text.length, 0),
    },
  });
}

main();
