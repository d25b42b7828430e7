import type { StageResult } from '../infra/stages';

/**
 * Counts of where every row read from the sources went. The pipeline checks the invariant
 * rowsRead = kept + rejected + duplicates + empty + droppedTooLong + droppedNoTokens
 * and fails the run when it does not.
 */
export interface RowAccounting {
  rowsRead: number;
  rejected: number;
  duplicates: number;
  empty: number;
  droppedTooLong: number;
  droppedNoTokens: number;
  kept: number;
  accountedFor: number;
  balanced: boolean;
}

function count(result: StageResult, field: string): number {
  const value = result.counts[field];
  return typeof value === 'number' ? value : 0;
}

export function checkRowAccounting(
  fetched: StageResult,
  deduped: StageResult,
  tokenized: StageResult,
): RowAccounting {
  const accounting = {
    rowsRead: count(fetched, 'rowsRead'),
    rejected: count(fetched, 'rowsRejected'),
    duplicates: count(deduped, 'duplicates'),
    empty: count(deduped, 'empty'),
    droppedTooLong: count(tokenized, 'droppedTooLong'),
    droppedNoTokens: count(tokenized, 'droppedNoTokens'),
    kept: count(tokenized, 'kept'),
  };
  const accountedFor =
    accounting.kept +
    accounting.rejected +
    accounting.duplicates +
    accounting.empty +
    accounting.droppedTooLong +
    accounting.droppedNoTokens;
  return { ...accounting, accountedFor, balanced: accountedFor === accounting.rowsRead };
}
