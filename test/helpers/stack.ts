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

/** Start attempts of a test stack; a port can be taken between choosing it and binding it. */
const STACK_START_ATTEMPTS = 3;

/**
 * Chooses the six ports of a stack so that no port is another's gRPC port (port + 10000), which
 * SeaweedFS and Temporal also bind.
 */
async function chooseStackPorts(): Promise<StackOptions['ports']> {
  const reservedPorts = new Set<number>();
  const next = async (): Promise<number> => {
    for (;;) {
      const port = await findFreePort();
      if (reservedPorts.has(port) || reservedPorts.has(port + 10000) || reservedPorts.has(port - 10000))
        continue;
      reservedPorts.add(port);
      reservedPorts.add(port + 10000);
      return port;
    }
  };
  return {
    temporal: await next(),
    temporalUi: await next(),
    s3: await next(),
    seaweedMaster: await next(),
    seaweedVolume: await next(),
    seaweedFiler: await next(),
  };
}

export async function startTestStack(): Promise<TestStack> {
  quietTemporalLogs();
  const defaults = stackOptionsFromEnv();
  let stateDir = '';
  let options: StackOptions | undefined;
  let info: StackInfo | undefined;
  for (let attempt = 1; info === undefined; attempt++) {
    stateDir = mkdtempSync(join(tmpdir(), 'textgan-test-'));
    options = {
      ...defaults,
      paths: { venvDir: defaults.paths.venvDir, stateDir },
      ports: await chooseStackPorts(),
      bucket: 'textgan-test',
      verbose: false,
      headless: true,
    };
    try {
      info = await startStack(options);
    } catch (error) {
      // Another process can bind a chosen port first, most often on a busy machine; try new ports.
      await stopStack(options).catch(() => undefined);
      if (attempt >= STACK_START_ATTEMPTS) throw error;
      process.stderr.write(
        `[test] stack start failed (${(error as Error).message}); retrying with new ports\n`,
      );
      rmSync(stateDir, { recursive: true, force: true });
    }
  }
  const stackOptions = options as StackOptions;
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
    options: stackOptions,
    storageConfig,
    storage: createStorage(storageConfig),
    client,
    connection,
    async stop() {
      await connection.close();
      await stopStack(stackOptions);
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
