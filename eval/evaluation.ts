/** Result types of the evaluate stage, shared by the stage, the report, the CLI summary and the tables. */

/** One row of the study's table: the discriminator's accuracy at 0.5 and MSE against the true label. */
export interface DiscriminatorRow {
  data: 'train (real)' | 'test (real)' | 'generator (fake)' | 'markov (fake)';
  count: number;
  accuracy: number;
  mse: number;
}

/** Metrics of one text source: real test text, the GAN's samples or the Markov chain's. */
export interface TextMetrics {
  model: 'real' | 'gan' | 'markov';
  texts: number;
  emptyTexts: number;
  bleu2: number;
  bleu3: number;
  bleu4: number;
  selfBleu4: number;
  distinct1: number;
  distinct2: number;
  /** Null after a JSON round trip when the perplexity was not finite. */
  perplexityStudy: number | null;
  perplexityKneserNey: number | null;
  /** Share of generated positions that decoded to padding or no known word; null for real and Markov text. */
  unknownShare: number | null;
  /**
   * Held-out accuracy of a fresh discriminator-shaped classifier telling this source from real text;
   * 0.5 is indistinguishable. Low and high bound its 95% Wilson interval.
   */
  twoSampleAccuracy: number | null;
  twoSampleLow: number | null;
  twoSampleHigh: number | null;
  /** That classifier's accuracy on its own training texts. Near 0.5 it did not learn, so its test result is void. */
  twoSampleTrainAccuracy: number | null;
  /** The same test with a logistic regression over word n-grams, which rarely fails to learn. */
  ngramTwoSampleAccuracy: number | null;
  ngramTwoSampleLow: number | null;
  ngramTwoSampleHigh: number | null;
}

/** What the evaluate stage stores in its manifest and the report reads. */
export interface Evaluation {
  discriminator: DiscriminatorRow[];
  text: TextMetrics[];
}
