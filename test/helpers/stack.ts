import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DefaultLogger,
  Runtime,
  bundleWorkflowCode,
  type LogEntry,
  type WorkflowBundle,
} from '@temporalio/worker';
import { Client, Connection } from '@temporalio/client';
import type { StorageConfig } from '../../infra/config';
import { createStorage, type Storage } from '../../infra/s3';
import { createPipelineWorker, workflowsPath } from '../../workers/pipeline-worker';
import {
  findFreePort,
  startStack,
  stackOptionsFromEnv,
  stopStack,
  type StackInfo,
  type StackOptions,
} from '../../infra/stack';

/** A private Temporal dev server and SeaweedFS on free loopback ports, with state in a temp folder. */
export interface TestStack {
  info: StackInfo;
  options: StackOptions;
  storageConfig: StorageConfig;
  storage: Storage;
  client: Client;
  connection: Connection;
  stop(): Promise<void>;
}

export async function startTestStack(): Promise<TestStack> {
  quietTemporalLogs();
  const stateDir = mkdtempSync(join(tmpdir(), 'textgan-test-'));
  const defaults = stackOptionsFromEnv();
  const options: StackOptions = {
    ...defaults,
    paths: { venvDir: defaults.paths.venvDir, stateDir },
    ports: {
      temporal: await findFreePort(),
      temporalUi: await findFreePort(),
      s3: await findFreePort(),
      seaweedMaster: await findFreePort(),
      seaweedVolume: await findFreePort(),
      seaweedFiler: await findFreePort(),
    },
    bucket: 'textgan-test',
    verbose: false,
    headless: true,
  };
  const info = await startStack(options);
  // Activities read credentials from the standard variables, as a deployed worker would.
  process.env.AWS_ACCESS_KEY_ID = info.credentials.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = info.credentials.secretAccessKey;
  const storageConfig: StorageConfig = {
    endpoint: info.s3Endpoint,
    region: 'us-east-1',
    bucket: info.bucket,
    prefix: 'test',
    forcePathStyle: true,
  };
  const connection = await Connection.connect({ address: info.temporalAddress });
  const client = new Client({ connection, namespace: info.namespace });
  return {
    info,
    options,
    storageConfig,
    storage: createStorage(storageConfig),
    client,
    connection,
    async stop() {
      await connection.close();
      await stopStack(options);
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** A pipeline worker running in this process against a test stack. */
export interface RunningWorker {
  stop(): Promise<void>;
}

/** Starts a pipeline worker (workflow and CPU stages) for the test stack; `stop()` drains and closes it. */
export async function startPipelineWorker(stack: TestStack): Promise<RunningWorker> {
  const { worker, connection } = await createPipelineWorker({
    address: stack.info.temporalAddress,
    namespace: stack.info.namespace,
    workflowBundle: await bundleWorkflows(),
  });
  const running = worker.run();
  return {
    async stop() {
      worker.shutdown();
      await running.catch(() => undefined);
      await connection.close();
    },
  };
}

/** Bundles the workflows once per test file; each worker then starts in well under a second. */
export function bundleWorkflows(): Promise<WorkflowBundle> {
  return bundleWorkflowCode({ workflowsPath: workflowsPath(), logger: silentLogger() });
}

function silentLogger() {
  const noop = () => undefined;
  return { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };
}

/** Every log entry of this process's workers, so tests can check what was logged. */
export const capturedLogs: LogEntry[] = [];

/**
 * Captures worker and activity logs for inspection and prints only warnings and errors, which
 * keeps worker state changes out of test output.
 */
function quietTemporalLogs(): void {
  try {
    Runtime.install({
      logger: new DefaultLogger('INFO', (entry) => {
        capturedLogs.push(entry);
        if (entry.level === 'WARN' || entry.level === 'ERROR')
          process.stderr.write(`[${entry.level}] ${entry.message}\n`);
      }),
    });
  } catch {
    // Already installed in this process by an earlier suite.
  }
}
