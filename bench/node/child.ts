import { spawn } from 'node:child_process';
import { RESULT_PREFIX } from './result';

/** Output of a benchmark child process: its parsed result line and its wall time as seen from outside. */
export interface ChildResult<T> {
  result: T & { peakRssBytes: number };
  wallSeconds: number;
}

/**
 * Runs one benchmark child to completion and parses its result line. Stdout lines other than the
 * result line are dropped. On failure the error carries the last lines of stderr, which contain
 * error messages and stack traces only: the children never print comment text.
 */
export function runChild<T>(
  command: string,
  args: readonly string[],
  options: { timeoutSeconds: number; env?: NodeJS.ProcessEnv },
): Promise<ChildResult<T>> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const child = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...options.env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      // Keeping only the tail bounds memory when a child logs warnings in a loop.
      stderr = (stderr + chunk).slice(-20_000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutSeconds * 1000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`failed to start ${command}: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const wallSeconds = (performance.now() - start) / 1000;
      const line = stdout.split('\n').find((candidate) => candidate.startsWith(RESULT_PREFIX));
      if (code !== 0 || line === undefined) {
        const outcome =
          signal === 'SIGKILL'
            ? `timed out after ${options.timeoutSeconds} s`
            : `exited with ${signal ?? code}`;
        const tail = stderr.trim().split('\n').slice(-15).join('\n');
        reject(new Error(`${command} ${args.join(' ')} ${outcome} without a result line.\n${tail}`));
        return;
      }
      resolve({
        result: JSON.parse(line.slice(RESULT_PREFIX.length)) as T & { peakRssBytes: number },
        wallSeconds,
      });
    });
  });
}
