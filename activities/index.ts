// Every activity the pipeline task queue serves. Workflows import only the types, through
// proxyActivities<typeof activities>, so activity code never enters the workflow sandbox.
// Embedding runs on the training task queue (see workers/train-worker.ts) because BERT needs the
// TensorFlow.js backend that the training worker loads.
export { fetchComments } from './fetch';
export { dedupComments } from './dedup';
export { tokenizeComments } from './tokenize';
export { fitMarkov } from './markov';
export { writeReport } from './report';
