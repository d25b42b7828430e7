import type { Table } from '../eval/tables';
import type { Storage } from '../infra/s3';
import type { StageManifest } from '../infra/stages';
import { expectedSourceHashes } from './run-texts';
import { describeBasis, finalAnswers, humanScoresTable, scoreAnswers } from './score';
import { labelsPrefix, loadRunLabels } from './store';

export interface HumanEvaluation {
  summary: string;
  table?: Table;
}

const MEANING =
  'A generator’s fooling rate is the share of its texts that people marked real. A generator people cannot tell from real text has a fooling rate equal to their accuracy on real text.';

/**
 * Scores the run's labelling sessions for the report, or returns undefined when nobody has labelled
 * the run. Labels that cannot be read become a one-line note, so they never stop the report.
 */
export async function readHumanEvaluation(
  storage: Storage,
  storagePrefix: string,
  workflowId: string,
  manifests: Record<string, StageManifest>,
  logger: { warn(message: string, meta?: Record<string, unknown>): void },
): Promise<HumanEvaluation | undefined> {
  const labels = labelsPrefix(storagePrefix, workflowId);
  const hashes = expectedSourceHashes(
    Object.fromEntries(Object.entries(manifests).map(([stage, manifest]) => [stage, manifest.contentHash])),
  );
  try {
    const loaded = await loadRunLabels(storage, labels, hashes);
    if (loaded.sessions.length === 0 && loaded.excluded.length === 0) return undefined;
    const left =
      loaded.excluded.length > 0
        ? ` ${loaded.excluded.length} ${loaded.excluded.length === 1 ? 'session was' : 'sessions were'} left out because they judged other texts (${loaded.excluded.map((entry) => `${entry.session}: ${entry.reason}`).join('; ')}).`
        : '';
    const scores = scoreAnswers(finalAnswers(loaded.records));
    if (scores.judgments === 0) return { summary: `No real-or-fake judgments yet.${left}` };
    return { summary: `${describeBasis(scores)} ${MEANING}${left}`, table: humanScoresTable(scores) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    logger.warn('human evaluation labels could not be read', { labels, error: message });
    return {
      summary: `The labels under s3://${storage.bucket}/${labels}/ could not be read (${message}), so this report leaves them out.`,
    };
  }
}
