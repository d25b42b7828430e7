/**
 * Times GAN training steps of the product's `GanTrainer` on one TensorFlow.js backend.
 *
 *   node --import tsx bench/node/gan-step.ts --backend wasm --seq-len 40 --batch 64 --steps 5 [--profile 8]
 *
 * `--backend` is one of tensorflow (the native @tensorflow/tfjs-node), wasm or cpu. When it cannot be
 * loaded, the result line carries `unavailable` with the reason instead of step times.
 *
 * Runs one untimed warm-up step, then `--steps` timed steps, each on a fresh synthetic batch with
 * per-sample lengths so the masked LSTM path that the pipeline uses is the one measured. With
 * `--profile N` it also runs one step under `tf.profile` and reports the N kernels with the most
 * total time. Prints one result line (see ./result.ts) with the step times in seconds.
 */
import { parseArgs } from 'node:util';
import { Random } from '../../lib/random';
import { loadTensorFlow, type PreferredBackend, type TensorFlow } from '../../ml/backend';
import { resolveGanConfig, type GanConfig } from '../../ml/config';
import { GanTrainer, type RealBatch } from '../../ml/gan';
import { emitResult } from './result';

/** Features per token: the pipeline's scalar embedding gives one. */
const INPUT_SIZE = 1;

function syntheticBatch(config: GanConfig, random: Random): RealBatch {
  const values = new Float32Array(config.batchSize * config.seqLen * INPUT_SIZE);
  for (let i = 0; i < values.length; i++) values[i] = random.nextGaussian();
  const lengths = Array.from({ length: config.batchSize }, () => 1 + random.nextInt(config.seqLen));
  return { values, lengths };
}

interface KernelTotal {
  name: string;
  calls: number;
  ms: number;
}

/** Runs one step under tf.profile and sums kernel time by kernel name, largest first. */
async function profileStep(
  tf: TensorFlow,
  trainer: GanTrainer,
  batch: RealBatch,
  top: number,
): Promise<{ stepMs: number; kernelMs: number; kernels: KernelTotal[] }> {
  const start = performance.now();
  const info = await tf.profile(() => {
    trainer.trainStep(batch);
  });
  const stepMs = performance.now() - start;
  const totals = new Map<string, KernelTotal>();
  let kernelMs = 0;
  for (const kernel of info.kernels) {
    // kernelTimeMs is a number on the CPU backends; the WebGL backend can return an error object instead.
    const ms = typeof kernel.kernelTimeMs === 'number' ? kernel.kernelTimeMs : 0;
    kernelMs += ms;
    const total = totals.get(kernel.name) ?? { name: kernel.name, calls: 0, ms: 0 };
    total.calls += 1;
    total.ms += ms;
    totals.set(kernel.name, total);
  }
  const kernels = [...totals.values()].sort((a, b) => b.ms - a.ms).slice(0, top);
  return { stepMs, kernelMs, kernels };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string' },
      'seq-len': { type: 'string' },
      batch: { type: 'string' },
      steps: { type: 'string' },
      profile: { type: 'string', default: '0' },
    },
  });
  const backend = values.backend as PreferredBackend;
  const seqLen = Number(values['seq-len']);
  const batchSize = Number(values.batch);
  const steps = Number(values.steps);
  const profileTop = Number(values.profile);
  if (![seqLen, batchSize, steps].every((n) => Number.isInteger(n) && n >= 1)) {
    throw new Error('--seq-len, --batch and --steps must be positive integers');
  }

  const loaded = await loadTensorFlow({ preferred: backend });
  if (loaded.backend !== backend) {
    // An optional backend that is not installed is a result to report, not a failure of the benchmark.
    emitResult({
      backend,
      unavailable: loaded.reasons.join('; ') || `loadTensorFlow chose ${loaded.backend}`,
    });
    return;
  }
  const { tf } = loaded;
  // The default preset's optimizer and dropout; only the shape changes between the measured cases.
  const config = resolveGanConfig('default', { seqLen, batchSize });
  const trainer = new GanTrainer(tf, config, INPUT_SIZE, { seed: 1 });
  const random = Random.fromSeed(2);
  try {
    trainer.trainStep(syntheticBatch(config, random));
    const stepSeconds: number[] = [];
    for (let step = 0; step < steps; step++) {
      const batch = syntheticBatch(config, random);
      const start = performance.now();
      trainer.trainStep(batch);
      stepSeconds.push((performance.now() - start) / 1000);
    }
    const profile =
      profileTop > 0 ? await profileStep(tf, trainer, syntheticBatch(config, random), profileTop) : undefined;
    emitResult({ backend: loaded.backend, seqLen, batchSize, stepSeconds, profile });
  } finally {
    trainer.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
