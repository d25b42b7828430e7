import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { getStream, isNotFound, parseS3Uri, type Storage } from '../infra/s3';

/** An opened source: its bytes and, when the transport reports it, its size in bytes. */
export interface OpenedSource {
  stream: AsyncIterable<Buffer>;
  size?: number;
}

/** The source could not be reached (network, DNS, HTTP 5xx): a retry or a later run may succeed. */
export class SourceUnreachableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceUnreachableError';
  }
}

/** The source does not exist (missing file, HTTP 404, missing S3 object): retrying cannot help. */
export class SourceNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SourceNotFoundError';
  }
}

/** Opens a local path, file:// URL, http(s) URL or s3://bucket/key for streaming reads. */
export async function openSource(
  uri: string,
  storage: Storage,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<OpenedSource> {
  if (uri.startsWith('s3://')) return openS3(uri, storage);
  if (/^https?:\/\//i.test(uri)) return openHttp(uri, options);
  const path = uri.startsWith('file://') ? fileURLToPath(uri) : resolvePath(uri);
  let size: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new SourceNotFoundError(`${uri} is not a regular file`);
    size = info.size;
  } catch (error) {
    if (error instanceof SourceNotFoundError) throw error;
    throw new SourceNotFoundError(
      `File not found: ${path}. Check the source's uri (relative paths resolve from ${process.cwd()}).`,
    );
  }
  return { stream: createReadStream(path, { highWaterMark: 1 << 20 }), size };
}

async function openS3(uri: string, storage: Storage): Promise<OpenedSource> {
  const { bucket, key } = parseS3Uri(uri);
  try {
    const head = await storage.client.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return { stream: await getStream(storage, bucket, key), size: head.ContentLength };
  } catch (error) {
    if (isNotFound(error)) {
      throw new SourceNotFoundError(
        `S3 object not found: ${uri}. Check the bucket and key, and that the worker's credentials can read it.`,
      );
    }
    throw error;
  }
}

async function openHttp(
  uri: string,
  options: { timeoutMs: number; signal?: AbortSignal },
): Promise<OpenedSource> {
  const signals = [AbortSignal.timeout(options.timeoutMs)];
  if (options.signal) signals.push(options.signal);
  let response: Response;
  try {
    response = await fetch(uri, { signal: AbortSignal.any(signals), redirect: 'follow' });
  } catch (error) {
    const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
    const reason = cause?.code ?? cause?.message ?? (error as Error).message;
    throw new SourceUnreachableError(`Cannot reach ${uri}: ${reason}`);
  }
  if (response.status === 404 || response.status === 410) {
    throw new SourceNotFoundError(
      `${uri} responded with HTTP ${response.status}: the file is not there. Check the URL.`,
    );
  }
  if (!response.ok || !response.body) {
    throw new SourceUnreachableError(`${uri} responded with HTTP ${response.status} ${response.statusText}`);
  }
  const length = Number(response.headers.get('content-length'));
  return {
    stream: Readable.fromWeb(
      response.body as import('node:stream/web').ReadableStream<Uint8Array>,
    ) as AsyncIterable<Buffer>,
    size: Number.isFinite(length) && length > 0 ? length : undefined,
  };
}
