import { createHash } from 'node:crypto';
import type { ParquetFileInfo } from './parquet';
import { getJsonIfExists, putBytes, putJson, type Storage } from './s3';

/**
 * Where a stage's output lives and when it counts as finished.
 *
 * A stage's folder is `<prefix>/stages/<stage>/<fingerprint>/`, where the fingerprint hashes the
 * stage name, its code version, the content hashes of its inputs and its own options. Same inputs
 * and options give the same folder, so a retry or a later run finds finished work there. The stage
 * writes its data files first and `_manifest.json` last. Only a folder with a manifest is finished,
 * so a crash mid-stage leaves files that the next attempt overwrites and no reader trusts.
 */

/** One table of a stage's output (for example `rows` and `rejects`), split into Parquet files. */
export interface StageTable {
  /** Column list in the form "name:TYPE,...", "?" marking optional columns. */
  schema: string;
  rows: number;
  files: ParquetFileInfo[];
}

export interface StageArtifact {
  key: string;
  bytes: number;
  sha256: string;
  contentType: string;
}

export interface StageInput {
  stage: string;
  manifestKey: string;
  contentHash: string;
}

export interface StageManifest {
  stage: string;
  /** Bumped when the stage's logic changes its output, so old folders are not reused. */
  version: number;
  fingerprint: string;
  manifestKey: string;
  inputs: StageInput[];
  options: unknown;
  tables: Record<string, StageTable>;
  /** Files that are not tables, such as model weights or a plot, by name. */
  artifacts: Record<string, StageArtifact>;
  /** Stage-specific counts, such as rows read, rejected and kept. */
  counts: Record<string, unknown>;
  /** Facts about this execution (backend, throughput) that vary between equal runs; not hashed. */
  runtime: Record<string, unknown>;
  /** SHA-256 over the stage name, tables, artifacts and counts; equal outputs have equal hashes. */
  contentHash: string;
  createdAt: string;
  durationMs: number;
}

/** Result an activity returns to the workflow: enough to chain stages and show a summary, never rows. */
export interface StageResult {
  stage: string;
  manifestKey: string;
  contentHash: string;
  /** True when a finished manifest was found and the stage did no work. */
  reused: boolean;
  rows: Record<string, number>;
  artifacts: Record<string, string>;
  counts: Record<string, unknown>;
  runtime: Record<string, unknown>;
  durationMs: number;
}

/** Serializes with object keys sorted at every level, so equal values hash equally. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item && typeof item === 'object' && !Array.isArray(item)) {
      return Object.fromEntries(
        Object.entries(item as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)),
      );
    }
    return item;
  });
}

export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

export function stageFingerprint(
  stage: string,
  version: number,
  inputs: StageInput[],
  options: unknown,
): string {
  const basis = canonicalJson({ stage, version, inputs: inputs.map((input) => input.contentHash), options });
  return sha256Hex(basis).slice(0, 20);
}

export function stageDir(prefix: string, stage: string, fingerprint: string): string {
  return `${prefix}/stages/${stage}/${fingerprint}`;
}

export function manifestKeyOf(dir: string): string {
  return `${dir}/_manifest.json`;
}

export function toStageResult(manifest: StageManifest, reused: boolean): StageResult {
  const rows: Record<string, number> = {};
  for (const [name, table] of Object.entries(manifest.tables)) rows[name] = table.rows;
  return {
    stage: manifest.stage,
    manifestKey: manifest.manifestKey,
    contentHash: manifest.contentHash,
    reused,
    rows,
    artifacts: Object.fromEntries(
      Object.entries(manifest.artifacts ?? {}).map(([name, artifact]) => [name, artifact.key]),
    ),
    counts: manifest.counts,
    runtime: manifest.runtime ?? {},
    durationMs: manifest.durationMs,
  };
}

export function contentHashOf(
  stage: string,
  tables: Record<string, StageTable>,
  artifacts: Record<string, StageArtifact>,
  counts: Record<string, unknown>,
): string {
  const fileHashes = Object.fromEntries(
    Object.entries(tables).map(([name, table]) => [name, table.files.map((file) => file.sha256)]),
  );
  const artifactHashes = Object.fromEntries(
    Object.entries(artifacts).map(([name, artifact]) => [name, artifact.sha256]),
  );
  return sha256Hex(canonicalJson({ stage, fileHashes, artifactHashes, counts }));
}

/** Stores one non-table file of a stage and describes it for the manifest. */
export async function putArtifact(
  storage: Storage,
  key: string,
  body: Buffer,
  contentType: string,
): Promise<StageArtifact> {
  await putBytes(storage, key, body, contentType);
  return { key, bytes: body.length, sha256: sha256Hex(body), contentType };
}

export interface StageSpec {
  stage: string;
  version: number;
  prefix: string;
  inputs: StageInput[];
  options: unknown;
}

export interface StageOutput {
  tables: Record<string, StageTable>;
  artifacts?: Record<string, StageArtifact>;
  counts: Record<string, unknown>;
  runtime?: Record<string, unknown>;
}

/**
 * Runs `produce` unless the stage's manifest already exists, then writes the manifest. `produce`
 * gets the stage folder and must write only below it.
 */
export async function runStage(
  storage: Storage,
  spec: StageSpec,
  produce: (dir: string) => Promise<StageOutput>,
): Promise<StageResult> {
  const fingerprint = stageFingerprint(spec.stage, spec.version, spec.inputs, spec.options);
  const dir = stageDir(spec.prefix, spec.stage, fingerprint);
  const manifestKey = manifestKeyOf(dir);
  const existing = await getJsonIfExists<StageManifest>(storage, manifestKey);
  if (existing) return toStageResult(existing, true);

  const started = Date.now();
  const output = await produce(dir);
  const manifest: StageManifest = {
    stage: spec.stage,
    version: spec.version,
    fingerprint,
    manifestKey,
    inputs: spec.inputs,
    options: spec.options,
    tables: output.tables,
    artifacts: output.artifacts ?? {},
    counts: output.counts,
    runtime: output.runtime ?? {},
    contentHash: contentHashOf(spec.stage, output.tables, output.artifacts ?? {}, output.counts),
    createdAt: new Date().toISOString(),
    durationMs: Date.now() - started,
  };
  await putJson(storage, manifestKey, manifest);
  return toStageResult(manifest, false);
}

export async function readManifest(storage: Storage, manifestKey: string): Promise<StageManifest> {
  const manifest = await getJsonIfExists<StageManifest>(storage, manifestKey);
  if (!manifest) {
    throw new Error(
      `Stage manifest not found: s3://${storage.bucket}/${manifestKey}. Re-run the stage that writes it.`,
    );
  }
  return manifest;
}

export function inputOf(manifest: StageManifest): StageInput {
  return { stage: manifest.stage, manifestKey: manifest.manifestKey, contentHash: manifest.contentHash };
}

export function tableFiles(manifest: StageManifest, table: string): string[] {
  const found = manifest.tables[table];
  if (!found)
    throw new Error(`Stage ${manifest.stage} has no table "${table}" (manifest ${manifest.manifestKey})`);
  return found.files.map((file) => file.key);
}
