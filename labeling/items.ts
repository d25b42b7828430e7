import { Random } from '../lib/random';
import { REAL_SOURCE } from './score';

/** Texts of one source: real test comments or one generator's samples. */
export interface TextSource {
  name: string;
  texts: readonly string[];
}

/** One comment shown to a person; `id` is its position in the session, from 0. */
export interface LabelItem {
  id: number;
  source: string;
  text: string;
}

export interface ItemMixOptions {
  count: number;
  seed: number;
  /** Share of the items that are real comments; the rest is split evenly between generators. */
  realShare: number;
}

/** Returns how many items each source gets: real first, then generators in the order given. */
export function allocateItems(sourceNames: readonly string[], options: ItemMixOptions): Map<string, number> {
  const generators = sourceNames.filter((name) => name !== REAL_SOURCE);
  if (!sourceNames.includes(REAL_SOURCE))
    throw new Error(
      `No "${REAL_SOURCE}" source among [${sourceNames.join(', ')}]: real comments are required.`,
    );
  if (generators.length === 0)
    throw new Error('No generated texts to mix in: the run needs a Markov or GAN sample table.');
  if (!Number.isInteger(options.count) || options.count < generators.length + 1) {
    throw new RangeError(
      `Invalid item count ${options.count}: expected an integer of at least ${generators.length + 1} (one real item and one per generator).`,
    );
  }
  if (!(options.realShare > 0 && options.realShare < 1))
    throw new RangeError(`Invalid real share ${options.realShare}: expected a number between 0 and 1.`);

  const realCount = Math.min(
    options.count - generators.length,
    Math.max(1, Math.round(options.count * options.realShare)),
  );
  const generated = options.count - realCount;
  const counts = new Map<string, number>([[REAL_SOURCE, realCount]]);
  generators.forEach((name, index) => {
    const extra = index < generated % generators.length ? 1 : 0;
    counts.set(name, Math.floor(generated / generators.length) + extra);
  });
  return counts;
}

/** Draws `k` distinct indices below `n` (partial Fisher-Yates), in draw order. */
function sampleIndices(n: number, k: number, random: Random): number[] {
  const indices = Array.from({ length: n }, (_, index) => index);
  for (let i = 0; i < k; i++) {
    const j = i + random.nextInt(n - i);
    const picked = indices[j] as number;
    indices[j] = indices[i] as number;
    indices[i] = picked;
  }
  return indices.slice(0, k);
}

/**
 * Builds a session's items: a sample without replacement from each source, allocated by
 * `allocateItems`, then shuffled. Equal sources and options give equal items.
 */
export function buildLabelItems(sources: readonly TextSource[], options: ItemMixOptions): LabelItem[] {
  const counts = allocateItems(
    sources.map((source) => source.name),
    options,
  );
  const random = Random.fromSeed(options.seed);
  const picked: Array<Omit<LabelItem, 'id'>> = [];
  for (const source of sources) {
    const needed = counts.get(source.name) ?? 0;
    if (source.texts.length < needed) {
      throw new RangeError(
        `Source "${source.name}" has ${source.texts.length} texts but the mix needs ${needed}: lower --items.`,
      );
    }
    for (const index of sampleIndices(source.texts.length, needed, random))
      picked.push({ source: source.name, text: source.texts[index] as string });
  }
  return random.shuffle(picked).map((item, id) => ({ id, ...item }));
}
