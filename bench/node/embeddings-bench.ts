/**
 * The embedding measurements of `npm run bench`: the bert strategy's encoding against a PyTorch
 * forward pass of the same model, and the word2vec strategy's fit against gensim. Every side runs
 * in its own child process, as the other measurements do.
 */
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { writeBertTexts } from './bert-texts';
import { runChild } from './child';
import type { BertCase, BertSide, Word2vecCase, Word2vecSide } from './embeddings-report';

/** Words per text, the default preset's sequence length. */
export const BERT_WORDS = 40;
/** Texts per forward pass on both sides: the bert strategy's default batch size. */
const BERT_BATCH = 32;

export interface EmbeddingsSettings {
  /** Interpreter of the reference side. */
  python: string;
  /** Timed encoding passes per BERT side, and fits per word2vec side. */
  reps: number;
  /** Number of texts encoded per BERT pass. */
  bertTexts: number;
  /** TF.js backends to encode on. The cpu backend is left out when the list contains it. */
  backends: readonly string[];
  /** Token file of the bundled train split, one text a line (bench/node/data-step.ts writes it). */
  trainTokens: string;
  /** Model folder, read by both sides. */
  model: string;
  /** Folder for the JSON file of the texts that both BERT sides encode. */
  dataDir: string;
  timeoutSeconds: number;
  progress: (message: string) => void;
}

const nodeScript = (name: string): string[] => ['--import', 'tsx', join(__dirname, name)];
const pythonScript = (name: string): string => join(__dirname, '..', 'python', name);

interface BertResult {
  /** Reason the backend could not be loaded, set instead of the pass times. */
  unavailable?: string;
  passSeconds: number[];
  threads?: number;
  counts: Record<string, number>;
}

function median(values: readonly number[]): number {
  return [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;
}

/**
 * Times the encoding of the same texts by the product on each TF.js backend and by PyTorch, with its
 * default thread count and, on a machine with more than one core, with one thread per core.
 */
export async function measureBert(settings: EmbeddingsSettings): Promise<BertCase> {
  const textsFile = join(settings.dataDir, `bert-texts-${settings.bertTexts}.json`);
  const texts = writeBertTexts(settings.trainTokens, settings.bertTexts, BERT_WORDS, textsFile);
  settings.progress(`BERT: ${texts} texts of up to ${BERT_WORDS} words written to ${textsFile}`);

  const item: BertCase = { texts, seqLen: BERT_WORDS, batchSize: BERT_BATCH, sides: [], skipped: [] };
  const run = async (
    name: string,
    role: BertSide['role'],
    command: string,
    args: string[],
  ): Promise<void> => {
    try {
      const { result } = await runChild<BertResult>(command, args, {
        timeoutSeconds: settings.timeoutSeconds,
      });
      if (result.unavailable !== undefined) {
        item.skipped.push(`${name}: ${result.unavailable}`);
        settings.progress(`BERT: ${name} is not available: ${result.unavailable}`);
        return;
      }
      item.sides.push({
        name,
        role,
        passSeconds: result.passSeconds,
        peakRssBytes: result.peakRssBytes,
        counts: result.counts,
      });
      const seconds = median(result.passSeconds);
      settings.progress(
        `BERT: ${name} ${(texts / seconds).toFixed(1)} texts/s (median of ${result.passSeconds.length} passes)`,
      );
    } catch (error) {
      item.skipped.push(`${name}: ${(error as Error).message.split('\n')[0]}`);
      settings.progress(`BERT: ${name} failed: ${(error as Error).message}`);
    }
  };

  const shared = ['--texts', textsFile, '--model', settings.model, '--seq-len', String(BERT_WORDS)];
  const passes = ['--passes', String(settings.reps)];
  // The cpu backend is left out: its plain JavaScript matrix products would take minutes per pass.
  for (const backend of settings.backends.filter((name) => name !== 'cpu')) {
    await run(`TF.js ${backend}`, 'product', process.execPath, [
      ...nodeScript('bert-encode.ts'),
      '--backend',
      backend,
      ...shared,
      ...passes,
    ]);
  }
  const reference = [pythonScript('bert_encode.py'), ...shared, ...passes, '--batch', String(BERT_BATCH)];
  await run('PyTorch, default threads', 'baseline', settings.python, reference);
  const machineThreads = availableParallelism();
  if (machineThreads > 1) {
    await run(`PyTorch, ${machineThreads} threads`, 'reference', settings.python, [
      ...reference,
      '--threads',
      String(machineThreads),
    ]);
  }
  return item;
}

interface Word2vecResult {
  seconds: number;
  counts: Record<string, number>;
}

/**
 * Fits word2vec on the train split with the product and with gensim at one worker and one worker
 * per core, `reps` times each. The order of the sides rotates from one repetition to the next, so
 * slow drift in machine load hits every side.
 */
export async function measureWord2vec(settings: EmbeddingsSettings): Promise<Word2vecCase> {
  const machineThreads = availableParallelism();
  const specs: Array<{ side: Word2vecSide; command: string; args: string[] }> = [];
  const side = (name: string, role: Word2vecSide['role']): Word2vecSide => ({
    name,
    role,
    seconds: [],
    peakRssBytes: [],
    counts: {},
  });
  specs.push({
    side: side('product (embeddings/word2vec.ts)', 'product'),
    command: process.execPath,
    args: [...nodeScript('word2vec-step.ts'), '--tokens', settings.trainTokens],
  });
  const gensim = [pythonScript('word2vec_step.py'), '--tokens', settings.trainTokens];
  specs.push({
    side: side('gensim, 1 worker', 'baseline'),
    command: settings.python,
    args: [...gensim, '--workers', '1'],
  });
  if (machineThreads > 1) {
    specs.push({
      side: side(`gensim, ${machineThreads} workers`, 'reference'),
      command: settings.python,
      args: [...gensim, '--workers', String(machineThreads)],
    });
  }

  const item: Word2vecCase = { sides: specs.map((spec) => spec.side) };
  for (let rep = 0; rep < settings.reps; rep++) {
    for (let turn = 0; turn < specs.length; turn++) {
      const spec = specs[(rep + turn) % specs.length]!;
      const { result } = await runChild<Word2vecResult>(spec.command, spec.args, {
        timeoutSeconds: settings.timeoutSeconds,
      });
      spec.side.seconds.push(result.seconds);
      spec.side.peakRssBytes.push(result.peakRssBytes);
      spec.side.counts = result.counts;
      settings.progress(
        `word2vec fit: ${spec.side.name} run ${rep + 1}/${settings.reps} ${result.seconds.toFixed(2)} s`,
      );
    }
  }
  return item;
}
