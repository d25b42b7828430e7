/**
 * Tokenizes texts with lib/tokenize.ts and writes one JSON line per text, for compare.py to check against
 * spaCy. Input is either gzip CSV files with a `Text` column, read in row order, or a JSON lines file whose
 * lines are objects with a `text` field. Each output line is
 *   {"source": file, "row": 0-based row, "sha1": hex digest of the UTF-8 text, "tokens": [...], "words": [...]}
 * where `tokens` is tokenize() and `words` is tokenizeWords(). Texts are never printed.
 *
 * Usage: npx tsx bench/tokenizer-agreement/dump-ts.ts --out OUT.jsonl (--texts IN.jsonl | FILE.csv.gz...)
 * After writing, it times tokenizeWords over all texts and prints the rate as JSON on stderr.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';

import { parse } from 'csv-parse/sync';

import { tokenize, tokenizeWords } from '../../lib/tokenize';

interface SourceText {
  readonly source: string;
  readonly row: number;
  readonly text: string;
}

function readCsvTexts(path: string): SourceText[] {
  const records: Array<Record<string, string>> = parse(gunzipSync(readFileSync(path)), {
    columns: true,
    skip_empty_lines: false,
  });
  return records.map((record, row) => {
    const text = record.Text;
    if (text === undefined) throw new Error(`${path}: row ${row} is missing the Text column`);
    return { source: basename(path), row, text };
  });
}

function readJsonLinesTexts(path: string): SourceText[] {
  const lines = readFileSync(path, 'utf8').split('\n');
  const texts: SourceText[] = [];
  for (const line of lines) {
    if (line.trim() === '') continue;
    const parsed: unknown = JSON.parse(line);
    const text = (parsed as { text?: unknown }).text;
    if (typeof text !== 'string')
      throw new Error(`${path}: line ${texts.length + 1} is missing a string "text" field`);
    texts.push({ source: basename(path), row: texts.length, text });
  }
  return texts;
}

function parseArgs(argv: string[]): { out: string; textsFile?: string; csvFiles: string[] } {
  let out: string | undefined;
  let textsFile: string | undefined;
  const csvFiles: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--out') out = argv[++i];
    else if (arg === '--texts') textsFile = argv[++i];
    else csvFiles.push(arg);
  }
  if (out === undefined || (textsFile === undefined && csvFiles.length === 0)) {
    throw new Error('usage: dump-ts.ts --out OUT.jsonl (--texts IN.jsonl | FILE.csv.gz...)');
  }
  return { out, textsFile, csvFiles };
}

function main(): void {
  const args = parseArgs(process.argv.slice(2));
  const texts =
    args.textsFile === undefined ? args.csvFiles.flatMap(readCsvTexts) : readJsonLinesTexts(args.textsFile);

  const lines = texts.map(({ source, row, text }) =>
    JSON.stringify({
      source,
      row,
      sha1: createHash('sha1').update(text, 'utf8').digest('hex'),
      tokens: tokenize(text),
      words: tokenizeWords(text),
    }),
  );
  writeFileSync(args.out, lines.join('\n') + '\n');

  // The first pass warms up the JIT, and the best of the next three passes is reported.
  let best = Number.POSITIVE_INFINITY;
  let wordCount = 0;
  for (let pass = 0; pass < 4; pass++) {
    const started = process.hrtime.bigint();
    wordCount = 0;
    for (const { text } of texts) wordCount += tokenizeWords(text).length;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (pass > 0) best = Math.min(best, seconds);
  }
  const codeUnits = texts.reduce((sum, { text }) => sum + text.length, 0);
  process.stderr.write(
    JSON.stringify({
      comments: texts.length,
      words: wordCount,
      codeUnits,
      seconds: best,
      commentsPerSecond: Math.round(texts.length / best),
      millionUnitsPerSecond: Number((codeUnits / best / 1e6).toFixed(1)),
    }) + '\n',
  );
}

main();
