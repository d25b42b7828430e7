/**
 * The line protocol between `bench/run.ts` and the processes it starts: each child prints exactly one
 * line that starts with RESULT_PREFIX and continues with a JSON object. The Python children in
 * bench/python print the same line.
 */
export const RESULT_PREFIX = 'BENCH_RESULT ';

/** Peak resident set size of this process so far, in bytes (Linux reports maxRSS in KiB). */
export function peakRssBytes(): number {
  return process.resourceUsage().maxRSS * 1024;
}

/** Prints the result line, adding this process's peak RSS. */
export function emitResult(result: Record<string, unknown>): void {
  process.stdout.write(`${RESULT_PREFIX}${JSON.stringify({ ...result, peakRssBytes: peakRssBytes() })}\n`);
}
