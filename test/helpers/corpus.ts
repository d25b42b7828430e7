import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Random } from '../../lib/random';

const SUBJECTS = [
  'the cat',
  'a dog',
  'my neighbour',
  'the old man',
  'our team',
  'this phone',
  'the weather',
  'your idea',
];
const VERBS = ['likes', 'hates', 'sees', 'follows', 'ignores', 'needs', 'finds', 'wants'];
const OBJECTS = [
  'the garden',
  'fresh bread',
  'long walks',
  'loud music',
  'the news',
  'cold coffee',
  'a new car',
  'quiet mornings',
];
const TAILS = ['today', 'every day', 'again', 'right now', 'for sure', 'at night', '', ''];

/** Writes a CSV of harmless template sentences in the layout of the bundled comment files. */
export function writeSyntheticCorpus(rows: number, seed = 7): string {
  const random = Random.fromSeed(seed);
  const pick = (items: string[]) => items[random.nextInt(items.length)] as string;
  const lines = ['index,Text,oh_label'];
  for (let index = 0; index < rows; index++) {
    const text = `${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)} ${pick(TAILS)}`.trim();
    lines.push(`${index},"${text} ${index}",${random.nextInt(2)}`);
  }
  const dir = mkdtempSync(join(tmpdir(), 'textgan-corpus-'));
  const path = join(dir, 'synthetic.csv');
  writeFileSync(path, lines.join('\n') + '\n');
  return path;
}
