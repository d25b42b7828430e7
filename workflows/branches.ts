import type { EmbedOptions, EmbeddingStrategyName, SplitLimits } from '../infra/config';

/** Options of one branch's embed stage: only that strategy's settings. */
export interface EmbedStageOptions {
  strategy: EmbeddingStrategyName;
  /** The strategy's own options, e.g. `stages.embed.word2vec`. */
  settings: unknown;
  limits: SplitLimits;
  sampleSeed: number;
  batchRows: number;
  encodeBatch: number;
}

/**
 * Picks one branch's embed options out of the run's embed config. The embed stage's fingerprint
 * covers only these, so changing one strategy's options leaves the other branches reusable.
 */
export function embedStageOptions(embed: EmbedOptions, strategy: EmbeddingStrategyName): EmbedStageOptions {
  return {
    strategy,
    settings: embed[strategy],
    limits: embed.maxTexts[strategy],
    sampleSeed: embed.sampleSeed,
    batchRows: embed.batchRows,
    encodeBatch: embed.encodeBatch,
  };
}

/**
 * Returns the strategy a branch stage belongs to: "train word2vec" is step "train" of strategy
 * "word2vec". A bare step name is the single scalar branch of runs made before branches existed.
 */
export function branchOf(stage: string, step: string): string | undefined {
  if (stage === step) return 'scalar';
  return stage.startsWith(`${step} `) ? stage.slice(step.length + 1) : undefined;
}
