import { readParquetFiles } from '../infra/parquet';
import type { Storage } from '../infra/s3';
import { tableFiles, type StageManifest } from '../infra/stages';
import type { EncodedRow } from './embed';

/** One split of encoded texts, padded or cut to a fixed sequence length, ready for the GAN. */
export interface EncodedSplit {
  /** Row-major [count, seqLen, dimension]; positions past a text's end hold zeros. */
  values: Float32Array;
  /** Tokens per text after cutting to seqLen, each in [1, seqLen]. */
  lengths: Int32Array;
  labels: Int32Array;
  count: number;
  seqLen: number;
  dimension: number;
}

/**
 * Reads one split of the embed stage into memory. Memory is count x seqLen x dimension float32
 * values: about 6 MB for the bundled corpus's train split at 40 tokens and one value per word.
 */
// NOTE: wide embeddings (hundreds of values per word) would need streaming batches from S3 instead.
export async function loadEncodedSplit(
  storage: Storage,
  embedManifest: StageManifest,
  split: 'train' | 'test',
  seqLen: number,
  dimension: number,
  limit = Number.POSITIVE_INFINITY,
): Promise<EncodedSplit> {
  const total = Math.min(embedManifest.tables[split]?.rows ?? 0, limit);
  const stride = seqLen * dimension;
  const values = new Float32Array(total * stride);
  const lengths = new Int32Array(total);
  const labels = new Int32Array(total);
  let count = 0;
  for await (const row of readParquetFiles<EncodedRow>(storage, tableFiles(embedManifest, split))) {
    if (count >= total) break;
    const encoded = new Float32Array(
      row.values.buffer.slice(row.values.byteOffset, row.values.byteOffset + row.values.byteLength),
    );
    const kept = Math.min(row.length, seqLen);
    values.set(encoded.subarray(0, kept * dimension), count * stride);
    lengths[count] = Math.max(1, kept);
    labels[count] = row.label;
    count += 1;
  }
  return { values, lengths, labels, count, seqLen, dimension };
}

/** Gathers the samples at `indices` into one contiguous batch. */
export function gatherBatch(
  split: EncodedSplit,
  indices: ArrayLike<number>,
): { values: Float32Array; lengths: Int32Array } {
  const stride = split.seqLen * split.dimension;
  const values = new Float32Array(indices.length * stride);
  const lengths = new Int32Array(indices.length);
  for (let i = 0; i < indices.length; i++) {
    const index = indices[i] as number;
    values.set(split.values.subarray(index * stride, (index + 1) * stride), i * stride);
    lengths[i] = split.lengths[index] as number;
  }
  return { values, lengths };
}
