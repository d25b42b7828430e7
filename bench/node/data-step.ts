/**
 * Runs the work of the pipeline's fetch, dedup and tokenize stages on local gzip CSV files, without
 * Temporal, Parquet or S3, and times it.
 *
 *   node --import tsx bench/node/data-step.ts --dir data/cyberbully [--tokens-out FILE] [--train-tokens-out FILE]
 *
 * The loop calls the same functions as activities/fetch.ts, activities/dedup.ts and
 * activities/tokenize.ts with their default options. It parses the CSV with row validation, drops
 * exact duplicates by SHA-256 digest and also computes the normalized digest that dedup reports.
 * Then it tokenizes with tokenizeWords, applies the 1,200-token limit and the hashed train/test
 * split, and counts the vocabulary. It keeps no row after it is counted, as the stages keep none
 * after writing it. `--tokens-out` also writes each kept text's tokens, space-separated, one text a
 * line, as input for the Markov benchmark. `--train-tokens-out` writes the same for the texts of the
 * train split only, which the pipeline fits its embeddings on, as input for the embedding benchmarks.
 * Prints one result line (see ./result.ts) with the time in seconds and the row counts.
 */
import { createHash } from 'node:crypto';
import { createReadStream, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { isTestText } from '../../activities/tokenize';
import { normalizeForReport } from '../../activities/dedup';
import { decodeUtf8, maybeGunzip, parseCommentCsv } from '../../lib/csv-source';
import { tokenizeWords } from '../../lib/tokenize';
import { emitResult } from './result';
import { bundledSources } from './sources';

/** Defaults of infra/config.ts for the fetch and tokenize stages. */
const MAX_TEXT_CHARS = 100_000;
const MAX_TOKENS = 1200;
const SPLIT_SEED = 42;
const TEST_FRACTION = 0.2;

/** Returns the digest that activities/dedup.ts uses: the first 128 bits of SHA-256, in base64. */
function digest(text: string): string {
  return createHash('sha256').update(text).digest('base64').slice(0, 22);
}

interface DataCounts {
  rowsRead: number;
  rejected: number;
  duplicates: number;
  empty: number;
  droppedTooLong: number;
  droppedNoTokens: number;
  kept: number;
  tokens: number;
  vocabulary: number;
  /** Time spent inside tokenizeWords, which the report compares with the reference's spaCy loop. */
  tokenizeSeconds: number;
}

/** Lines of the token files: every kept text, and the kept texts of the train split. */
interface TokenLines {
  all?: string[];
  train?: string[];
}

async function runDataStep(dir: string, tokensOut: TokenLines): Promise<DataCounts> {
  const counts: DataCounts = {
    rowsRead: 0,
    rejected: 0,
    duplicates: 0,
    empty: 0,
    droppedTooLong: 0,
    droppedNoTokens: 0,
    kept: 0,
    tokens: 0,
    vocabulary: 0,
    tokenizeSeconds: 0,
  };
  const seen = new Set<string>();
  const seenNormalized = new Set<string>();
  const vocabulary = new Map<string, { count: number; trainCount: number }>();
  for (const source of bundledSources(dir)) {
    const stream = createReadStream(source.file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>;
    const items = parseCommentCsv(decodeUtf8(maybeGunzip(stream), source.file), {
      file: source.file,
      textColumn: source.textColumn,
      labelColumn: source.labelColumn,
      annotationColumn: source.annotationColumn,
      maxTextChars: MAX_TEXT_CHARS,
    });
    for await (const item of items) {
      counts.rowsRead += 1;
      if (item.kind === 'reject') {
        counts.rejected += 1;
        continue;
      }
      const text = item.row.text;
      if (text.trim().length === 0) {
        counts.empty += 1;
        continue;
      }
      const key = digest(text);
      if (seen.has(key)) {
        counts.duplicates += 1;
        continue;
      }
      seen.add(key);
      seenNormalized.add(digest(normalizeForReport(text)));

      const tokenizeStart = performance.now();
      const tokens = tokenizeWords(text);
      counts.tokenizeSeconds += (performance.now() - tokenizeStart) / 1000;
      if (tokens.length === 0) {
        counts.droppedNoTokens += 1;
        continue;
      }
      if (tokens.length > MAX_TOKENS) {
        counts.droppedTooLong += 1;
        continue;
      }
      const inTest = isTestText(text, SPLIT_SEED, TEST_FRACTION);
      for (const token of tokens) {
        const entry = vocabulary.get(token);
        if (entry) {
          entry.count += 1;
          if (!inTest) entry.trainCount += 1;
        } else {
          vocabulary.set(token, { count: 1, trainCount: inTest ? 0 : 1 });
        }
      }
      counts.kept += 1;
      counts.tokens += tokens.length;
      if (tokensOut.all !== undefined || (tokensOut.train !== undefined && !inTest)) {
        const line = tokens.join(' ');
        tokensOut.all?.push(line);
        if (!inTest) tokensOut.train?.push(line);
      }
    }
  }
  counts.vocabulary = vocabulary.size;
  return counts;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string' },
      'tokens-out': { type: 'string' },
      'train-tokens-out': { type: 'string' },
    },
  });
  if (values.dir === undefined) throw new Error('--dir is required: the folder with the five gzip CSV files');
  const allFile = values['tokens-out'];
  const trainFile = values['train-tokens-out'];
  const tokenLines: TokenLines = {
    all: allFile === undefined ? undefined : [],
    train: trainFile === undefined ? undefined : [],
  };
  const start = performance.now();
  const counts = await runDataStep(values.dir, tokenLines);
  const seconds = (performance.now() - start) / 1000;
  if (allFile !== undefined) writeFileSync(allFile, (tokenLines.all ?? []).join('\n') + '\n');
  if (trainFile !== undefined) writeFileSync(trainFile, (tokenLines.train ?? []).join('\n') + '\n');
  emitResult({ seconds, counts });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
