import * as os from 'node:os';
import * as path from 'node:path';
import * as tfjs from '@tensorflow/tfjs';

/** The `@tensorflow/tfjs` namespace; every backend registers into this one instance. */
export type TensorFlow = typeof tfjs;

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'wasm' | 'cpu';

export type PreferredBackend = 'auto' | 'tensorflow' | 'wasm' | 'cpu';

export interface LoadTensorFlowOptions {
  /**
   * Throw unless the native GPU backend loads, instead of falling back to a CPU backend.
   * `preferred` is ignored when this is set.
   */
  requireGpu?: boolean;
  /**
   * First backend to try. The backends after it in the order tensorflow-gpu, tensorflow, wasm, cpu
   * are the fallbacks, so `auto` starts at tensorflow-gpu and `tensorflow` at the native CPU build.
   */
  preferred?: PreferredBackend;
}

export interface LoadedTensorFlow {
  tf: TensorFlow;
  backend: BackendName;
  /** One entry per backend tried before the chosen one, saying why it was skipped. */
  reasons: string[];
}

const GPU_PACKAGE = '@tensorflow/tfjs-node-gpu';
const NODE_PACKAGE = '@tensorflow/tfjs-node';
const WASM_PACKAGE = '@tensorflow/tfjs-backend-wasm';

type Attempt = { ok: true } | { ok: false; reason: string };

/**
 * Selects and initialises the fastest available TensorFlow.js backend and makes it the active one.
 *
 * The native packages are optional, so they are loaded with a dynamic `import()` of a computed
 * name and a missing package only adds an entry to `reasons`. The tfjs engine and its backend choice are process-wide
 * state inside tfjs itself, so the last call wins for every model in the process.
 */
export async function loadTensorFlow(options: LoadTensorFlowOptions = {}): Promise<LoadedTensorFlow> {
  const reasons: string[] = [];

  if (options.requireGpu === true) {
    const attempt = await tryNative(GPU_PACKAGE);
    if (attempt.ok) return { tf: tfjs, backend: 'tensorflow-gpu', reasons };
    throw new Error(
      `GPU backend missing: requireGpu is set but ${GPU_PACKAGE} could not be used (${attempt.reason}). ` +
        `Install ${GPU_PACKAGE} (same version as @tensorflow/tfjs) on a Linux machine with an NVIDIA GPU, ` +
        'CUDA and cuDNN, or drop requireGpu to train on a CPU backend.',
    );
  }

  const order: BackendName[] = ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];
  const preferred = options.preferred ?? 'auto';
  const start = preferred === 'auto' ? 0 : order.indexOf(preferred);
  for (const name of order.slice(start)) {
    const attempt = await tryBackend(name);
    if (attempt.ok) return { tf: tfjs, backend: name, reasons };
    reasons.push(`${name}: ${attempt.reason}`);
  }
  throw new Error(`No TensorFlow.js backend could be initialised: ${reasons.join('; ')}`);
}

async function tryBackend(name: BackendName): Promise<Attempt> {
  switch (name) {
    case 'tensorflow-gpu':
      return tryNative(GPU_PACKAGE);
    case 'tensorflow':
      return tryNative(NODE_PACKAGE);
    case 'wasm':
      return tryWasm();
    case 'cpu':
      return activate('cpu');
  }
}

/**
 * Loads a native tfjs-node build, which registers the `tensorflow` backend into the
 * `@tensorflow/tfjs` it requires. When npm has installed a second copy of tfjs for it, the backend
 * lands in that copy, where this module's namespace cannot find it. That case becomes a reason.
 */
async function tryNative(packageName: string): Promise<Attempt> {
  if (!isInstalled(packageName)) return { ok: false, reason: `${packageName} is not installed` };
  try {
    await import(packageName);
  } catch (error) {
    return { ok: false, reason: `${packageName} failed to load: ${errorMessage(error)}` };
  }
  if (tfjs.findBackendFactory('tensorflow') == null) {
    return {
      ok: false,
      reason:
        `${packageName} loaded but registered its backend into a different copy of @tensorflow/tfjs; ` +
        'run `npm dedupe` so that both resolve the same @tensorflow/tfjs',
    };
  }
  // NOTE: a tfjs-node-gpu build that loads also runs when CUDA finds no device, and then
  // TensorFlow places every op on the CPU. tfjs exposes no device list to detect that.
  return activate('tensorflow');
}

/**
 * Initialises the WebAssembly backend from the .wasm binaries inside the installed package.
 * tfjs-backend-wasm 4.22 never enables its threaded build under Node, so it runs one XNNPACK
 * thread whatever `setThreadsCount` requests. The request is still made so that a later version
 * that supports threads in Node uses every core.
 */
async function tryWasm(): Promise<Attempt> {
  if (!isInstalled(WASM_PACKAGE)) return { ok: false, reason: `${WASM_PACKAGE} is not installed` };
  try {
    const wasm = await import('@tensorflow/tfjs-backend-wasm');
    const packageDir = path.dirname(require.resolve(`${WASM_PACKAGE}/package.json`));
    // The trailing separator matters: tfjs appends the binary's file name to this prefix.
    wasm.setWasmPaths(path.join(packageDir, 'dist') + path.sep);
    wasm.setThreadsCount(os.availableParallelism());
  } catch (error) {
    return { ok: false, reason: `${WASM_PACKAGE} failed to load: ${errorMessage(error)}` };
  }
  return activate('wasm');
}

async function activate(backendName: string): Promise<Attempt> {
  try {
    const ok = await tfjs.setBackend(backendName);
    if (!ok) return { ok: false, reason: `tf.setBackend('${backendName}') returned false` };
    await tfjs.ready();
    return { ok: true };
  } catch (error) {
    return { ok: false, reason: `initialising the ${backendName} backend failed: ${errorMessage(error)}` };
  }
}

function isInstalled(packageName: string): boolean {
  try {
    require.resolve(packageName);
    return true;
  } catch {
    return false;
  }
}

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
