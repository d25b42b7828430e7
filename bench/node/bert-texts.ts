import { readFileSync, writeFileSync } from 'node:fs';

/**
 * Writes the input of both sides of the BERT benchmark as a JSON array of token lists: `count`
 * texts of `tokensFile`, each cut to its first `words` tokens. The token file has one text a line,
 * tokens separated by single spaces, as bench/node/data-step.ts writes it. The texts are spread
 * evenly over the file, so every bundled source contributes in proportion to its size. Returns the
 * number of texts written, which is below `count` when the file has fewer texts.
 */
export function writeBertTexts(tokensFile: string, count: number, words: number, out: string): number {
  const lines = readFileSync(tokensFile, 'utf8')
    .split('\n')
    .filter((line) => line.length > 0);
  const chosen: string[][] = [];
  const selected = Math.min(count, lines.length);
  for (let i = 0; i < selected; i++) {
    const line = lines[Math.floor((i * lines.length) / selected)] as string;
    chosen.push(line.split(' ').slice(0, words));
  }
  writeFileSync(out, JSON.stringify(chosen));
  return chosen.length;
}
