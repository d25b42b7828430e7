import { parseArgs } from 'node:util';
import { DefaultLogger, Runtime, type LogLevel } from '@temporalio/worker';
import { loadTensorFlow, type PreferredBackend } from '../ml/backend';
import { createTrainWorker, describeBackend } from './train-worker';

/**
 * Runs a standalone training worker, the process GPU machines run:
 *   node --import tsx workers/train-main.ts [--require-gpu] [--backend auto|tensorflow|wasm|cpu]
 * Connects to TEMPORAL_ADDRESS (default 127.0.0.1:7233) and reads S3 credentials from the
 * standard AWS variables.
 */
async function main(): Promise<void> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { values } = parseArgs({
    options: {
      'require-gpu': { type: 'boolean', default: process.env.TEXTGAN_REQUIRE_GPU === '1' },
      backend: { type: 'string', default: process.env.TEXTGAN_TF_BACKEND ?? 'auto' },
    },
  });
  const level = (process.env.TEXTGAN_LOG_LEVEL ?? 'INFO') as LogLevel;
  const logger = new DefaultLogger(level, (entry) => {
    // This worker serves activities only, so the SDK's warning that it polls no workflows is expected.
    if (entry.message.startsWith('No workflows registered')) return;
    process.stderr.write(
      `${new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString()} [${entry.level}] ${entry.message} ${JSON.stringify(entry.meta ?? {})}\n`,
    );
  });
  Runtime.install({ logger });
  const loaded = await loadTensorFlow({
    requireGpu: values['require-gpu'],
    preferred: values.backend as PreferredBackend,
  });
  const address = process.env.TEMPORAL_ADDRESS ?? '127.0.0.1:7233';
  const namespace = process.env.TEMPORAL_NAMESPACE ?? 'default';
  const { worker, connection } = await createTrainWorker({ address, namespace, loaded });
  process.stderr.write(`Training worker on ${address}, pid ${process.pid}. ${describeBackend(loaded)}\n`);
  try {
    // Worker.run() shuts down gracefully on SIGINT and SIGTERM, finishing or cancelling its activity.
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(
    `Training worker failed to start: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
});
