import { describe, expect, it } from 'vitest';
import { Random } from '../lib/random';
import { loadTensorFlow } from '../ml/backend';
import { resolveGanConfig } from '../ml/config';
import { GanTrainer, type RealBatch, type StepResult } from '../ml/gan';

/** True when infra/native-tf/build.sh --install-into-repo has put a built tfjs-node in node_modules. */
function nativeInstalled(): boolean {
  try {
    require.resolve('@tensorflow/tfjs-node');
    return true;
  } catch {
    return false;
  }
}

const config = resolveGanConfig('default', { seqLen: 12, batchSize: 16, hiddenSize: 8 });

function batches(count: number): RealBatch[] {
  const random = Random.fromSeed(2);
  return Array.from({ length: count }, () => {
    const values = new Float32Array(config.batchSize * config.seqLen);
    for (let i = 0; i < values.length; i++) values[i] = random.next();
    const lengths = Array.from({ length: config.batchSize }, () => 1 + random.nextInt(config.seqLen));
    return { values, lengths };
  });
}

async function train(backend: 'tensorflow' | 'wasm', steps: RealBatch[]): Promise<StepResult[]> {
  const loaded = await loadTensorFlow({ preferred: backend });
  expect(loaded.backend).toBe(backend);
  const trainer = new GanTrainer(loaded.tf, config, 1, { seed: 1 });
  try {
    return steps.map((batch) => trainer.trainStep(batch));
  } finally {
    trainer.dispose();
  }
}

describe.skipIf(!nativeInstalled())('native TensorFlow backend', () => {
  it('matches WebAssembly losses within float32 tolerance', async () => {
    const steps = batches(5);
    const native = await train('tensorflow', steps);
    const wasm = await train('wasm', steps);
    for (let step = 0; step < steps.length; step++) {
      for (const field of ['dLoss', 'gLoss', 'dRealScore', 'dFakeScore'] as const) {
        const a = native[step]![field];
        const b = wasm[step]![field];
        expect(Math.abs(a - b) / Math.max(1e-6, Math.abs(b))).toBeLessThan(1e-4);
      }
    }
  }, 120_000);
});
