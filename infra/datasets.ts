import type { DatasetConfig } from './config';

/**
 * The Cyberbullying datasets collection (Elsafoury 2020, Mendeley Data, doi:10.17632/jf4pzyvnpj.1).
 * Five of its eight files ship gzip-compressed in data/cyberbully, and the three Wikipedia Talk files
 * are listed at their original download addresses and skipped with a warning when unreachable.
 */
const ORIGINAL_BASE = 'https://s3-eu-west-1.amazonaws.com/pstorage-mendeley-9030361288';

export const BUNDLED_DATA_DIR = 'data/cyberbully';

export function cyberbullyDataset(): DatasetConfig {
  const bundled = (name: string, file: string, annotationColumn?: string) => ({
    name,
    uri: `${BUNDLED_DATA_DIR}/${file}.gz`,
    format: 'csv' as const,
    textColumn: 'Text',
    label: { column: 'oh_label' },
    annotationColumn,
    optional: false,
  });
  const wikipedia = (name: string, id: number, file: string) => ({
    name,
    uri: `${ORIGINAL_BASE}/${id}/${file}`,
    format: 'csv' as const,
    textColumn: 'Text',
    label: { column: 'oh_label' },
    optional: true,
  });
  return {
    name: 'cyberbully',
    sources: [
      bundled('kaggle', 'kaggle_parsed_dataset.csv'),
      bundled('twitter', 'twitter_parsed_dataset.csv', 'Annotation'),
      bundled('twitter_racism', 'twitter_racism_parsed_dataset.csv', 'Annotation'),
      bundled('twitter_sexism', 'twitter_sexism_parsed_dataset.csv', 'Annotation'),
      bundled('youtube', 'youtube_parsed_dataset.csv'),
      wikipedia('aggression', 22895468, 'aggression_parsed_dataset.csv'),
      wikipedia('attack', 22895471, 'attack_parsed_dataset.csv'),
      wikipedia('toxicity', 22895489, 'toxicity_parsed_dataset.csv'),
    ],
  };
}
