/**
 * Sparse bigram counts over integer word ids, shared by the Markov chain and the bigram language model.
 * Counting uses one hash map per source word, so memory grows with the number of distinct bigrams and
 * never with the vocabulary size squared. `BigramCounter.toTable` then packs the counts into typed arrays
 * in compressed sparse row layout.
 */

/**
 * Bigram counts in compressed sparse row layout. The successors of source word `s` are
 * `targets[offsets[s] .. offsets[s + 1])`, sorted by ascending id, and `cumulative[j]` is the sum of the
 * counts of entries `offsets[s] .. j` in that row, so the count of entry `j` is
 * `cumulative[j] - cumulative[j - 1]` (or `cumulative[j]` at the start of a row). Cumulative counts are
 * stored as float64, which represents integers exactly up to 2^53.
 */
export interface BigramTable {
  readonly offsets: Uint32Array;
  readonly targets: Uint32Array;
  readonly cumulative: Float64Array;
}

/** Accumulates bigram counts from (source id, target id) pairs. */
export class BigramCounter {
  private readonly rows: (Map<number, number> | undefined)[] = [];
  private distinctCount = 0;
  private totalCount = 0;

  add(source: number, target: number): void {
    let row = this.rows[source];
    if (row === undefined) {
      row = new Map();
      this.rows[source] = row;
    }
    const previous = row.get(target);
    if (previous === undefined) this.distinctCount += 1;
    row.set(target, (previous ?? 0) + 1);
    this.totalCount += 1;
  }

  get distinct(): number {
    return this.distinctCount;
  }

  get total(): number {
    return this.totalCount;
  }

  /** Packs the counts into a table with `sourceCount` rows; sources that never occurred get empty rows. */
  toTable(sourceCount: number): BigramTable {
    if (this.rows.length > sourceCount) {
      throw new RangeError(`toTable needs at least ${this.rows.length} rows, got sourceCount ${sourceCount}`);
    }
    const offsets = new Uint32Array(sourceCount + 1);
    const targets = new Uint32Array(this.distinctCount);
    const cumulative = new Float64Array(this.distinctCount);
    let position = 0;
    for (let source = 0; source < sourceCount; source++) {
      offsets[source] = position;
      const row = this.rows[source];
      if (row === undefined) continue;
      const sortedTargets = [...row.keys()].sort((a, b) => a - b);
      let runningTotal = 0;
      for (const target of sortedTargets) {
        runningTotal += row.get(target) ?? 0;
        targets[position] = target;
        cumulative[position] = runningTotal;
        position += 1;
      }
    }
    offsets[sourceCount] = position;
    return { offsets, targets, cumulative };
  }
}

/** Returns the count stored at entry `index` of a table whose row starts at `rowStart`. */
export function entryCount(table: BigramTable, rowStart: number, index: number): number {
  const upTo = table.cumulative[index] ?? 0;
  const before = index > rowStart ? (table.cumulative[index - 1] ?? 0) : 0;
  return upTo - before;
}

/** Returns the sum of the counts in the row of `source`, or 0 for a row without entries. */
export function rowTotal(table: BigramTable, source: number): number {
  const start = table.offsets[source] ?? 0;
  const end = table.offsets[source + 1] ?? 0;
  return end > start ? (table.cumulative[end - 1] ?? 0) : 0;
}

/** Finds the entry index of `target` in the row of `source` by binary search, or returns -1. */
export function findEntry(table: BigramTable, source: number, target: number): number {
  let low = table.offsets[source] ?? 0;
  let high = (table.offsets[source + 1] ?? 0) - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const value = table.targets[middle] ?? 0;
    if (value === target) return middle;
    if (value < target) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}

/**
 * Returns the first index `j` in `[start, end)` with `cumulative[j] > value`, the inverse-CDF step of
 * sampling in proportion to counts. `value` must lie in `[0, cumulative[end - 1])`.
 */
export function searchCumulative(
  cumulative: Float64Array,
  start: number,
  end: number,
  value: number,
): number {
  let low = start;
  let high = end - 1;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((cumulative[middle] ?? 0) > value) high = middle;
    else low = middle + 1;
  }
  return low;
}
