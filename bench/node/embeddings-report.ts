/** Results of the embedding measurements and their sections of the benchmark report. */
import { formatBytes, formatRatio, formatSummary, markdownTable, significant, summarize } from './stats';

/**
 * `product`: the product's strategy. `baseline`: the reference with its default threads (PyTorch)
 * or one worker (gensim), which every other side is compared with. `reference`: the reference with
 * one thread or worker per core, shown for context.
 */
export type EmbeddingRole = 'product' | 'baseline' | 'reference';

export interface BertSide {
  name: string;
  role: EmbeddingRole;
  /** Time of each timed pass over all texts, in seconds. */
  passSeconds: number[];
  peakRssBytes: number;
  /**
   * texts, words (within seqLen) and nonZeroVectors (word vectors written); the reference also
   * counts pieces, the word pieces of all texts with [CLS] and [SEP].
   */
  counts: Record<string, number>;
}

export interface BertCase {
  texts: number;
  seqLen: number;
  batchSize: number;
  sides: BertSide[];
  /** Reason for each side that is missing, such as a backend that failed to load. */
  skipped: string[];
}

export interface Word2vecSide {
  name: string;
  role: EmbeddingRole;
  /** Time of each fit, one per child process. */
  seconds: number[];
  peakRssBytes: number[];
  /** texts, tokens, vocabulary and dimension of the last fit. */
  counts: Record<string, number>;
}

export interface Word2vecCase {
  sides: Word2vecSide[];
}

export interface EmbeddingsResults {
  bert: BertCase;
  word2vec: Word2vecCase;
}

export const BERT_HEADING = 'Embeddings: BERT encoding';
export const WORD2VEC_HEADING = 'Embeddings: word2vec training';

function count(value: number | undefined): string {
  return (value ?? 0).toLocaleString('en-US');
}

function textsPerSecond(side: BertSide, texts: number): number {
  return texts / summarize(side.passSeconds).median;
}

export function bertSection(item: BertCase): string {
  const baseline = item.sides.find((side) => side.role === 'baseline');
  const baselineRate = baseline ? textsPerSecond(baseline, item.texts) : Number.NaN;
  const rows = item.sides.map((side) => [
    side.name,
    formatSummary(summarize(side.passSeconds.map((seconds) => item.texts / seconds)), ''),
    significant(summarize(side.passSeconds).median),
    formatBytes(side.peakRssBytes),
    side.role === 'baseline' || !baseline ? '' : formatRatio(textsPerSecond(side, item.texts) / baselineRate),
  ]);
  const words = item.sides[0]?.counts.words;
  const pieces = item.sides.find((side) => side.counts.pieces !== undefined)?.counts.pieces;
  const passes = item.sides[0]?.passSeconds.length ?? 0;
  const lines = [
    `${count(item.texts)} texts of the bundled train split, each cut to its first ${item.seqLen} words ` +
      `(${count(words)} words${pieces === undefined ? '' : `, ${count(pieces)} word pieces with [CLS] and [SEP]`}), ` +
      `encoded with all-MiniLM-L6-v2 in batches of up to ${item.batchSize} texts. Each row is the median of ` +
      `${passes} timed ${passes === 1 ? 'pass' : 'passes'} over all texts, after one warm-up pass in the same process.`,
    '',
    markdownTable(
      ['implementation', 'texts/s, median (min–max)', 's per pass', 'peak RSS', 'vs PyTorch'],
      rows,
      [false, true, true, true, true],
    ),
  ];
  const vectorCounts = new Set(item.sides.map((side) => side.counts.nonZeroVectors));
  if (vectorCounts.size > 1) {
    lines.push(
      '',
      'The sides wrote different numbers of word vectors: ' +
        item.sides.map((side) => `${side.name} ${count(side.counts.nonZeroVectors)}`).join(', ') +
        '.',
    );
  }
  if (item.skipped.length > 0)
    lines.push('', 'Not measured:', ...item.skipped.map((reason) => `- ${reason}`));
  return lines.join('\n');
}

export function word2vecSection(item: Word2vecCase): string {
  const baseline = item.sides.find((side) => side.role === 'baseline');
  const baselineSeconds = baseline ? summarize(baseline.seconds).median : Number.NaN;
  const rows = item.sides.map((side) => {
    const time = summarize(side.seconds);
    return [
      side.name,
      formatSummary(time, 's'),
      count(side.counts.vocabulary),
      formatBytes(Math.max(...side.peakRssBytes)),
      side.role === 'baseline' || !baseline ? '' : formatRatio(baselineSeconds / time.median),
    ];
  });
  const product = item.sides.find((side) => side.role === 'product')?.counts ?? {};
  const fits = item.sides[0]?.seconds.length ?? 0;
  return [
    `Fitted on ${count(product.texts)} texts of the bundled train split (${count(product.tokens)} tokens) ` +
      `with CBOW, ${product.dimension ?? 12} values per vector, window 5, 10 epochs and 5 noise words, ` +
      `each side ${fits === 1 ? 'once' : `${fits} times`}, each fit in a fresh process.`,
    '',
    markdownTable(
      ['implementation', 'fit, median (min–max)', 'vocabulary', 'peak RSS', 'vs gensim, 1 worker'],
      rows,
      [false, true, true, true, true],
    ),
  ].join('\n');
}
