import { readParquet, writeParquet, type TableSchema } from '../infra/parquet';
import { getJsonIfExists, listKeys, putJson, type Storage } from '../infra/s3';
import type { AnswerRecord } from './score';
import type { LabelItem } from './items';

/**
 * Where labelling sessions live in S3, next to the run's report:
 *
 *   <prefix>/runs/<workflow id>/labels/<session>/session.json        settings and text sources
 *   <prefix>/runs/<workflow id>/labels/<session>/items.parquet       the shuffled items with their source
 *   <prefix>/runs/<workflow id>/labels/<session>/answers-<n>.parquet one file per answer, n from 1
 *   <prefix>/runs/<workflow id>/labels/<session>/finished.json       written when the person sees results
 *
 * session.json is written after items.parquet, so a session with settings always has its items.
 */

export const ANSWERS_SCHEMA: TableSchema = {
  session: { type: 'UTF8' },
  item_id: { type: 'INT32' },
  true_source: { type: 'UTF8' },
  answer: { type: 'UTF8' },
  ms_taken: { type: 'INT32' },
  answered_at: { type: 'UTF8' },
};

export const ITEMS_SCHEMA: TableSchema = {
  item_id: { type: 'INT32' },
  true_source: { type: 'UTF8' },
  text: { type: 'UTF8' },
};

interface ItemRow extends Record<string, unknown> {
  item_id: number;
  true_source: string;
  text: string;
}

/** Origin of one source's texts, so that scores can leave out sessions that judged other outputs. */
export interface SourceOrigin {
  stage: string;
  table: string;
  manifestKey: string;
  contentHash: string;
  /** Non-empty texts the table had to sample from. */
  available: number;
}

export interface SessionInfo {
  session: string;
  workflowId: string;
  createdAt: string;
  items: number;
  seed: number;
  realShare: number;
  sources: Record<string, SourceOrigin>;
}

const SESSION_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Throws unless `name` can be a folder name in S3 and a URL path segment as it is. */
export function checkSessionName(name: string): string {
  if (!SESSION_NAME.test(name)) {
    throw new Error(
      `Invalid session name "${name}": use 1 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit.`,
    );
  }
  return name;
}

/** Returns the labels folder of a run, with the workflow id made safe as for the report's folder. */
export function labelsPrefix(storagePrefix: string, workflowId: string): string {
  return `${storagePrefix}/runs/${workflowId.replace(/[^A-Za-z0-9._-]/g, '_')}/labels`;
}

export interface SessionKeys {
  folder: string;
  info: string;
  items: string;
  finished: string;
  answer(sequence: number): string;
}

export function sessionKeys(labels: string, session: string): SessionKeys {
  const folder = `${labels}/${checkSessionName(session)}`;
  return {
    folder,
    info: `${folder}/session.json`,
    items: `${folder}/items.parquet`,
    finished: `${folder}/finished.json`,
    // Zero padding keeps listing order equal to answer order.
    answer: (sequence) => `${folder}/answers-${String(sequence).padStart(6, '0')}.parquet`,
  };
}

const ANSWER_FILE = /\/([^/]+)\/answers-(\d+)\.parquet$/;

/** Returns the session and sequence number of an answers file key, or undefined for other keys. */
export function parseAnswerKey(key: string): { session: string; sequence: number } | undefined {
  const match = ANSWER_FILE.exec(key);
  if (!match) return undefined;
  return { session: match[1] as string, sequence: Number(match[2]) };
}

export function readSessionInfo(storage: Storage, keys: SessionKeys): Promise<SessionInfo | undefined> {
  return getJsonIfExists<SessionInfo>(storage, keys.info);
}

/** Stores a new session: its items first, then the settings that mark it complete. */
export async function createSessionFiles(
  storage: Storage,
  keys: SessionKeys,
  info: SessionInfo,
  items: readonly LabelItem[],
): Promise<void> {
  await writeParquet<ItemRow>(
    storage,
    keys.items,
    ITEMS_SCHEMA,
    items.map((item) => ({ item_id: item.id, true_source: item.source, text: item.text })),
  );
  await putJson(storage, keys.info, info);
}

export async function readSessionItems(storage: Storage, keys: SessionKeys): Promise<LabelItem[]> {
  const items: LabelItem[] = [];
  for await (const row of readParquet<ItemRow>(storage, keys.items))
    items.push({ id: row.item_id, source: row.true_source, text: row.text });
  return items.sort((a, b) => a.id - b.id);
}

export async function writeAnswer(
  storage: Storage,
  keys: SessionKeys,
  sequence: number,
  record: AnswerRecord,
): Promise<string> {
  const key = keys.answer(sequence);
  await writeParquet<AnswerRecord>(storage, key, ANSWERS_SCHEMA, [record]);
  return key;
}

/** Lists answers files under `prefix` (one session's folder or a run's labels folder), in answer order per session. */
export async function listAnswerFiles(
  storage: Storage,
  prefix: string,
): Promise<Array<{ key: string; session: string; sequence: number }>> {
  const files = [];
  for (const key of await listKeys(storage, `${prefix}/`)) {
    const parsed = parseAnswerKey(key);
    if (parsed) files.push({ key, ...parsed });
  }
  return files.sort((a, b) => {
    if (a.session !== b.session) return a.session < b.session ? -1 : 1;
    return a.sequence - b.sequence;
  });
}

/** Reads the answers rows of the given files in the order given. */
export async function readAnswerFiles(storage: Storage, keys: readonly string[]): Promise<AnswerRecord[]> {
  const records: AnswerRecord[] = [];
  for (const key of keys) for await (const row of readParquet<AnswerRecord>(storage, key)) records.push(row);
  return records;
}

export interface RunLabels {
  /** Answers of the sessions that judged the expected texts, in answer order per session. */
  records: AnswerRecord[];
  sessions: string[];
  /** Sessions left out, with the reason. */
  excluded: Array<{ session: string; reason: string }>;
}

/**
 * Reads every session's answers under a run's labels folder. With `expectedHashes` (source name to
 * the content hash of the stage that contains its texts), sessions created from other stage outputs,
 * such as an earlier run under the same workflow id, are left out.
 */
export async function loadRunLabels(
  storage: Storage,
  labels: string,
  expectedHashes?: Record<string, string>,
): Promise<RunLabels> {
  const bySession = new Map<string, string[]>();
  for (const file of await listAnswerFiles(storage, labels)) {
    const keys = bySession.get(file.session) ?? [];
    keys.push(file.key);
    bySession.set(file.session, keys);
  }
  const result: RunLabels = { records: [], sessions: [], excluded: [] };
  for (const [session, keys] of bySession) {
    const info = await getJsonIfExists<SessionInfo>(storage, `${labels}/${session}/session.json`);
    const reason = info ? staleReason(info, expectedHashes) : 'session.json is missing';
    if (reason) {
      result.excluded.push({ session, reason });
      continue;
    }
    result.sessions.push(session);
    result.records.push(...(await readAnswerFiles(storage, keys)));
  }
  return result;
}

function staleReason(info: SessionInfo, expectedHashes?: Record<string, string>): string | undefined {
  if (!expectedHashes) return undefined;
  for (const [source, origin] of Object.entries(info.sources)) {
    const expected = expectedHashes[source];
    if (expected !== undefined && expected !== origin.contentHash)
      return `its ${source} texts come from ${origin.manifestKey}, not from this run's ${origin.stage} output`;
  }
  return undefined;
}
