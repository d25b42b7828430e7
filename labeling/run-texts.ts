import { readParquetFiles } from '../infra/parquet';
import type { Storage } from '../infra/s3';
import { readManifest, tableFiles } from '../infra/stages';
import type { TextSource } from './items';
import { REAL_SOURCE } from './score';
import type { SourceOrigin } from './store';

interface TextTable {
  source: string;
  stage: string;
  table: string;
}

/**
 * Stage and table of each source's texts in a finished run; every table has a `tokens` column.
 * Each embedding branch has its own evaluate stage ("evaluate word2vec"), whose samples become
 * the source "gan word2vec". A stage named just "evaluate" is the source "gan".
 */
function textTables(stages: Iterable<string>): TextTable[] {
  const generators: TextTable[] = [];
  for (const stage of stages) {
    const match = /^evaluate(?: (.+))?$/.exec(stage);
    if (match)
      generators.push({ source: match[1] ? `gan ${match[1]}` : 'gan', stage, table: 'generator_samples' });
  }
  return [
    { source: REAL_SOURCE, stage: 'tokenize', table: 'test' },
    ...generators,
    { source: 'markov', stage: 'markov', table: 'samples' },
  ];
}

/** A run without real or generated texts to label. */
export class MissingTextsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingTextsError';
  }
}

export interface RunTextSource extends TextSource {
  origin: SourceOrigin;
}

/**
 * Reads the real test comments and each generator's samples of a run, given the manifest key of
 * each finished stage. Generators whose stage did not run are left out. Empty texts (a GAN sample
 * that decoded to padding only) are dropped, since nobody can judge them.
 */
export async function loadRunTexts(
  storage: Storage,
  manifestKeys: Record<string, string>,
  workflowId: string,
): Promise<RunTextSource[]> {
  const sources: RunTextSource[] = [];
  for (const { source, stage, table } of textTables(Object.keys(manifestKeys))) {
    const manifestKey = manifestKeys[stage];
    if (!manifestKey) continue;
    const manifest = await readManifest(storage, manifestKey);
    const texts: string[] = [];
    for await (const row of readParquetFiles<{ tokens: string }>(storage, tableFiles(manifest, table), [
      'tokens',
    ])) {
      const text = row.tokens.trim();
      if (text.length > 0) texts.push(text);
    }
    sources.push({
      name: source,
      texts,
      origin: { stage, table, manifestKey, contentHash: manifest.contentHash, available: texts.length },
    });
  }
  if (!sources.some((source) => source.name === REAL_SOURCE))
    throw new MissingTextsError(
      `Run ${workflowId} has no tokenize stage, so there are no real test comments to mix in. Label a run that finished.`,
    );
  if (sources.length < 2)
    throw new MissingTextsError(
      `Run ${workflowId} has no generated texts because it stopped before the markov and evaluate stages. Label a run that went further.`,
    );
  return sources;
}

/** Returns the content hash of each source's stage, for leaving out sessions that judged other outputs. */
export function expectedSourceHashes(manifestHashes: Record<string, string>): Record<string, string> {
  const hashes: Record<string, string> = {};
  for (const { source, stage } of textTables(Object.keys(manifestHashes))) {
    const hash = manifestHashes[stage];
    if (hash) hashes[source] = hash;
  }
  return hashes;
}
