/**
 * The evaluation tables as header + rows of strings, shared by the CLI summary and the report so
 * both show the same figures with the same rounding.
 */
import type { DiscriminatorRow, Evaluation, TextMetrics } from './evaluation';

export interface Table {
  header: string[];
  rows: string[][];
  /** Columns to right-align (numbers). */
  numeric: boolean[];
}

/** Below this accuracy on its own training texts a classifier has not learned, so its test is void. */
const LEARNED_THRESHOLD = 0.6;

function twoSampleCell(
  accuracy: number | null | undefined,
  low: number | null | undefined,
  high: number | null | undefined,
): string {
  if (accuracy === null || accuracy === undefined) return 'n/a';
  const bound = (value: number | null | undefined) =>
    value === null || value === undefined ? '?' : (value * 100).toFixed(1);
  return `${percent(accuracy, 1)} [${bound(low)}-${bound(high)}]`;
}

function percent(value: number | null | undefined, digits = 2): string {
  return value === null || value === undefined || !Number.isFinite(value)
    ? 'n/a'
    : `${(value * 100).toFixed(digits)}%`;
}

function fixed(value: number | null | undefined, digits: number): string {
  return value === null || value === undefined || !Number.isFinite(value) ? 'n/a' : value.toFixed(digits);
}

/** Formats a perplexity: plain below a million, in powers of ten above, since 1e-12 floors explode it. */
function perplexity(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  return value < 1e6 ? value.toFixed(1) : value.toExponential(2);
}

const MODEL_NAMES: Record<string, string> = { real: 'real text', gan: 'GAN', markov: 'Markov chain' };

/** Builds the study's table: the discriminator's accuracy at 0.5 and MSE against the true label. */
export function discriminatorTable(rows: DiscriminatorRow[]): Table {
  return {
    header: ['data', 'texts', 'accuracy', 'MSE'],
    rows: rows.map((row) => [
      row.data,
      row.count.toLocaleString('en-US'),
      percent(row.accuracy),
      row.mse.toExponential(2),
    ]),
    numeric: [false, true, true, true],
  };
}

/**
 * Builds the text-metrics table, one column per source. Real text is the ceiling for BLEU and the
 * reference for the rest. `names` replaces the default column titles.
 */
export function textMetricsTable(rows: TextMetrics[], names?: string[]): Table {
  return {
    header: ['metric', ...rows.map((row, column) => names?.[column] ?? MODEL_NAMES[row.model] ?? row.model)],
    rows: [
      ['BLEU-2 vs test', ...rows.map((row) => fixed(row.bleu2, 3))],
      ['BLEU-3 vs test', ...rows.map((row) => fixed(row.bleu3, 3))],
      ['BLEU-4 vs test', ...rows.map((row) => fixed(row.bleu4, 3))],
      ['self-BLEU-4 (lower is more diverse)', ...rows.map((row) => fixed(row.selfBleu4, 3))],
      ['distinct-1', ...rows.map((row) => fixed(row.distinct1, 3))],
      ['distinct-2', ...rows.map((row) => fixed(row.distinct2, 3))],
      ['perplexity, study (unseen 1e-12)', ...rows.map((row) => perplexity(row.perplexityStudy))],
      ['perplexity, Kneser-Ney', ...rows.map((row) => perplexity(row.perplexityKneserNey))],
      ['padding or unknown words', ...rows.map((row) => percent(row.unknownShare, 1))],
      ['empty texts', ...rows.map((row) => `${row.emptyTexts} of ${row.texts}`)],
      [
        'two-sample accuracy, n-gram (50% = indistinguishable)',
        ...rows.map((row) =>
          twoSampleCell(row.ngramTwoSampleAccuracy, row.ngramTwoSampleLow, row.ngramTwoSampleHigh),
        ),
      ],
      [
        'two-sample accuracy, discriminator-shaped',
        ...rows.map((row) => {
          const cell = twoSampleCell(row.twoSampleAccuracy, row.twoSampleLow, row.twoSampleHigh);
          const learned = row.twoSampleTrainAccuracy;
          return learned !== null && learned !== undefined && learned < LEARNED_THRESHOLD
            ? `void (${percent(learned, 0)} on training)`
            : cell;
        }),
      ],
    ],
    numeric: [false, ...rows.map(() => true)],
  };
}

/** One embedding branch's evaluation, named by its strategy. */
export interface BranchEvaluation {
  strategy: string;
  evaluation: Evaluation;
}

function source(evaluation: Evaluation, model: TextMetrics['model']): TextMetrics | undefined {
  return evaluation.text.find((row) => row.model === model);
}

/**
 * Builds the side-by-side table: real text, one GAN column per strategy, then the Markov chain.
 * Real text and the Markov chain do not depend on the strategy, so their columns come from the
 * first branch, except the discriminator-shaped two-sample test: it reads the strategy's
 * encoding, so the Markov chain's result per strategy is in `classifierComparisonTable`.
 */
export function strategyComparisonTable(branches: BranchEvaluation[]): Table {
  const first = branches[0]?.evaluation;
  if (!first) return { header: ['metric'], rows: [], numeric: [false] };
  const rows: TextMetrics[] = [];
  const names: string[] = [];
  const real = source(first, 'real');
  if (real) {
    rows.push(real);
    names.push('real text');
  }
  for (const branch of branches) {
    const gan = source(branch.evaluation, 'gan');
    if (!gan) continue;
    rows.push(gan);
    names.push(`GAN, ${branch.strategy}`);
  }
  const markov = source(first, 'markov');
  if (markov) {
    rows.push({
      ...markov,
      twoSampleAccuracy: null,
      twoSampleLow: null,
      twoSampleHigh: null,
      twoSampleTrainAccuracy: null,
    });
    names.push('Markov chain');
  }
  return textMetricsTable(rows, names);
}

/**
 * Builds the study's table turned sideways, one column per strategy: the discriminator's accuracy
 * on each kind of text, then the discriminator-shaped two-sample test of both generators.
 */
export function classifierComparisonTable(branches: BranchEvaluation[]): Table {
  const accuracyOf = (evaluation: Evaluation, data: DiscriminatorRow['data']) =>
    percent(evaluation.discriminator.find((row) => row.data === data)?.accuracy);
  const twoSampleOf = (evaluation: Evaluation, model: 'gan' | 'markov') => {
    const row = source(evaluation, model);
    if (!row) return 'n/a';
    const learned = row.twoSampleTrainAccuracy;
    if (learned !== null && learned !== undefined && learned < LEARNED_THRESHOLD) {
      return `void (${percent(learned, 0)} on training)`;
    }
    return twoSampleCell(row.twoSampleAccuracy, row.twoSampleLow, row.twoSampleHigh);
  };
  const data: Array<DiscriminatorRow['data']> = [
    'train (real)',
    'test (real)',
    'generator (fake)',
    'markov (fake)',
  ];
  return {
    header: ['measure', ...branches.map((branch) => branch.strategy)],
    rows: [
      ...data.map((name) => [
        `discriminator accuracy on ${name}`,
        ...branches.map((branch) => accuracyOf(branch.evaluation, name)),
      ]),
      [
        'two-sample accuracy, discriminator-shaped, GAN',
        ...branches.map((branch) => twoSampleOf(branch.evaluation, 'gan')),
      ],
      [
        'two-sample accuracy, discriminator-shaped, Markov chain',
        ...branches.map((branch) => twoSampleOf(branch.evaluation, 'markov')),
      ],
    ],
    numeric: [false, ...branches.map(() => true)],
  };
}

/** Renders a table as GitHub-flavoured Markdown. */
export function toMarkdown(table: Table): string {
  const escape = (cell: string) => cell.replace(/\|/g, '\\|');
  const align = table.numeric.map((numeric) => (numeric ? '---:' : '---'));
  return [
    `| ${table.header.map(escape).join(' | ')} |`,
    `| ${align.join(' | ')} |`,
    ...table.rows.map((row) => `| ${row.map(escape).join(' | ')} |`),
  ].join('\n');
}

/** Renders a table as plain text with aligned columns, for terminals. */
export function toText(table: Table): string {
  const widths = table.header.map((title, column) =>
    Math.max(title.length, ...table.rows.map((row) => (row[column] ?? '').length)),
  );
  const line = (row: string[]) =>
    row
      .map((cell, column) => {
        const width = widths[column] ?? 0;
        return table.numeric[column] ? cell.padStart(width) : cell.padEnd(width);
      })
      .join('  ')
      .trimEnd();
  return [
    line(table.header),
    widths.map((width) => '-'.repeat(width)).join('  '),
    ...table.rows.map(line),
  ].join('\n');
}
