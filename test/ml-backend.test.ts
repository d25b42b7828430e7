import { describe, expect, it } from 'vitest';
import { loadTensorFlow, type BackendName } from '../ml/backend';

const BACKEND_ORDER: BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

function isInstalled(packageName: string): boolean {
  try {
    require.resolve(packageName);
    return true;
  } catch {
    return false;
  }
}

describe('loadTensorFlow', () => {
  it('auto picks a backend and explains skips', async () => {
    const { tf, backend, reasons } = await loadTensorFlow();
    expect(BACKEND_ORDER).toContain(backend);
    expect(tf.getBackend()).toBe(backend.startsWith('tensorflow') ? 'tensorflow' : backend);
    // One reason for every backend ahead of the chosen one, each naming that backend.
    const skipped = BACKEND_ORDER.slice(0, BACKEND_ORDER.indexOf(backend));
    expect(reasons).toHaveLength(skipped.length);
    skipped.forEach((name, i) => expect(reasons[i]).toMatch(new RegExp(`^${name}: `)));
  });

  it('explains a missing native package', async () => {
    const { reasons } = await loadTensorFlow({ preferred: 'auto' });
    if (!isInstalled('@tensorflow/tfjs-node-gpu')) {
      expect(reasons[0]).toBe('tensorflow-gpu: @tensorflow/tfjs-node-gpu is not installed');
    }
    if (!isInstalled('@tensorflow/tfjs-node') && reasons.length > 1) {
      expect(reasons[1]).toBe('tensorflow: @tensorflow/tfjs-node is not installed');
    }
  });

  it('loads wasm from the package binaries', async () => {
    const { tf, backend, reasons } = await loadTensorFlow({ preferred: 'wasm' });
    expect(reasons).toEqual([]);
    expect(backend).toBe('wasm');
    const sum = tf.tidy(() => tf.add(tf.tensor1d([1, 2]), tf.tensor1d([3, 4])).arraySync());
    expect(sum).toEqual([4, 6]);
  });

  it('loads cpu when preferred', async () => {
    const { tf, backend, reasons } = await loadTensorFlow({ preferred: 'cpu' });
    expect(backend).toBe('cpu');
    expect(reasons).toEqual([]);
    expect(tf.getBackend()).toBe('cpu');
  });

  it.skipIf(isInstalled('@tensorflow/tfjs-node-gpu'))(
    'requireGpu rejects without the GPU package',
    async () => {
      const failure = loadTensorFlow({ requireGpu: true });
      await expect(failure).rejects.toThrow(/GPU backend missing/);
      await expect(failure).rejects.toThrow(/@tensorflow\/tfjs-node-gpu is not installed/);
      await expect(failure).rejects.toThrow(/Install @tensorflow\/tfjs-node-gpu .* CUDA/);
    },
  );
});
