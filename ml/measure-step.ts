/**
 * Times GAN training steps per backend and configuration, to size the default preset.
 *
 *   npx tsx ml/measure-step.ts [--backends wasm,cpu] [--steps 5] [--input-size 12] [--cases default,study-40]
 *
 * Each case builds a fresh trainer, runs one untimed warm-up step, then times `--steps` steps
 * on synthetic batches with per-sample lengths, so the masked LSTM path is the one measured, and
 * reports the median step time.
 */
import { parseArgs } from 'node:util';
import { Random } from '../lib/random';
import { loadTensorFlow, type PreferredBackend, type TensorFlow } from './backend';
import { resolveGanConfig, type GanConfig } from './config';
import { GanTrainer, type RealBatch } from './gan';

/** Training-set size of the comment corpus the estimates refer to, in texts. */
const CORPUS_TRAIN_TEXTS = 36_000;

interface MeasureCase {
  name: string;
  config: GanConfig;
}

function measureCases(): MeasureCase[] {
  const study = (seqLen: number, batchSize: number): GanConfig =>
    resolveGanConfig('study', { seqLen, batchSize, objective: 'standard' });
  return [
    { name: 'default', config: resolveGanConfig('default') },
    { name: 'default-seq32', config: resolveGanConfig('default', { seqLen: 32 }) },
    { name: 'default-seq48', config: resolveGanConfig('default', { seqLen: 48 }) },
    { name: 'default-batch32', config: resolveGanConfig('default', { batchSize: 32 }) },
    { name: 'default-batch128', config: resolveGanConfig('default', { batchSize: 128 }) },
    { name: 'study-32', config: study(32, 500) },
    { name: 'study-40', config: study(40, 500) },
  ];
}

function syntheticBatch(config: GanConfig, inputSize: number, random: Random): RealBatch {
  const values = new Float32Array(config.batchSize * config.seqLen * inputSize);
  for (let i = 0; i < values.length; i++) values[i] = random.nextGaussian();
  const lengths = Array.from({ length: config.batchSize }, () => 1 + random.nextInt(config.seqLen));
  return { values, lengths };
}

function measureCase(tf: TensorFlow, measured: MeasureCase, inputSize: number, steps: number): number {
  const trainer = new GanTrainer(tf, measured.config, inputSize, { seed: 1 });
  const random = Random.fromSeed(2);
  try {
    trainer.trainStep(syntheticBatch(measured.config, inputSize, random));
    const batches = Array.from({ length: steps }, () => syntheticBatch(measured.config, inputSize, random));
    const times = batches.map((batch) => {
      const start = performance.now();
      trainer.trainStep(batch);
      return performance.now() - start;
    });
    // The median resists the slow outliers that other processes on a shared machine cause.
    times.sort((a, b) => a - b);
    return times[Math.floor(times.length / 2)] ?? Number.NaN;
  } finally {
    trainer.dispose();
  }
}

function formatRow(cells: (string | number)[]): string {
  return cells.map((cell) => String(cell).padStart(12)).join(' ');
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backends: { type: 'string', default: 'wasm,cpu' },
      steps: { type: 'string', default: '5' },
      'input-size': { type: 'string', default: '12' },
      cases: { type: 'string' },
    },
  });
  const steps = Number(values.steps);
  const inputSize = Number(values['input-size']);
  if (!Number.isInteger(steps) || steps < 1)
    throw new Error(`--steps must be a positive integer, got ${values.steps}`);
  if (!Number.isInteger(inputSize) || inputSize < 1) {
    throw new Error(`--input-size must be a positive integer, got ${values['input-size']}`);
  }
  const wanted = values.cases?.split(',');
  const cases = measureCases().filter((measured) => wanted === undefined || wanted.includes(measured.name));
  if (cases.length === 0)
    throw new Error(
      `--cases matched none of ${measureCases()
        .map((c) => c.name)
        .join(', ')}`,
    );

  console.log(`inputSize ${inputSize}, median of ${steps} timed steps per case after one warm-up step`);
  console.log(
    formatRow(['backend', 'case', 'seqLen', 'batch', 'ms/step', 'steps/s', 'samples/s', 'min/epoch']),
  );
  for (const requested of values.backends.split(',')) {
    const { tf, backend, reasons } = await loadTensorFlow({ preferred: requested as PreferredBackend });
    if (backend !== requested) {
      console.log(`skipping ${requested}: got ${backend} instead (${reasons.join('; ')})`);
      continue;
    }
    for (const measured of cases) {
      const msPerStep = measureCase(tf, measured, inputSize, steps);
      const { seqLen, batchSize, maxStepsPerEpoch } = measured.config;
      const fullEpochSteps = Math.floor(CORPUS_TRAIN_TEXTS / batchSize);
      const epochSteps =
        maxStepsPerEpoch === null ? fullEpochSteps : Math.min(maxStepsPerEpoch, fullEpochSteps);
      console.log(
        formatRow([
          backend,
          measured.name,
          seqLen,
          batchSize,
          msPerStep.toFixed(0),
          (1000 / msPerStep).toFixed(2),
          ((1000 * batchSize) / msPerStep).toFixed(0),
          ((epochSteps * msPerStep) / 60_000).toFixed(1),
        ]),
      );
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
