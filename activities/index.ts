// Every activity the pipeline task queue serves. Workflows import only the types, through
// proxyActivities<typeof activities>, so activity code never enters the workflow sandbox.
export { fetchComments } from './fetch';
export { dedupComments } from './dedup';
export { tokenizeComments } from './tokenize';
export { embedTokens } from './embed';
export { fitMarkov } from './markov';
export { writeReport } from './report';
