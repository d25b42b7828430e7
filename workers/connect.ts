import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';

/**
 * Connects to Temporal and creates a worker on that connection, closing the connection again when
 * the worker cannot be created. Callers run `worker.run()` and close the connection after it returns.
 */
export async function connectWorker(
  address: string,
  options: Omit<WorkerOptions, 'connection'>,
): Promise<{ worker: Worker; connection: NativeConnection }> {
  const connection = await NativeConnection.connect({ address });
  try {
    const worker = await Worker.create({
      // Progress in the CLI and the Web UI is only as fresh as the last heartbeat the server received.
      maxHeartbeatThrottleInterval: '5 seconds',
      ...options,
      connection,
    });
    return { worker, connection };
  } catch (error) {
    await connection.close();
    throw error;
  }
}
