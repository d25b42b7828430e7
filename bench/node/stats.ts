/** Summary statistics and Markdown formatting for the benchmark report. */

export interface Summary {
  min: number;
  median: number;
  max: number;
  count: number;
}

/** Returns the minimum, median (mean of the middle two for an even count) and maximum of `values`. */
export function summarize(values: readonly number[]): Summary {
  if (values.length === 0) throw new RangeError('cannot summarize an empty list of measurements');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1 ? sorted[middle]! : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
  return { min: sorted[0]!, median, max: sorted[sorted.length - 1]!, count: sorted.length };
}

/** Formats a number with `digits` significant digits, or as a whole number with separators when it is larger. */
export function significant(value: number, digits = 3): string {
  if (!Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.floor(Math.log10(Math.abs(value)));
  const decimals = Math.max(0, digits - 1 - magnitude);
  return value.toLocaleString('en-US', { minimumFractionDigits: decimals, maximumFractionDigits: decimals });
}

/** Formats a summary as "median (min–max)" with `unit` after the median, e.g. "2.10 s (2.05–2.31)". */
export function formatSummary(summary: Summary, unit: string): string {
  const median = `${significant(summary.median)}${unit ? ` ${unit}` : ''}`;
  if (summary.count === 1) return `${median} (1 run)`;
  return `${median} (${significant(summary.min)}–${significant(summary.max)})`;
}

export function formatBytes(bytes: number): string {
  const mib = bytes / 2 ** 20;
  return mib >= 1024 ? `${significant(mib / 1024)} GiB` : `${significant(mib)} MiB`;
}

export function formatRatio(ratio: number): string {
  return `${significant(ratio, 2)}×`;
}

/** Renders a Markdown table; `right` marks the columns to right-align. */
export function markdownTable(
  header: readonly string[],
  rows: readonly string[][],
  right: boolean[] = [],
): string {
  const separator = header.map((_, column) => (right[column] ? '---:' : '---'));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`;
  return [line(header), line(separator), ...rows.map(line)].join('\n');
}
