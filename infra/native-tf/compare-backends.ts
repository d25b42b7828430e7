/**
 * Trains the GAN with the same seed and batches on the native `tensorflow` backend and on `wasm`,
 * and prints how far their losses and scores differ and the median time of a step on each.
 *
 *   npx tsx infra/native-tf/compare-backends.ts [--steps 20] [--input-size 1] [--batch-size 64]
 *
 * Needs @tensorflow/tfjs-node in node_modules (infra/native-tf/build.sh --install-into-repo).
 * Every random draw comes from the trainer's seeded `Random`, so both runs start from equal weights
 * and see equal noise and dropout masks, and any difference comes from the kernels.
 */
import { parseArgs } from 'node:util';
import { Random } from '../../lib/random';
import { loadTensorFlow, type BackendName } from '../../ml/backend';
import { resolveGanConfig, type GanConfig } from '../../ml/config';
import { GanTrainer, type RealBatch, type StepResult } from '../../ml/gan';

const COMPARED_FIELDS = ['dLoss', 'gLoss', 'dRealScore', 'dFakeScore', 'dGradNorm', 'gGradNorm'] as const;

interface BackendRun {
  backend: BackendName;
  results: StepResult[];
  /** Step times in ms, without the first (warm-up) step. */
  timedMs: number[];
}

function syntheticBatches(config: GanConfig, inputSize: number, count: number): RealBatch[] {
  const random = Random.fromSeed(2);
  return Array.from({ length: count }, () => {
    const values = new Float32Array(config.batchSize * config.seqLen * inputSize);
    for (let i = 0; i < values.length; i++) values[i] = random.nextGaussian();
    const lengths = Array.from({ length: config.batchSize }, () => 1 + random.nextInt(config.seqLen));
    return { values, lengths };
  });
}

async function runOn(
  requested: 'tensorflow' | 'wasm',
  config: GanConfig,
  inputSize: number,
  batches: RealBatch[],
): Promise<BackendRun> {
  const { tf, backend, reasons } = await loadTensorFlow({ preferred: requested });
  if (backend !== requested) {
    throw new Error(
      `the ${requested} backend is not available, got ${backend} (${reasons.join('; ')}). ` +
        'For tensorflow, run infra/native-tf/build.sh --install-into-repo first.',
    );
  }
  const trainer = new GanTrainer(tf, config, inputSize, { seed: 1 });
  try {
    const results: StepResult[] = [];
    const times: number[] = [];
    for (const batch of batches) {
      const start = performance.now();
      results.push(trainer.trainStep(batch));
      times.push(performance.now() - start);
    }
    return { backend, results, timedMs: times.slice(1) };
  } finally {
    trainer.dispose();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function maxRelativeDifference(native: StepResult[], wasm: StepResult[]): number {
  let max = 0;
  native.forEach((nativeStep, i) => {
    const wasmStep = wasm[i];
    if (wasmStep === undefined) return;
    for (const field of COMPARED_FIELDS) {
      const denominator = Math.max(Math.abs(wasmStep[field]), 1e-12);
      max = Math.max(max, Math.abs(nativeStep[field] - wasmStep[field]) / denominator);
    }
  });
  return max;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      steps: { type: 'string', default: '20' },
      'input-size': { type: 'string', default: '1' },
      'batch-size': { type: 'string' },
    },
  });
  const steps = Number(values.steps);
  const inputSize = Number(values['input-size']);
  if (!Number.isInteger(steps) || steps < 1)
    throw new Error(`--steps must be a positive integer, got ${values.steps}`);
  if (!Number.isInteger(inputSize) || inputSize < 1) {
    throw new Error(`--input-size must be a positive integer, got ${values['input-size']}`);
  }
  const batchSize = values['batch-size'] === undefined ? undefined : Number(values['batch-size']);
  if (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize < 1)) {
    throw new Error(`--batch-size must be a positive integer, got ${values['batch-size']}`);
  }
  const overrides = batchSize === undefined ? {} : { batchSize };
  const config = resolveGanConfig('default', overrides);
  // One extra batch for the untimed warm-up step.
  const batches = syntheticBatches(config, inputSize, steps + 1);

  const native = await runOn('tensorflow', config, inputSize, batches);
  const wasm = await runOn('wasm', config, inputSize, batches);

  console.log(
    `seqLen ${config.seqLen}, batch ${config.batchSize}, inputSize ${inputSize}, hidden ${config.hiddenSize}, ` +
      `layers ${config.layers}, ${steps} timed steps after one warm-up step`,
  );
  for (const run of [native, wasm]) {
    const ms = median(run.timedMs);
    console.log(
      `${run.backend.padEnd(10)} median ${ms.toFixed(0)} ms/step, ${(1000 / ms).toFixed(2)} steps/s`,
    );
  }
  const difference = maxRelativeDifference(native.results, wasm.results);
  console.log(
    `max relative difference over ${native.results.length} steps of ${COMPARED_FIELDS.join(', ')}: ` +
      difference.toExponential(2),
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
