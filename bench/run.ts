/**
 * Benchmarks the product against a Python reference of the study's method, side by side on the same
 * inputs, and rewrites the generated block of BENCHMARKS.md.
 *
 *   npm run bench -- [--reps 3] [--sizes 200000:3,1000000:1] [--gan-steps 5] [--study-steps 2]
 *                    [--bert-texts 256] [--backends tensorflow,wasm,cpu] [--skip-data] [--skip-markov]
 *                    [--skip-gan] [--skip-embeddings] [--pipeline] [--out BENCHMARKS.md] [--python PATH]
 *
 * `npm run bench` first runs bench/setup.sh, which creates the reference's Python environment.
 * Every measurement runs in a fresh child process per repetition, the two sides alternating, and
 * each child reports its own time and peak RSS. See BENCHMARKS.md for what each measurement covers.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_BERT_MODEL } from '../embeddings/bert';
import { BUNDLED_DATA_DIR } from '../infra/datasets';
import { runChild } from './node/child';
import { ensureCorpus } from './node/corpus';
import { measureBert, measureWord2vec, type EmbeddingsSettings } from './node/embeddings-bench';
import { describeMachine } from './node/machine';
import { runPipeline } from './node/pipeline-run';
import type { EmbeddingsResults } from './node/embeddings-report';
import {
  writeReport,
  type BenchReport,
  type DataCase,
  type GanCase,
  type GanSide,
  type KernelTotal,
  type MarkovCase,
  type SideRuns,
} from './node/report';

const ROOT = resolve(__dirname, '..');
const DATA_DIR = join(ROOT, '.stack', 'bench-data');
const DEFAULT_PYTHON = join(ROOT, '.stack', 'bench-venv', 'bin', 'python');
/** Rows in the five bundled files together. */
const BUNDLED_ROWS = 57_265;
/** Generous bounds that only stop a hung child. */
const CHILD_TIMEOUT_SECONDS = 30 * 60;
const PIPELINE_TIMEOUT_SECONDS = 40 * 60;
/** The number of top kernels listed in the TF.js profile. */
const PROFILE_KERNELS = 8;

interface Options {
  reps: number;
  sizes: Array<{ rows: number; reps: number }>;
  ganSteps: number;
  studySteps: number;
  bertTexts: number;
  backends: string[];
  data: boolean;
  markov: boolean;
  gan: boolean;
  embeddings: boolean;
  pipeline: boolean;
  out: string;
  python: string;
}

function positiveInteger(raw: string, flag: string): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`${flag} must be a positive integer, got "${raw}"`);
  return value;
}

const BACKENDS = ['tensorflow', 'wasm', 'cpu'];

function parseBackends(raw: string): string[] {
  const backends = raw.split(',').filter((name) => name.length > 0);
  const invalid = backends.filter((name) => !BACKENDS.includes(name));
  if (invalid.length > 0) {
    throw new Error(
      `--backends: invalid backend ${invalid.join(', ')}; use a list of ${BACKENDS.join(', ')}`,
    );
  }
  return backends;
}

function parseOptions(argv: string[]): Options {
  const { values } = parseArgs({
    args: argv,
    options: {
      reps: { type: 'string', default: '3' },
      sizes: { type: 'string', default: '200000:3,1000000:1' },
      'gan-steps': { type: 'string', default: '5' },
      'study-steps': { type: 'string', default: '2' },
      'bert-texts': { type: 'string', default: '256' },
      backends: { type: 'string', default: 'tensorflow,wasm,cpu' },
      'skip-data': { type: 'boolean', default: false },
      'skip-markov': { type: 'boolean', default: false },
      'skip-gan': { type: 'boolean', default: false },
      'skip-embeddings': { type: 'boolean', default: false },
      pipeline: { type: 'boolean', default: false },
      out: { type: 'string', default: join(ROOT, 'BENCHMARKS.md') },
      python: { type: 'string', default: DEFAULT_PYTHON },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(
      [
        'Usage: npm run bench -- [options]',
        '  --reps N            repetitions of each measurement on the bundled files, of the Markov step and of',
        '                      the word2vec fit, and timed passes of the BERT encoding (default 3)',
        '  --sizes R:N,...     larger corpora: R comments, measured N times each (default 200000:3,1000000:1); "" for none',
        '  --gan-steps N       timed GAN steps per implementation at the default preset shape (default 5)',
        '  --study-steps N     timed GAN steps at the study shape, seq 1200 and batch 8 (default 2)',
        '  --bert-texts N      bundled train texts, cut to 40 words, that each BERT pass encodes (default 256)',
        '  --backends LIST     TF.js backends to train on, and to encode with BERT except cpu (default tensorflow,wasm,cpu);',
        '                      tensorflow needs @tensorflow/tfjs-node and is reported as not measured without it',
        '  --skip-data, --skip-markov, --skip-gan, --skip-embeddings',
        '                      leave a measurement out; BENCHMARKS.md keeps its results from the earlier run',
        '  --pipeline          also run the whole default pipeline once through the CLI (4 to 6 minutes on 2 cores)',
        '  --out FILE          Markdown file whose generated block is rewritten (default BENCHMARKS.md)',
        '  --python PATH       interpreter of the reference side (default .stack/bench-venv/bin/python)',
        '',
      ].join('\n'),
    );
    process.exit(0);
  }
  const reps = positiveInteger(values.reps, '--reps');
  const sizes = values.sizes
    .split(',')
    .filter((part) => part.trim().length > 0)
    .map((part) => {
      const [rows = '', count] = part.split(':');
      return {
        rows: positiveInteger(rows, '--sizes'),
        reps: count === undefined ? reps : positiveInteger(count, '--sizes'),
      };
    });
  return {
    reps,
    sizes,
    ganSteps: positiveInteger(values['gan-steps'], '--gan-steps'),
    studySteps: positiveInteger(values['study-steps'], '--study-steps'),
    bertTexts: positiveInteger(values['bert-texts'], '--bert-texts'),
    backends: parseBackends(values.backends),
    data: !values['skip-data'],
    markov: !values['skip-markov'],
    gan: !values['skip-gan'],
    embeddings: !values['skip-embeddings'],
    pipeline: values.pipeline,
    out: resolve(values.out),
    python: values.python,
  };
}

/** Quotes an argument for a POSIX shell when it is empty or contains characters the shell would interpret. */
function shellQuote(argument: string): string {
  return /^[\w@%+=:,./-]+$/.test(argument) ? argument : `'${argument.replaceAll("'", "'\\''")}'`;
}

function progress(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

const nodeScript = (name: string): string[] => ['--import', 'tsx', join(__dirname, 'node', name)];
const pythonScript = (name: string): string => join(__dirname, 'python', name);

interface TimedResult {
  seconds: number;
  counts: Record<string, number>;
  fitSeconds?: number;
  generateSeconds?: number;
}

type PairRuns = SideRuns & { fitSeconds: number[]; generateSeconds: number[]; tokenizeSeconds: number[] };

function emptyRuns(): PairRuns {
  return {
    seconds: [],
    peakRssBytes: [],
    counts: {},
    fitSeconds: [],
    generateSeconds: [],
    tokenizeSeconds: [],
  };
}

/** Runs both sides `reps` times, alternating which goes first so slow drift in machine load hits both. */
async function measurePair(
  label: string,
  reps: number,
  product: { command: string; args: string[] },
  reference: { command: string; args: string[] },
): Promise<{ product: PairRuns; reference: PairRuns }> {
  const runs = { product: emptyRuns(), reference: emptyRuns() };
  for (let rep = 0; rep < reps; rep++) {
    const order = rep % 2 === 0 ? (['product', 'reference'] as const) : (['reference', 'product'] as const);
    for (const side of order) {
      const spec = side === 'product' ? product : reference;
      const { result } = await runChild<TimedResult>(spec.command, spec.args, {
        timeoutSeconds: CHILD_TIMEOUT_SECONDS,
      });
      const target = runs[side];
      target.seconds.push(result.seconds);
      target.peakRssBytes.push(result.peakRssBytes);
      target.counts = result.counts;
      if (result.fitSeconds !== undefined) target.fitSeconds.push(result.fitSeconds);
      if (result.generateSeconds !== undefined) target.generateSeconds.push(result.generateSeconds);
      if (result.counts.tokenizeSeconds !== undefined)
        target.tokenizeSeconds.push(result.counts.tokenizeSeconds);
      progress(`${label}: ${side} run ${rep + 1}/${reps} ${result.seconds.toFixed(2)} s`);
    }
  }
  return runs;
}

async function measureData(options: Options): Promise<DataCase[]> {
  const corpora = [
    { label: 'bundled files', rows: BUNDLED_ROWS, reps: options.reps, dir: join(ROOT, BUNDLED_DATA_DIR) },
  ];
  for (const size of options.sizes) {
    const dir = join(DATA_DIR, `rows-${size.rows}`);
    progress(`preparing the ${size.rows.toLocaleString('en-US')}-comment corpus in ${dir}`);
    await ensureCorpus(size.rows, dir);
    corpora.push({
      label: `${size.rows.toLocaleString('en-US')} comments`,
      rows: size.rows,
      reps: size.reps,
      dir,
    });
  }
  const cases: DataCase[] = [];
  for (const corpus of corpora) {
    const runs = await measurePair(
      `data step, ${corpus.label}`,
      corpus.reps,
      { command: process.execPath, args: [...nodeScript('data-step.ts'), '--dir', corpus.dir] },
      { command: options.python, args: [pythonScript('data_step.py'), '--dir', corpus.dir] },
    );
    // The bundled corpus's row count comes from the product's reader, which is the one the pipeline uses.
    const rows = runs.product.counts.rowsRead ?? corpus.rows;
    cases.push({ label: corpus.label, rows, ...runs });
  }
  return cases;
}

/** Token files of the bundled corpus: every kept text, and the texts of the train split. */
interface TokenFiles {
  all: string;
  train: string;
}

let tokenFiles: Promise<TokenFiles> | undefined;

/** Writes the token files with the product's data step, once per run. */
function writeTokenFiles(): Promise<TokenFiles> {
  tokenFiles ??= (async () => {
    const files = {
      all: join(DATA_DIR, 'tokens-bundled.txt'),
      train: join(DATA_DIR, 'tokens-bundled-train.txt'),
    };
    progress(`writing the tokenized bundled corpus to ${files.all} and ${files.train} (untimed)`);
    await runChild(
      process.execPath,
      [
        ...nodeScript('data-step.ts'),
        '--dir',
        join(ROOT, BUNDLED_DATA_DIR),
        '--tokens-out',
        files.all,
        '--train-tokens-out',
        files.train,
      ],
      { timeoutSeconds: CHILD_TIMEOUT_SECONDS },
    );
    return files;
  })();
  return tokenFiles;
}

async function measureMarkov(options: Options): Promise<MarkovCase> {
  const tokens = (await writeTokenFiles()).all;
  return measurePair(
    'Markov fit + 1,000 sentences',
    options.reps,
    { command: process.execPath, args: [...nodeScript('markov-step.ts'), '--tokens', tokens] },
    { command: options.python, args: [pythonScript('markov_step.py'), '--tokens', tokens] },
  );
}

/** Installs the default BERT model with infra/scripts/install-bert.sh unless its folder is complete. */
function ensureBertModel(): string {
  const model = join(ROOT, DEFAULT_BERT_MODEL);
  const complete = ['config.json', 'vocab.txt', 'model.safetensors'].every((file) =>
    existsSync(join(model, file)),
  );
  if (!complete) {
    progress(`installing the BERT model into ${model} with infra/scripts/install-bert.sh`);
    execFileSync('bash', [join(ROOT, 'infra', 'scripts', 'install-bert.sh')], {
      cwd: ROOT,
      stdio: ['ignore', process.stderr, process.stderr],
    });
  }
  return model;
}

async function measureEmbeddings(options: Options): Promise<EmbeddingsResults> {
  const settings: EmbeddingsSettings = {
    python: options.python,
    reps: options.reps,
    bertTexts: options.bertTexts,
    backends: options.backends,
    trainTokens: (await writeTokenFiles()).train,
    model: ensureBertModel(),
    dataDir: DATA_DIR,
    timeoutSeconds: CHILD_TIMEOUT_SECONDS,
    progress,
  };
  const bert = await measureBert(settings);
  const word2vec = await measureWord2vec(settings);
  return { bert, word2vec };
}

interface GanResult {
  /** Why the backend could not be loaded; set instead of the step times. */
  unavailable?: string;
  stepSeconds: number[];
  threads?: number;
  profile?: { stepMs: number; kernelMs: number; kernels: KernelTotal[] };
}

async function measureGanCase(
  options: Options,
  label: string,
  seqLen: number,
  batchSize: number,
  steps: number,
  profile: boolean,
): Promise<GanCase> {
  const shape = ['--seq-len', String(seqLen), '--batch', String(batchSize), '--steps', String(steps)];
  const item: GanCase = { label, seqLen, batchSize, sides: [], skipped: [] };
  const run = async (name: string, role: GanSide['role'], command: string, args: string[]): Promise<void> => {
    try {
      const { result } = await runChild<GanResult>(command, args, { timeoutSeconds: CHILD_TIMEOUT_SECONDS });
      if (result.unavailable !== undefined) {
        item.skipped.push(`${name}: ${result.unavailable}`);
        progress(`GAN ${label}: ${name} is not available: ${result.unavailable}`);
        return;
      }
      const side: GanSide = {
        name,
        role,
        stepSeconds: result.stepSeconds,
        peakRssBytes: result.peakRssBytes,
        profile: result.profile,
      };
      item.sides.push(side);
      const median =
        [...result.stepSeconds].sort((a, b) => a - b)[Math.floor(result.stepSeconds.length / 2)] ?? 0;
      progress(`GAN ${label}: ${name} ${median.toFixed(3)} s per step (median of ${steps})`);
    } catch (error) {
      item.skipped.push(`${name}: ${(error as Error).message.split('\n')[0]}`);
      progress(`GAN ${label}: ${name} failed: ${(error as Error).message}`);
    }
  };
  const profileArgs = profile ? ['--profile', String(PROFILE_KERNELS)] : [];
  for (const backend of options.backends) {
    await run(`TF.js ${backend}`, 'product', process.execPath, [
      ...nodeScript('gan-step.ts'),
      '--backend',
      backend,
      ...shape,
      ...profileArgs,
    ]);
  }
  const machineThreads = availableParallelism();
  await run('PyTorch, default threads', 'baseline', options.python, [pythonScript('gan_step.py'), ...shape]);
  if (machineThreads > 1) {
    await run(`PyTorch, ${machineThreads} threads`, 'reference', options.python, [
      pythonScript('gan_step.py'),
      ...shape,
      '--threads',
      String(machineThreads),
    ]);
  }
  return item;
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const options = parseOptions(argv);
  // The reference scripts import bench/python/common.py, and git does not ignore a __pycache__ there.
  process.env.PYTHONDONTWRITEBYTECODE ??= '1';
  const startedAt = new Date();
  const start = performance.now();
  mkdirSync(DATA_DIR, { recursive: true });
  const machine = describeMachine(options.python);
  progress(
    `${machine.cpuModel}, ${machine.cores} cores; Node ${machine.node}, Python ${machine.python}, PyTorch ${machine.torch}`,
  );

  const report: BenchReport = {
    command: `npm run bench${argv.length > 0 ? ` -- ${argv.map(shellQuote).join(' ')}` : ''}`,
    startedAt,
    totalSeconds: 0,
    loadAverageStart: loadavg()[0] ?? 0,
    loadAverageEnd: 0,
    machine,
    data: [],
    gan: [],
  };
  if (options.data) report.data = await measureData(options);
  if (options.markov) report.markov = await measureMarkov(options);
  if (options.gan) {
    report.gan.push(await measureGanCase(options, 'default preset', 40, 64, options.ganSteps, true));
    // tf.profile in tfjs 4.22 overflows the call stack on the 1,200-step unrolled graph, so the study shape is not profiled.
    report.gan.push(await measureGanCase(options, 'study', 1200, 8, options.studySteps, false));
  }
  if (options.embeddings) report.embeddings = await measureEmbeddings(options);
  if (options.pipeline) {
    progress('running the whole default pipeline through the CLI on a fresh storage prefix');
    try {
      report.pipeline = await runPipeline(ROOT, DATA_DIR, PIPELINE_TIMEOUT_SECONDS);
    } catch (error) {
      report.pipeline = { error: (error as Error).message };
      progress(`pipeline run failed: ${(error as Error).message}`);
    }
  }
  report.totalSeconds = (performance.now() - start) / 1000;
  report.loadAverageEnd = loadavg()[0] ?? 0;
  await writeReport(options.out, report);
  progress(`wrote ${options.out} after ${(report.totalSeconds / 60).toFixed(1)} minutes`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
