import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import {
  BERT_HEADING,
  bertSection,
  WORD2VEC_HEADING,
  word2vecSection,
  type EmbeddingsResults,
} from './embeddings-report';
import type { MachineInfo } from './machine';
import type { PipelineRun } from './pipeline-run';
import {
  carriedSection,
  carriedTargetRows,
  parsePreviousResults,
  type PreviousResults,
} from './previous-results';
import {
  formatBytes,
  formatRatio,
  formatSummary,
  markdownTable,
  significant,
  summarize,
  type Summary,
} from './stats';

export const BEGIN_MARKER = '<!-- bench:results:begin (bench/run.ts rewrites this block) -->';
export const END_MARKER = '<!-- bench:results:end -->';

/** Repeated runs of one side of one measurement. */
export interface SideRuns {
  seconds: number[];
  peakRssBytes: number[];
  counts: Record<string, number>;
}

export interface DataCase {
  label: string;
  rows: number;
  /** Each run's time inside the tokenizer: tokenizeWords, or spaCy's nlp.pipe loop with the token filter. */
  product: SideRuns & { tokenizeSeconds: number[] };
  reference: SideRuns & { tokenizeSeconds: number[] };
}

export interface MarkovCase {
  product: SideRuns & { fitSeconds: number[]; generateSeconds: number[] };
  reference: SideRuns & { fitSeconds: number[]; generateSeconds: number[] };
}

export interface KernelTotal {
  name: string;
  calls: number;
  ms: number;
}

export interface GanSide {
  name: string;
  /**
   * `product`: a TF.js backend. `baseline`: PyTorch as installed, which every other side is compared
   * with. `reference`: another PyTorch setting, shown for context.
   */
  role: 'product' | 'baseline' | 'reference';
  stepSeconds: number[];
  peakRssBytes: number;
  profile?: { stepMs: number; kernelMs: number; kernels: KernelTotal[] };
}

export interface GanCase {
  label: string;
  seqLen: number;
  batchSize: number;
  sides: GanSide[];
  /** Reason for each side that is missing, such as a backend that failed to load. */
  skipped: string[];
}

export interface BenchReport {
  command: string;
  startedAt: Date;
  totalSeconds: number;
  /** One-minute load averages when the run started and ended: other jobs on the machine slow both sides. */
  loadAverageStart: number;
  loadAverageEnd: number;
  machine: MachineInfo;
  data: DataCase[];
  markov?: MarkovCase;
  gan: GanCase[];
  embeddings?: EmbeddingsResults;
  pipeline?: PipelineRun | { error: string };
}

const TARGETS = { data: 100, markov: 50, gan: 1, dataMemoryBytes: 1e9, dataMemoryRows: 200_000 };

function medianRatio(reference: readonly number[], product: readonly number[]): number {
  return summarize(reference).median / summarize(product).median;
}

function verdict(met: boolean, detail: string): string {
  return `${met ? 'met' : 'missed'}: ${detail}`;
}

function machineSection(report: BenchReport): string {
  const m = report.machine;
  return [
    `- CPU: ${m.cpuModel}, ${m.cores} cores available to Node; memory ${formatBytes(m.memoryBytes)}; ${m.os}`,
    `- One-minute load average ${report.loadAverageStart.toFixed(2)} at the start and ` +
      `${report.loadAverageEnd.toFixed(2)} at the end. The benchmark keeps about one core busy, so a load ` +
      `well above 1 means other jobs shared the ${m.cores} cores and slowed both sides. The exceptions are ` +
      'native TensorFlow, OpenBLAS under PyTorch and the sides with one thread or worker per core, which ' +
      `use all ${m.cores} cores and raise the load by themselves.`,
    `- Product: Node ${m.node}, TensorFlow.js ${m.tfjs} (tensorflow backend: native TensorFlow through ` +
      '@tensorflow/tfjs-node where installed; wasm backend: one thread; cpu backend: plain JavaScript)',
    `- Reference: Python ${m.python}, pandas ${m.pandas}, numpy ${m.numpy}, spaCy ${m.spacy}, ` +
      `PyTorch ${m.torch} (default ${m.torchThreads} intra-op thread${m.torchThreads === 1 ? '' : 's'}; BLAS ${m.blas}), ` +
      `gensim ${m.gensim}`,
  ].join('\n');
}

function dataSection(cases: readonly DataCase[]): string {
  const rows: string[][] = [];
  for (const item of cases) {
    for (const [side, runs] of [
      ['product (TypeScript)', item.product],
      ['reference (pandas + spaCy)', item.reference],
    ] as const) {
      const time = summarize(runs.seconds);
      rows.push([
        item.label,
        side,
        formatSummary(time, 's'),
        significant((time.median / (item.rows || 1)) * 1e6),
        formatBytes(Math.max(...runs.peakRssBytes)),
        (runs.counts.kept ?? 0).toLocaleString('en-US'),
        (runs.counts.tokens ?? 0).toLocaleString('en-US'),
        runs === item.product ? formatRatio(medianRatio(item.reference.seconds, item.product.seconds)) : '',
      ]);
    }
  }
  const table = markdownTable(
    [
      'corpus',
      'side',
      'time, median (min–max)',
      'µs per comment',
      'peak RSS',
      'texts kept',
      'tokens',
      'speed-up',
    ],
    rows,
    [false, false, true, true, true, true, true, true],
  );
  const tokenizer = cases
    .filter((item) => item.product.tokenizeSeconds.length > 0 && item.reference.tokenizeSeconds.length > 0)
    .map((item) => {
      const product = summarize(item.product.tokenizeSeconds).median;
      const reference = summarize(item.reference.tokenizeSeconds).median;
      return `${item.label} ${significant(product)} s against ${significant(reference)} s, ${formatRatio(reference / product)}`;
    });
  if (tokenizer.length === 0) return table;
  return `${table}\n\nTokenizing alone (time inside tokenizeWords against spaCy's \`nlp.pipe\` loop, medians): ${tokenizer.join('; ')}.`;
}

function markovSection(markov: MarkovCase): string {
  const rows = (
    [
      ['product (eval/markov.ts)', markov.product],
      ['reference (dict of dicts + numpy)', markov.reference],
    ] as const
  ).map(([side, runs]) => [
    side,
    formatSummary(summarize(runs.seconds), 's'),
    formatSummary(summarize(runs.fitSeconds), 's'),
    formatSummary(summarize(runs.generateSeconds), 's'),
    formatBytes(Math.max(...runs.peakRssBytes)),
    runs === markov.product ? formatRatio(medianRatio(markov.reference.seconds, markov.product.seconds)) : '',
  ]);
  const counts = markov.product.counts;
  return [
    `Fitted on ${(counts.texts ?? 0).toLocaleString('en-US')} tokenized texts ` +
      `(${(counts.vocabulary ?? 0).toLocaleString('en-US')} lowercased words, ` +
      `${(counts.distinctBigrams ?? 0).toLocaleString('en-US')} distinct bigrams); 1,000 sentences generated.`,
    '',
    markdownTable(['side', 'fit + generate', 'fit', 'generate 1,000', 'peak RSS', 'speed-up'], rows, [
      false,
      true,
      true,
      true,
      true,
      true,
    ]),
    '',
    `Speed-up of the generation alone: ${formatRatio(
      medianRatio(markov.reference.generateSeconds, markov.product.generateSeconds),
    )}; of the fit alone: ${formatRatio(medianRatio(markov.reference.fitSeconds, markov.product.fitSeconds))}.`,
  ].join('\n');
}

function samplesPerSecond(side: GanSide, batchSize: number): Summary {
  return summarize(side.stepSeconds.map((seconds) => batchSize / seconds));
}

function ganSection(cases: readonly GanCase[]): string {
  const rows: string[][] = [];
  for (const item of cases) {
    const baseline = item.sides.find((side) => side.role === 'baseline');
    const baselineRate = baseline ? samplesPerSecond(baseline, item.batchSize).median : Number.NaN;
    for (const side of item.sides) {
      const rate = samplesPerSecond(side, item.batchSize);
      rows.push([
        `${item.label}: seq ${item.seqLen}, batch ${item.batchSize}`,
        side.name,
        formatSummary(rate, ''),
        significant(summarize(side.stepSeconds).median),
        formatBytes(side.peakRssBytes),
        side.role === 'baseline' || !baseline ? '' : formatRatio(rate.median / baselineRate),
      ]);
    }
  }
  const skipped = cases.flatMap((item) => item.skipped.map((reason) => `- ${item.label}: ${reason}`));
  return [
    markdownTable(
      ['shape', 'implementation', 'samples/s, median (min–max)', 's per step', 'peak RSS', 'vs PyTorch'],
      rows,
      [false, false, true, true, true, true],
    ),
    ...(skipped.length > 0 ? ['', 'Not measured:', ...skipped] : []),
  ].join('\n');
}

function profileSection(cases: readonly GanCase[]): string {
  const parts: string[] = [];
  for (const item of cases) {
    for (const side of item.sides) {
      const profile = side.profile;
      if (!profile) continue;
      // Records nest: a fused op such as fusedMatMul__op is recorded around the kernel it runs, so the
      // sum over records is an upper bound on kernel time and the share outside kernels a lower bound.
      const outside = Math.max(0, 1 - profile.kernelMs / profile.stepMs);
      parts.push(
        `${side.name}, seq ${item.seqLen}, batch ${item.batchSize}: one step took ${significant(profile.stepMs)} ms ` +
          `under tf.profile, and its kernel records add up to ${significant(profile.kernelMs)} ms, so at least ` +
          `${significant(outside * 100, 2)}% went to JavaScript outside kernels (layers, autodiff, tensor bookkeeping).`,
        '',
        markdownTable(
          ['kernel', 'calls', 'total ms', 'share of step'],
          profile.kernels.map((kernel) => [
            kernel.name,
            kernel.calls.toLocaleString('en-US'),
            significant(kernel.ms),
            `${significant((100 * kernel.ms) / profile.stepMs, 2)}%`,
          ]),
          [false, true, true, true],
        ),
        '',
      );
    }
  }
  return parts.join('\n').trimEnd();
}

function pipelineSection(report: BenchReport): string {
  const pipeline = report.pipeline;
  if (pipeline === undefined) return 'Not measured in this run (pass `--pipeline`).';
  if ('error' in pipeline) return `The pipeline run failed: ${pipeline.error}`;
  const rows = pipeline.stages.map((stage) => {
    const note =
      stage.stage === 'train' && pipeline.training
        ? ` (${pipeline.training.steps} steps on TF.js ${pipeline.training.backend})`
        : '';
    return [`${stage.stage}${note}`, stage.status, `${significant(stage.seconds)} s`];
  });
  const lines = [
    `Fresh storage prefix \`${pipeline.prefix}\`; wall time of the whole CLI run ${significant(pipeline.wallSeconds)} s` +
      (pipeline.peakRssBytes === undefined
        ? '.'
        : `, peak RSS of the CLI process ${formatBytes(pipeline.peakRssBytes)}.`),
    '',
    markdownTable(['stage', 'status', 'time'], rows, [false, false, true]),
  ];
  const dataStages = pipeline.stages.filter((stage) => ['fetch', 'dedup', 'tokenize'].includes(stage.stage));
  const bundled = report.data[0];
  if (dataStages.length === 3 && bundled) {
    const stageSeconds = dataStages.reduce((sum, stage) => sum + stage.seconds, 0);
    const reference = summarize(bundled.reference.seconds).median;
    lines.push(
      '',
      `fetch + dedup + tokenize in the pipeline, with Temporal, Parquet and S3: ${significant(stageSeconds)} s. ` +
        `The reference data step took ${significant(reference)} s on the same files (median above), ` +
        `a speed-up of ${formatRatio(reference / stageSeconds)} for the pipeline's stages.`,
    );
  }
  return lines.join('\n');
}

/** Joins words as a list in prose: "a", "a and b", "a, b and c". */
function listWords(words: readonly string[]): string {
  return words.length < 2 ? words.join('') : `${words.slice(0, -1).join(', ')} and ${words.at(-1)}`;
}

/**
 * Headings of the generated block's sections, without the "### " prefix. A run that skips a
 * measurement finds that measurement's earlier sections by these headings.
 */
const HEADINGS = {
  targets: 'Targets',
  data: 'Data step: read, deduplicate, tokenize',
  markov: 'Markov chain baseline',
  gan: 'GAN training throughput',
  profile: 'Where a TF.js training step goes',
  pipeline: 'Whole pipeline, default config',
} as const;

/** Start of the pipeline section of a run without `--pipeline`, which is not worth carrying over. */
const PIPELINE_NOT_RUN = 'Not measured in this run';

function targetsSection(report: BenchReport, previous: PreviousResults | undefined): string {
  const rows: string[][] = [];
  const carried: string[] = [];
  const carry = (name: string, prefix: string): void => {
    const earlier = carriedTargetRows(previous, [prefix]);
    if (earlier.length === 0) return;
    rows.push(...earlier);
    carried.push(name);
  };
  if (report.data.length === 0) {
    carry('data step', 'data step');
  } else {
    const ratios = report.data.map((item) => medianRatio(item.reference.seconds, item.product.seconds));
    const worst = Math.min(...ratios);
    rows.push([
      `data step ≥ ${TARGETS.data}× the pandas + spaCy reference`,
      report.data.map((item, i) => `${item.label} ${formatRatio(ratios[i] ?? 0)}`).join(', '),
      verdict(
        worst >= TARGETS.data,
        `lowest ${formatRatio(worst)}, ${significant(TARGETS.data / worst, 2)}× short`,
      ),
    ]);
    const atTarget = report.data.find((item) => item.rows === TARGETS.dataMemoryRows);
    if (atTarget) {
      const peak = Math.max(...atTarget.product.peakRssBytes);
      rows.push([
        `data step peak memory < 1 GB at ${TARGETS.dataMemoryRows.toLocaleString('en-US')} comments`,
        formatBytes(peak),
        verdict(
          peak < TARGETS.dataMemoryBytes,
          `${significant((100 * peak) / TARGETS.dataMemoryBytes, 2)}% of 1 GB`,
        ),
      ]);
    }
  }
  if (!report.markov) {
    carry('Markov chain', 'Markov');
  } else {
    const ratio = medianRatio(report.markov.reference.seconds, report.markov.product.seconds);
    rows.push([
      `Markov fit + 1,000 sentences ≥ ${TARGETS.markov}×`,
      formatRatio(ratio),
      verdict(
        ratio >= TARGETS.markov,
        ratio >= TARGETS.markov ? 'above target' : `${significant(TARGETS.markov / ratio, 2)}× short`,
      ),
    ]);
  }
  if (report.gan.length === 0) carry('GAN training', 'GAN training');
  for (const item of report.gan) {
    const baseline = item.sides.find((side) => side.role === 'baseline');
    const products = item.sides.filter((side) => side.role === 'product');
    if (!baseline || products.length === 0) continue;
    const baselineRate = samplesPerSecond(baseline, item.batchSize).median;
    const best = products
      .map((side) => ({ side, ratio: samplesPerSecond(side, item.batchSize).median / baselineRate }))
      .sort((a, b) => b.ratio - a.ratio)[0]!;
    rows.push([
      `GAN training at ${item.label} shape ≥ ${baseline.name}`,
      `${best.side.name} ${formatRatio(best.ratio)}`,
      verdict(
        best.ratio >= TARGETS.gan,
        best.ratio >= TARGETS.gan ? 'as fast or faster' : `${significant(1 / best.ratio, 2)}× slower`,
      ),
    ]);
  }
  const table = markdownTable(['target', 'measured (median ratio)', 'verdict'], rows);
  if (carried.length === 0) return table;
  return (
    `${table}\n\nThis run skipped the ${listWords(carried)} measurements, so their rows are carried over ` +
    'from the earlier run that each of their sections below names.'
  );
}

/**
 * Renders the generated block: everything between the two markers. The sections of measurements
 * that this run skipped are carried over from `previous`, the block of an earlier run, when it has them.
 */
export function renderResults(report: BenchReport, previous?: PreviousResults): string {
  const sections = [
    BEGIN_MARKER,
    '',
    `Run ${report.startedAt.toISOString().replace(/\.\d+Z$/, 'Z')}, ${significant(report.totalSeconds / 60, 2)} minutes in all, made by:`,
    '',
    '```sh',
    report.command,
    '```',
    '',
    machineSection(report),
    '',
    'Speed-up is the reference time divided by the product time, both medians of the same run (above 1: the ' +
      'product is faster). Times are measured inside each process, after its imports.',
  ];
  const add = (heading: string, body: string | undefined): void => {
    if (body !== undefined) sections.push('', `### ${heading}`, '', body);
  };
  const carry = (heading: string): void => add(heading, carriedSection(previous, heading));

  add(HEADINGS.targets, targetsSection(report, previous));
  if (report.data.length > 0) {
    add(HEADINGS.data, dataSection(report.data));
  } else {
    carry(HEADINGS.data);
  }
  if (report.markov) {
    add(HEADINGS.markov, markovSection(report.markov));
  } else {
    carry(HEADINGS.markov);
  }
  if (report.gan.length > 0) {
    add(HEADINGS.gan, ganSection(report.gan));
    add(HEADINGS.profile, profileSection(report.gan) || undefined);
  } else {
    carry(HEADINGS.gan);
    carry(HEADINGS.profile);
  }
  if (report.embeddings) {
    add(BERT_HEADING, bertSection(report.embeddings.bert));
    add(WORD2VEC_HEADING, word2vecSection(report.embeddings.word2vec));
  } else {
    carry(BERT_HEADING);
    carry(WORD2VEC_HEADING);
  }
  const earlierPipeline = previous?.sections.get(HEADINGS.pipeline);
  if (report.pipeline === undefined && earlierPipeline && !earlierPipeline.startsWith(PIPELINE_NOT_RUN)) {
    carry(HEADINGS.pipeline);
  } else {
    add(HEADINGS.pipeline, pipelineSection(report));
  }
  sections.push('', END_MARKER);
  return sections.join('\n');
}

/**
 * Replaces the generated block of `file`, or creates the file with only a title and the block, and
 * formats the whole file with the project's Prettier settings, which `npm test` checks. The block
 * it replaces provides the sections of the measurements that this run skipped.
 */
export async function writeReport(file: string, report: BenchReport): Promise<void> {
  const existing = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\n';
  const begin = existing.indexOf(BEGIN_MARKER);
  const end = existing.indexOf(END_MARKER);
  const previous =
    begin >= 0 && end > begin
      ? parsePreviousResults(existing.slice(begin + BEGIN_MARKER.length, end))
      : undefined;
  const block = renderResults(report, previous);
  const updated =
    begin >= 0 && end > begin
      ? existing.slice(0, begin) + block + existing.slice(end + END_MARKER.length)
      : `${existing.trimEnd()}\n\n${block}\n`;
  const prettier = await import('prettier');
  const config = (await prettier.resolveConfig(file)) ?? {};
  writeFileSync(file, await prettier.format(updated, { ...config, filepath: file }));
}
