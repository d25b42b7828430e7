/**
 * Builds larger comment corpora from the five bundled files, for measuring how the data step grows.
 *
 *   node --import tsx bench/node/corpus.ts --rows 200000 --out .stack/bench-data/rows-200000
 *
 * Each output file keeps its bundled file's name, header and columns, and gets that file's share of
 * `--rows` records: the bundled records repeated in order. Copy k >= 1 of a record appends the word
 * `copyk` to its text, so the copies are new texts for deduplication while the duplicates inside
 * the bundled data stay duplicates in every copy. A file `complete` is written last, so a folder
 * without it was interrupted and is rebuilt.
 */
import { createReadStream, createWriteStream, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { createGunzip, createGzip } from 'node:zlib';
import { parse } from 'csv-parse';
import { BUNDLED_DATA_DIR } from '../../infra/datasets';
import { bundledSources } from './sources';

async function readRecords(file: string): Promise<string[][]> {
  const records: string[][] = [];
  const parser = createReadStream(file)
    .pipe(createGunzip())
    .pipe(parse({ bom: true, relax_column_count: true }));
  for await (const record of parser as AsyncIterable<string[]>) records.push(record);
  return records;
}

function csvLine(fields: readonly string[]): string {
  return fields.map((field) => `"${field.replaceAll('"', '""')}"`).join(',') + '\n';
}

async function* scaledLines(header: string[], records: string[][], textIndex: number, count: number) {
  yield csvLine(header);
  for (let i = 0; i < count; i++) {
    const record = records[i % records.length] ?? [];
    const copy = Math.floor(i / records.length);
    if (copy === 0 || textIndex >= record.length) {
      yield csvLine(record);
    } else {
      const perturbed = [...record];
      perturbed[textIndex] = `${record[textIndex]} copy${copy}`;
      yield csvLine(perturbed);
    }
  }
}

/** Writes the scaled corpus of about `rows` records into `dir` unless a complete one is already there. */
export async function ensureCorpus(rows: number, dir: string): Promise<void> {
  const marker = join(dir, 'complete');
  if (existsSync(marker)) return;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const sources = bundledSources(BUNDLED_DATA_DIR);
  const inputs = await Promise.all(sources.map((source) => readRecords(source.file)));
  const bundledRows = inputs.reduce((sum, records) => sum + records.length - 1, 0);
  for (const [index, source] of sources.entries()) {
    const [header = [], ...records] = inputs[index] ?? [];
    const textIndex = header.map((column) => column.trim()).indexOf(source.textColumn);
    if (textIndex < 0) throw new Error(`${source.file}: text column "${source.textColumn}" not found`);
    const count = Math.round((records.length * rows) / bundledRows);
    await pipeline(
      scaledLines(header, records, textIndex, count),
      createGzip(),
      createWriteStream(join(dir, basename(source.file))),
    );
  }
  writeFileSync(marker, `${rows}\n`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { rows: { type: 'string' }, out: { type: 'string' } } });
  const rows = Number(values.rows);
  if (!Number.isInteger(rows) || rows < 1)
    throw new Error(`--rows must be a positive integer, got ${values.rows}`);
  if (values.out === undefined) throw new Error('--out is required: the folder to write the five files to');
  await ensureCorpus(rows, values.out);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}
