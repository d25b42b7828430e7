import type { RunConfig } from '../infra/config';
import type { PipelineResult } from '../workflows/pipeline';

/**
 * Stands in for a finished pipeline run in the label command's tests: it is started with a config,
 * as the pipeline is, and completes with the result it is given.
 */
export async function fakeFinishedPipeline(
  _config: RunConfig,
  result: PipelineResult,
): Promise<PipelineResult> {
  return result;
}
