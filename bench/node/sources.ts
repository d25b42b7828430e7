import { basename, join } from 'node:path';
import { cyberbullyDataset } from '../../infra/datasets';

/** One bundled comment file and the columns the pipeline reads from it. */
export interface BenchSource {
  name: string;
  file: string;
  textColumn: string;
  labelColumn: string;
  annotationColumn?: string;
}

/**
 * Returns the five bundled sources of the comment dataset, with their files looked up in `dir`
 * instead of data/cyberbully. The scaled corpora keep the bundled file names and columns.
 */
export function bundledSources(dir: string): BenchSource[] {
  return cyberbullyDataset()
    .sources.filter((source) => !source.optional)
    .map((source) => ({
      name: source.name,
      file: join(dir, basename(source.uri)),
      textColumn: source.textColumn,
      labelColumn: source.label.column,
      annotationColumn: source.annotationColumn,
    }));
}
