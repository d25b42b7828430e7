/**
 * Times the product's bert embedding strategy encoding texts on one TensorFlow.js backend.
 *
 *   node --import tsx bench/node/bert-encode.ts --backend wasm --texts FILE --model DIR
 *                                               [--seq-len 40] [--passes 3]
 *
 * FILE is a JSON array of token lists (./bert-texts.ts writes it). `--backend` is tensorflow (the
 * native @tensorflow/tfjs-node) or wasm. When it cannot be loaded, the result line carries
 * `unavailable` with the reason instead of times.
 *
 * The strategy is fitted on no texts with the encoding cache off, so fitting only reads the model
 * and every `encode` call runs the encoder. One untimed warm-up call of `encode` on all texts is
 * followed by `--passes` timed calls. Prints one result line (see ./result.ts) with each call's time
 * in seconds.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { bertEmbedding, bertOptionsSchema } from '../../embeddings/bert';
import { loadTensorFlow, type PreferredBackend } from '../../ml/backend';
import { emitResult } from './result';

const BACKENDS: readonly string[] = ['tensorflow', 'wasm'];

async function* noTexts(): AsyncIterable<readonly string[]> {}

/** Counts the word vectors that are not all zero, one per word encoded within seqLen. */
function countNonZeroVectors(values: Float32Array, dimension: number): number {
  let count = 0;
  for (let offset = 0; offset < values.length; offset += dimension) {
    if (values.subarray(offset, offset + dimension).some((value) => value !== 0)) count += 1;
  }
  return count;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      backend: { type: 'string' },
      texts: { type: 'string' },
      model: { type: 'string' },
      'seq-len': { type: 'string', default: '40' },
      passes: { type: 'string', default: '3' },
    },
  });
  const backend = values.backend ?? '';
  if (!BACKENDS.includes(backend)) {
    throw new Error(`--backend must be one of ${BACKENDS.join(', ')}, got "${backend}"`);
  }
  if (values.texts === undefined) throw new Error('--texts is required: the JSON file of token lists');
  if (values.model === undefined) throw new Error('--model is required: the BERT model folder');
  const seqLen = Number(values['seq-len']);
  const passes = Number(values.passes);
  if (![seqLen, passes].every((n) => Number.isInteger(n) && n >= 1)) {
    throw new Error('--seq-len and --passes must be positive integers');
  }

  const loaded = await loadTensorFlow({ preferred: backend as PreferredBackend });
  if (loaded.backend !== backend) {
    // An optional backend that is not installed is a result to report, not a failure of the benchmark.
    // Each reason starts with the backend's name, which the report already shows.
    const reasons = loaded.reasons.map((reason) => reason.replace(`${backend}: `, ''));
    emitResult({ backend, unavailable: reasons.join('; ') || `loadTensorFlow chose ${loaded.backend}` });
    return;
  }
  const texts = JSON.parse(readFileSync(values.texts, 'utf8')) as string[][];
  const options = bertOptionsSchema.parse({ model: values.model, cacheMegabytes: 0 });
  const strategy = await bertEmbedding.fit(noTexts(), options);
  try {
    let encoded = await strategy.encode(texts, seqLen);
    const passSeconds: number[] = [];
    for (let pass = 0; pass < passes; pass++) {
      const start = performance.now();
      encoded = await strategy.encode(texts, seqLen);
      passSeconds.push((performance.now() - start) / 1000);
    }
    emitResult({
      backend: loaded.backend,
      passSeconds,
      counts: {
        texts: texts.length,
        words: texts.reduce((sum, words) => sum + Math.min(words.length, seqLen), 0),
        nonZeroVectors: countNonZeroVectors(encoded, strategy.dimension),
      },
    });
  } finally {
    strategy.dispose?.();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
