// Entry point the worker bundles into the workflow sandbox: deterministic code only, no I/O.
export { textGanPipeline, pipelineStatusQuery } from './pipeline';
