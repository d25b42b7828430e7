import { log } from '@temporalio/activity';
import { barChart, escapeXml } from '../eval/plot';
import {
  classifierComparisonTable,
  discriminatorTable,
  strategyComparisonTable,
  toMarkdown,
  type BranchEvaluation,
  type Table,
} from '../eval/tables';
import type { RunConfig } from '../infra/config';
import { readParquetFiles } from '../infra/parquet';
import { createStorage, getBytes, putBytes, type Storage } from '../infra/s3';
import { readManifest, tableFiles, type StageManifest } from '../infra/stages';
import { readHumanEvaluation } from '../labeling/report-section';
import type { RowAccounting } from '../workflows/accounting';
import type { StrategyCheck } from './embed';
import type { Evaluation } from './evaluate';
import { branchOf } from '../workflows/branches';
import type { SampleRow } from './markov';

export interface ReportInput {
  workflowId: string;
  config: RunConfig;
  /** Manifest key of each finished stage, in pipeline order. */
  manifestKeys: Record<string, string>;
  accounting: RowAccounting;
  /** Strategies that ran and those skipped; absent for runs with one unnamed branch. */
  strategies?: StrategyCheck;
}

export interface ReportResult {
  markdownKey: string;
  htmlKey: string;
  /** One evaluation per embedding strategy, in the configured order. */
  evaluations: BranchEvaluation[];
  /** Strategies left out, with the reason and how to enable them. */
  skipped: Record<string, string>;
}

/** Texts shown per generator; generated text can be as abusive as the corpus it learned from. */
const SAMPLES_SHOWN = 5;

const CONTENT_NOTE =
  'Content note: the models learned from a corpus of abusive, racist and sexist comments, so generated text may be offensive.';

async function firstSamples(storage: Storage, manifest: StageManifest, table: string): Promise<string[]> {
  const texts: string[] = [];
  for await (const row of readParquetFiles<SampleRow>(storage, tableFiles(manifest, table), ['tokens'])) {
    texts.push(row.tokens.length > 0 ? row.tokens : '(empty: every position decoded to padding)');
    if (texts.length >= SAMPLES_SHOWN) break;
  }
  return texts;
}

function htmlTable(table: Table): string {
  const head = table.header.map((cell) => `<th>${escapeXml(cell)}</th>`).join('');
  const body = table.rows
    .map(
      (row) =>
        `<tr>${row.map((cell, column) => `<td${table.numeric[column] ? ' class="num"' : ''}>${escapeXml(cell)}</td>`).join('')}</tr>`,
    )
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

function metricsChart(branches: BranchEvaluation[]): string {
  const first = branches[0]?.evaluation;
  const rows: Array<{ name: string; row: Evaluation['text'][number] }> = [];
  const real = first?.text.find((row) => row.model === 'real');
  if (real) rows.push({ name: 'real text', row: real });
  for (const branch of branches) {
    const gan = branch.evaluation.text.find((row) => row.model === 'gan');
    if (gan) rows.push({ name: `GAN, ${branch.strategy}`, row: gan });
  }
  const markov = first?.text.find((row) => row.model === 'markov');
  if (markov) rows.push({ name: 'Markov chain', row: markov });
  return barChart({
    title: 'Text metrics side by side (real text is the reference)',
    groups: [
      'BLEU-2',
      'BLEU-3',
      'BLEU-4',
      'self-BLEU-4',
      'distinct-1',
      'distinct-2',
      'two-sample acc. (n-gram)',
    ],
    series: rows.map(({ name, row }) => ({
      name,
      values: [
        row.bleu2,
        row.bleu3,
        row.bleu4,
        row.selfBleu4,
        row.distinct1,
        row.distinct2,
        row.ngramTwoSampleAccuracy,
      ],
    })),
    yLabel: 'score',
  });
}

/** The logging calls the report makes; the activity logger by default, another one outside activities. */
export type ReportLogger = Pick<typeof log, 'info' | 'warn'>;

function percent(value: number | undefined): string {
  return value === undefined ? 'n/a' : `${(value * 100).toFixed(1)}%`;
}

/** States what this run's discriminator tables show, next to what the study's showed. */
export function explainDiscriminator(branches: BranchEvaluation[]): string {
  const perStrategy = branches.map(({ strategy, evaluation }) => {
    const accuracy = (data: string) => evaluation.discriminator.find((row) => row.data === data)?.accuracy;
    return (
      `with ${strategy} the discriminator classifies ${percent(accuracy('test (real)'))} of real test texts as real, ` +
      `${percent(accuracy('generator (fake)'))} of generator samples as fake and ` +
      `${percent(accuracy('markov (fake)'))} of Markov texts as fake`
    );
  });
  return (
    "The study judged its GANs by the discriminator's table alone: its discriminators caught over 99% of their own generator's samples " +
    'yet called nearly all Markov text real, so the table said little about text quality. ' +
    `In this run, ${perStrategy.join('; ')}. ` +
    'The text metrics judge the words themselves.'
  );
}

interface Section {
  title: string;
  markdown: string;
  html: string;
}

async function trainingSection(storage: Storage, strategy: string, train: StageManifest): Promise<Section> {
  const counts = train.counts as {
    steps?: number;
    finalDLoss?: number;
    finalGLoss?: number;
    preset?: string;
  };
  const runtime = train.runtime as { backend?: string; samplesPerSecond?: number };
  const lossPlotKey = train.artifacts.lossPlot?.key;
  const svg = lossPlotKey ? (await getBytes(storage, lossPlotKey)).toString('utf8') : '';
  const line =
    `${strategy}: ${counts.steps} steps with the ${counts.preset} preset on the ${runtime.backend} backend, ` +
    `${Math.round(runtime.samplesPerSecond ?? 0)} samples/s; final discriminator loss ${counts.finalDLoss?.toFixed(3)}, ` +
    `generator loss ${counts.finalGLoss?.toFixed(3)}.`;
  return {
    title: strategy,
    markdown: `${line} Loss plot: \`${lossPlotKey}\` (embedded in report.html).`,
    html: `<p>${escapeXml(line)}</p>\n<figure>${svg}</figure>`,
  };
}

/**
 * Writes the run report to `<prefix>/runs/<workflowId>/report.md` and `report.html` (plots
 * embedded, so the page opens offline): config, counts and wall time per stage, the evaluation
 * tables, the loss plot, a metrics plot and a few generated samples under a content note.
 */
export async function writeReport(input: ReportInput, logger: ReportLogger = log): Promise<ReportResult> {
  const storage = createStorage(input.config.storage);
  const manifests: Record<string, StageManifest> = {};
  for (const [stage, key] of Object.entries(input.manifestKeys))
    manifests[stage] = await readManifest(storage, key);
  const sections: Section[] = [];

  const stageTable: Table = {
    header: ['stage', 'output rows', 'wall time', 'manifest'],
    rows: Object.entries(manifests).map(([stage, manifest]) => [
      stage,
      Object.entries(manifest.tables)
        .map(([name, table]) => `${name} ${table.rows.toLocaleString('en-US')}`)
        .join(', '),
      `${(manifest.durationMs / 1000).toFixed(1)} s`,
      manifest.manifestKey,
    ]),
    numeric: [false, false, true, false],
  };
  const a = input.accounting;
  const accountingTable: Table = {
    header: ['rows', 'count'],
    rows: [
      ['read from sources', a.rowsRead],
      ['rejected', a.rejected],
      ['exact duplicates removed', a.duplicates],
      ['empty texts removed', a.empty],
      ['dropped: too many tokens', a.droppedTooLong],
      ['dropped: no word tokens', a.droppedNoTokens],
      ['kept (train + test)', a.kept],
    ].map(([label, value]) => [String(label), Number(value).toLocaleString('en-US')]),
    numeric: [false, true],
  };
  sections.push({
    title: 'Stages',
    markdown: `${toMarkdown(stageTable)}\n\n${toMarkdown(accountingTable)}\n\nRow accounting: ${a.balanced ? 'balanced' : 'MISMATCH'}.`,
    html: `${htmlTable(stageTable)}\n${htmlTable(accountingTable)}\n<p>Row accounting: ${a.balanced ? 'balanced' : 'MISMATCH'}.</p>`,
  });

  const branches: BranchEvaluation[] = [];
  const trainingLines: Section[] = [];
  for (const [stage, manifest] of Object.entries(manifests)) {
    const strategy = branchOf(stage, 'train');
    if (strategy) trainingLines.push(await trainingSection(storage, strategy, manifest));
    const evaluated = branchOf(stage, 'evaluate');
    const evaluation = (manifest.counts as { evaluation?: Evaluation }).evaluation;
    if (evaluated && evaluation) branches.push({ strategy: evaluated, evaluation });
  }
  const order = input.config.stages.embed.strategies as readonly string[];
  const rank = (strategy: string) => (order.includes(strategy) ? order.indexOf(strategy) : order.length);
  branches.sort((a, b) => rank(a.strategy) - rank(b.strategy));
  trainingLines.sort((a, b) => rank(a.title) - rank(b.title));
  const skipped: Record<string, string> = {
    ...(input.strategies?.skipped ?? {}),
    ...(input.strategies?.failed ?? {}),
  };
  if (trainingLines.length > 0) {
    sections.push({
      title: 'Training',
      markdown: trainingLines.map((line) => line.markdown).join('\n\n'),
      html: trainingLines.map((line) => line.html).join('\n'),
    });
  }

  const skipNotes = Object.values(skipped);
  if (branches.length > 0 || skipNotes.length > 0) {
    const comparison = strategyComparisonTable(branches);
    const classifiers = classifierComparisonTable(branches);
    const explanation = explainDiscriminator(branches);
    const studyTables = branches.map(
      ({ strategy, evaluation }) => [strategy, discriminatorTable(evaluation.discriminator)] as const,
    );
    const notes = skipNotes.map((note) => `> ${note}`).join('\n');
    sections.push({
      title: 'Evaluation',
      markdown: [
        '### Strategies side by side',
        toMarkdown(comparison),
        ...(notes ? [notes] : []),
        '### Discriminators and two-sample tests per strategy',
        toMarkdown(classifiers),
        explanation,
        "### The study's table, per strategy",
        ...studyTables.map(([strategy, table]) => `**${strategy}**\n\n${toMarkdown(table)}`),
      ].join('\n\n'),
      html: [
        '<h3>Strategies side by side</h3>',
        htmlTable(comparison),
        ...skipNotes.map((note) => `<p class="note">${escapeXml(note)}</p>`),
        `<figure>${metricsChart(branches)}</figure>`,
        '<h3>Discriminators and two-sample tests per strategy</h3>',
        htmlTable(classifiers),
        `<p>${escapeXml(explanation)}</p>`,
        "<h3>The study's table, per strategy</h3>",
        ...studyTables.map(([strategy, table]) => `<h4>${escapeXml(strategy)}</h4>\n${htmlTable(table)}`),
      ].join('\n'),
    });
  }

  // Present only after someone has labelled the run (`textgan label`), so other reports are unchanged.
  const human = await readHumanEvaluation(
    storage,
    input.config.storage.prefix,
    input.workflowId,
    manifests,
    logger,
  );
  if (human) {
    sections.push({
      title: 'Human evaluation',
      markdown: human.table ? `${human.summary}\n\n${toMarkdown(human.table)}` : human.summary,
      html: `<p>${escapeXml(human.summary)}</p>${human.table ? `\n${htmlTable(human.table)}` : ''}`,
    });
  }

  const samples: Array<[string, string[]]> = [];
  for (const [stage, manifest] of Object.entries(manifests)) {
    const strategy = branchOf(stage, 'evaluate');
    if (strategy)
      samples.push([`GAN, ${strategy}`, await firstSamples(storage, manifest, 'generator_samples')]);
  }
  if (manifests.markov)
    samples.push(['Markov chain', await firstSamples(storage, manifests.markov, 'samples')]);
  if (samples.length > 0) {
    sections.push({
      title: 'Generated samples',
      markdown: `> ${CONTENT_NOTE}\n\n${samples.map(([name, texts]) => `**${name}**\n\n${texts.map((t) => `- ${t}`).join('\n')}`).join('\n\n')}`,
      html: `<p class="note">${escapeXml(CONTENT_NOTE)}</p>\n<details><summary>Show samples</summary>\n${samples
        .map(
          ([name, texts]) =>
            `<h4>${escapeXml(name)}</h4><ul>${texts.map((t) => `<li>${escapeXml(t)}</li>`).join('')}</ul>`,
        )
        .join('\n')}</details>`,
    });
  }

  const configJson = JSON.stringify(input.config, null, 2);
  sections.push({
    title: 'Configuration',
    markdown: '```json\n' + configJson + '\n```',
    html: `<pre>${escapeXml(configJson)}</pre>`,
  });

  const title = `textgan run ${input.workflowId}`;
  const markdown = `# ${title}\n\n${sections.map((s) => `## ${s.title}\n\n${s.markdown}`).join('\n\n')}\n`;
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeXml(title)}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; } th, td { border: 1px solid #ccc; padding: 4px 8px; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
pre { background: #f6f6f6; padding: 1em; overflow: auto; } .note { color: #8a4b00; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; }
</style></head>
<body><h1>${escapeXml(title)}</h1>
${sections.map((s) => `<h2>${escapeXml(s.title)}</h2>\n${s.html}`).join('\n')}
</body></html>
`;
  const base = `${input.config.storage.prefix}/runs/${input.workflowId.replace(/[^A-Za-z0-9._-]/g, '_')}`;
  const markdownKey = `${base}/report.md`;
  const htmlKey = `${base}/report.html`;
  await putBytes(storage, markdownKey, markdown, 'text/markdown; charset=utf-8');
  await putBytes(storage, htmlKey, html, 'text/html; charset=utf-8');
  logger.info('report written', { markdownKey, htmlKey });
  return { markdownKey, htmlKey, evaluations: branches, skipped };
}
