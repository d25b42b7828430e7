import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import * as os from 'node:os';
import { join } from 'node:path';

/** The machine and software versions a benchmark run used, for the report. */
export interface MachineInfo {
  cpuModel: string;
  cores: number;
  memoryBytes: number;
  os: string;
  node: string;
  tfjs: string;
  python: string;
  numpy: string;
  pandas: string;
  spacy: string;
  torch: string;
  /** gensim's version, or "not installed". */
  gensim: string;
  /** Intra-op threads PyTorch uses when the script does not set them. */
  torchThreads: number;
  /** The library behind the system's libblas.so.3, which Debian's PyTorch calls for matrix products. */
  blas: string;
}

function cpuModel(): string {
  // /proc/cpuinfo's "model name" is the full marketing name; os.cpus() shortens it on some kernels.
  try {
    const match = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (match?.[1]) return match[1].trim();
  } catch {
    // Not Linux: fall through to what Node reports.
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

function systemBlas(): string {
  const path = '/usr/lib/x86_64-linux-gnu/libblas.so.3';
  return existsSync(path) ? realpathSync(path) : 'not found at /usr/lib/x86_64-linux-gnu/libblas.so.3';
}

function packageVersion(name: string): string {
  const file = join(__dirname, '..', '..', 'node_modules', name, 'package.json');
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

/** Collects the machine description; `python` is the reference side's interpreter. */
export function describeMachine(python: string): MachineInfo {
  const versions = JSON.parse(
    execFileSync(python, [join(__dirname, '..', 'python', 'versions.py')], { encoding: 'utf8' }),
  ) as Pick<MachineInfo, 'python' | 'numpy' | 'pandas' | 'spacy' | 'torch' | 'gensim' | 'torchThreads'>;
  return {
    cpuModel: cpuModel(),
    cores: os.availableParallelism(),
    memoryBytes: os.totalmem(),
    os: `${os.type()} ${os.release()}`,
    node: process.versions.node,
    tfjs: packageVersion('@tensorflow/tfjs'),
    ...versions,
    blas: systemBlas(),
  };
}
