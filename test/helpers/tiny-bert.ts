import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Random } from '../../lib/random';
import { writeSafetensors, type TensorToWrite, type WritableDtype } from '../../embeddings/bert/safetensors';

/** Whole words of the tiny vocabulary; other words are spelled with letter pieces. */
const WORDS = [
  'the',
  'a',
  'an',
  'and',
  'or',
  'but',
  'of',
  'to',
  'in',
  'on',
  'at',
  'for',
  'with',
  'from',
  'by',
  'is',
  'are',
  'was',
  'were',
  'be',
  'been',
  'has',
  'have',
  'had',
  'do',
  'does',
  'did',
  'not',
  'no',
  'i',
  'you',
  'he',
  'she',
  'it',
  'we',
  'they',
  'me',
  'him',
  'her',
  'us',
  'them',
  'my',
  'your',
  'our',
  'this',
  'that',
  'these',
  'those',
  'here',
  'there',
  'what',
  'who',
  'how',
  'why',
  'when',
  'where',
  'cat',
  'dog',
  'bird',
  'fish',
  'horse',
  'house',
  'car',
  'tree',
  'garden',
  'bread',
  'coffee',
  'tea',
  'music',
  'news',
  'phone',
  'team',
  'idea',
  'weather',
  'morning',
  'night',
  'day',
  'week',
  'year',
  'man',
  'woman',
  'child',
  'friend',
  'neighbour',
  'teacher',
  'doctor',
  'city',
  'road',
  'river',
  'like',
  'hate',
  'see',
  'follow',
  'ignore',
  'need',
  'find',
  'want',
  'walk',
  'run',
  'eat',
  'drink',
  'play',
  'read',
  'write',
  'sing',
  'sleep',
  'work',
  'talk',
  'think',
  'know',
  'love',
  'help',
  'make',
  'old',
  'new',
  'young',
  'big',
  'small',
  'long',
  'short',
  'loud',
  'quiet',
  'cold',
  'hot',
  'fresh',
  'good',
  'bad',
  'happy',
  'sad',
  'fast',
  'slow',
  'red',
  'blue',
  'green',
  'dark',
  'bright',
  'cafe',
  'today',
  'again',
  'now',
  'always',
  'never',
  'very',
  'really',
  'just',
  'only',
  'also',
  'too',
  'un',
  'able',
];
/** Continuation pieces: common suffixes, then every letter. */
const SUFFIXES = ['s', 'es', 'ed', 'ing', 'er', 'est', 'ly', 'able', 'ness', 'ful'];
const LETTERS = 'abcdefghijklmnopqrstuvwxyz';
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';
export const TINY_SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

export interface TinyBertOptions {
  layers?: number;
  hiddenSize?: number;
  heads?: number;
  intermediateSize?: number;
  maxPositions?: number;
  seed?: number;
  /** Element type of the stored weights. */
  dtype?: WritableDtype;
  /** Tensor name prefix: "" as in BertModel checkpoints, "bert." as in BertForMaskedLM ones. */
  prefix?: '' | 'bert.';
  /** Leaves model.safetensors out, to test the error for an incomplete model folder. */
  omitWeights?: boolean;
}

/** Returns the tiny vocabulary in id order: special tokens, punctuation, letters, words, then ## pieces. */
export function tinyVocabulary(): string[] {
  const tokens = [...TINY_SPECIAL_TOKENS, ...PUNCTUATION, ...LETTERS, ...WORDS];
  tokens.push(...SUFFIXES.map((suffix) => `##${suffix}`), ...Array.from(LETTERS, (letter) => `##${letter}`));
  return [...new Set(tokens)];
}

/**
 * Writes a BERT model with seeded random weights (config.json, tokenizer_config.json, vocab.txt
 * and model.safetensors) to a new temporary folder and returns the folder. Word embeddings are
 * larger than position embeddings, and the other matrices have standard deviation
 * 1/sqrt(fan-in), so the layers mix tokens noticeably while a word's identity still dominates
 * its vector.
 */
export function writeTinyBert(options: TinyBertOptions = {}): string {
  const layers = options.layers ?? 2;
  const hidden = options.hiddenSize ?? 32;
  const heads = options.heads ?? 4;
  const intermediate = options.intermediateSize ?? 64;
  const maxPositions = options.maxPositions ?? 64;
  const prefix = options.prefix ?? '';
  const dtype = options.dtype ?? 'F32';
  const vocabulary = tinyVocabulary();
  const random = Random.fromSeed(options.seed ?? 1234);

  const gaussian = (shape: number[], std: number, mean = 0): TensorToWrite => {
    const size = shape.reduce((product, value) => product * value, 1);
    const values = new Float32Array(size);
    for (let i = 0; i < size; i++) values[i] = mean + std * random.nextGaussian();
    return { shape, values, dtype };
  };
  const linear = (name: string, outputs: number, inputs: number): Record<string, TensorToWrite> => ({
    [`${name}.weight`]: gaussian([outputs, inputs], 1 / Math.sqrt(inputs)),
    [`${name}.bias`]: gaussian([outputs], 0.02),
  });
  const layerNorm = (name: string): Record<string, TensorToWrite> => ({
    [`${name}.weight`]: gaussian([hidden], 0.05, 1),
    [`${name}.bias`]: gaussian([hidden], 0.02),
  });

  const tensors: Record<string, TensorToWrite> = {
    'embeddings.word_embeddings.weight': gaussian([vocabulary.length, hidden], 1),
    'embeddings.position_embeddings.weight': gaussian([maxPositions, hidden], 0.1),
    'embeddings.token_type_embeddings.weight': gaussian([2, hidden], 0.1),
    ...layerNorm('embeddings.LayerNorm'),
  };
  for (let layer = 0; layer < layers; layer++) {
    const at = `encoder.layer.${layer}`;
    Object.assign(
      tensors,
      linear(`${at}.attention.self.query`, hidden, hidden),
      linear(`${at}.attention.self.key`, hidden, hidden),
      linear(`${at}.attention.self.value`, hidden, hidden),
      linear(`${at}.attention.output.dense`, hidden, hidden),
      layerNorm(`${at}.attention.output.LayerNorm`),
      linear(`${at}.intermediate.dense`, intermediate, hidden),
      linear(`${at}.output.dense`, hidden, intermediate),
      layerNorm(`${at}.output.LayerNorm`),
    );
  }
  // A pooler, as real checkpoints have, which the encoder must skip.
  Object.assign(tensors, linear('pooler.dense', hidden, hidden));
  const named = Object.fromEntries(Object.entries(tensors).map(([name, tensor]) => [prefix + name, tensor]));

  const folder = mkdtempSync(join(tmpdir(), 'textgan-tiny-bert-'));
  const config = {
    architectures: ['BertModel'],
    model_type: 'bert',
    hidden_act: 'gelu',
    hidden_size: hidden,
    intermediate_size: intermediate,
    layer_norm_eps: 1e-12,
    max_position_embeddings: maxPositions,
    num_attention_heads: heads,
    num_hidden_layers: layers,
    position_embedding_type: 'absolute',
    type_vocab_size: 2,
    vocab_size: vocabulary.length,
  };
  writeFileSync(join(folder, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(folder, 'tokenizer_config.json'), JSON.stringify({ do_lower_case: true }));
  writeFileSync(join(folder, 'vocab.txt'), vocabulary.join('\n') + '\n');
  if (!options.omitWeights) {
    writeFileSync(join(folder, 'model.safetensors'), writeSafetensors(named, { format: 'pt' }));
  }
  return folder;
}
