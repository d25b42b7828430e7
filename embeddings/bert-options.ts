import { z } from 'zod';

// Kept apart from the strategy so that parsing a run config does not load TensorFlow.js.

/** Model folder that infra/scripts/install-bert.sh creates for all-MiniLM-L6-v2, relative to the project root. */
export const DEFAULT_BERT_MODEL = '.stack/models/all-MiniLM-L6-v2';

/**
 * Contextual word vectors from a pretrained BERT encoder (Devlin et al. 2018).
 *
 * Each text is split into WordPiece tokens, framed by [CLS] and [SEP] and run through the encoder.
 * A piece's vector is the sum of the last `layers` hidden states. A word's vector is the mean of
 * its pieces' vectors scaled to unit length, so GAN inputs stay in [-1, 1] and decoding by cosine
 * is unaffected.
 * Decoding picks the nearest of the train vocabulary's vectors, each the normalized mean of a
 * lowercased word's vectors over its occurrences in the train texts.
 */
export const bertOptionsSchema = z.strictObject({
  /**
   * Model folder or `s3://bucket/prefix` containing config.json, vocab.txt, model.safetensors and
   * optionally tokenizer_config.json. Relative folders resolve against the working directory.
   */
  model: z.string().min(1).default(DEFAULT_BERT_MODEL),
  /**
   * Number of hidden states summed per piece, counted back from the last layer. Capped at the
   * number of layers plus one for the embedding output.
   */
  layers: z.number().int().min(1).default(4),
  /**
   * Max WordPiece tokens per text, [CLS] and [SEP] included, further capped at the model's
   * max_position_embeddings. Words whose pieces do not all fit count as past the end of the text.
   */
  maxWordPieces: z.number().int().min(3).default(512),
  /**
   * Max texts per forward pass. A batch is smaller when its texts are long, to bound the memory of
   * the attention scores, or differ much in length, to limit padding.
   */
  batchSize: z.number().int().min(1).default(32),
  /**
   * Memory in MiB for the encodings made during fit, which later encode calls of the same texts
   * reuse. Zero turns the cache off.
   */
  cacheMegabytes: z.number().min(0).default(256),
});
export type BertOptions = z.infer<typeof bertOptionsSchema>;
