import { createHash } from 'node:crypto';
import { Readable, Transform } from 'node:stream';
import {
  CreateBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  NoSuchKey,
  NotFound,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { StorageConfig } from './config';

/**
 * The one S3 client of the project. Credentials come from the standard AWS environment variables
 * (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) or the SDK's other providers, never from the run config,
 * so they stay out of workflow inputs, results and history.
 */
export interface Storage {
  client: S3Client;
  bucket: string;
}

export function createStorage(
  config: Pick<StorageConfig, 'endpoint' | 'region' | 'bucket' | 'forcePathStyle'>,
): Storage {
  const client = new S3Client({
    endpoint: config.endpoint,
    region: config.region,
    forcePathStyle: config.forcePathStyle,
    // The SDK retries throttling and 5xx responses itself, and Temporal's activity retries cover longer outages.
    maxAttempts: 4,
  });
  return { client, bucket: config.bucket };
}

export function isNotFound(error: unknown): boolean {
  if (error instanceof NoSuchKey || error instanceof NotFound) return true;
  return error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404;
}

export async function objectExists(storage: Storage, key: string): Promise<boolean> {
  try {
    await storage.client.send(new HeadObjectCommand({ Bucket: storage.bucket, Key: key }));
    return true;
  } catch (error) {
    if (isNotFound(error)) return false;
    throw error;
  }
}

export async function objectSize(storage: Storage, key: string): Promise<number> {
  const head = await storage.client.send(new HeadObjectCommand({ Bucket: storage.bucket, Key: key }));
  return head.ContentLength ?? 0;
}

export async function putBytes(
  storage: Storage,
  key: string,
  body: Buffer | string,
  contentType?: string,
): Promise<void> {
  await storage.client.send(
    new PutObjectCommand({ Bucket: storage.bucket, Key: key, Body: body, ContentType: contentType }),
  );
}

export async function putJson(storage: Storage, key: string, value: unknown): Promise<void> {
  await putBytes(storage, key, JSON.stringify(value, null, 2) + '\n', 'application/json');
}

export async function getBytes(
  storage: Storage,
  key: string,
  range?: { offset: number; length: number },
): Promise<Buffer> {
  const response = await storage.client.send(
    new GetObjectCommand({
      Bucket: storage.bucket,
      Key: key,
      Range: range ? `bytes=${range.offset}-${range.offset + range.length - 1}` : undefined,
    }),
  );
  if (!response.Body) throw new Error(`S3 object s3://${storage.bucket}/${key} has no body`);
  return Buffer.from(await response.Body.transformToByteArray());
}

export async function getJson<T>(storage: Storage, key: string): Promise<T> {
  return JSON.parse((await getBytes(storage, key)).toString('utf8')) as T;
}

/** Returns the parsed JSON object, or undefined when the key does not exist. */
export async function getJsonIfExists<T>(storage: Storage, key: string): Promise<T | undefined> {
  try {
    return await getJson<T>(storage, key);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export async function getStream(storage: Storage, bucket: string, key: string): Promise<Readable> {
  const response = await storage.client.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!response.Body) throw new Error(`S3 object s3://${bucket}/${key} has no body`);
  return response.Body as Readable;
}

export async function listKeys(storage: Storage, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await storage.client.send(
      new ListObjectsV2Command({ Bucket: storage.bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const item of page.Contents ?? []) if (item.Key) keys.push(item.Key);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

export async function deleteKeys(storage: Storage, keys: string[]): Promise<void> {
  for (let start = 0; start < keys.length; start += 1000) {
    const chunk = keys.slice(start, start + 1000);
    await storage.client.send(
      new DeleteObjectsCommand({
        Bucket: storage.bucket,
        Delete: { Objects: chunk.map((Key) => ({ Key })) },
      }),
    );
  }
}

export async function ensureBucket(storage: Storage): Promise<void> {
  try {
    await storage.client.send(new HeadBucketCommand({ Bucket: storage.bucket }));
  } catch (error) {
    if (!isNotFound(error)) throw error;
    await storage.client.send(new CreateBucketCommand({ Bucket: storage.bucket }));
  }
}

/** Result of a streamed upload: size and SHA-256 of exactly the bytes that were stored. */
export interface UploadResult {
  key: string;
  bytes: number;
  sha256: string;
}

/**
 * Opens a writable stream that uploads to `key` with a multipart upload, holding at most a few
 * 5 MiB parts in memory. `done()` resolves after the object is complete; `abort()` drops it.
 */
export function openUploadStream(
  storage: Storage,
  key: string,
  contentType = 'application/octet-stream',
): { stream: Transform; done: () => Promise<UploadResult>; abort: () => Promise<void> } {
  const hash = createHash('sha256');
  let bytes = 0;
  // Hashing inside the stream that the upload consumes covers every byte once, in order.
  const body = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      bytes += chunk.length;
      callback(null, chunk);
    },
  });
  const upload = new Upload({
    client: storage.client,
    params: { Bucket: storage.bucket, Key: key, Body: body, ContentType: contentType },
    queueSize: 2,
    partSize: 5 * 1024 * 1024,
  });
  const finished = upload.done();
  // Attach a handler now so a failure before done() is awaited is not an unhandled rejection.
  finished.catch(() => undefined);
  return {
    stream: body,
    done: async () => {
      await finished;
      return { key, bytes, sha256: hash.digest('hex') };
    },
    abort: async () => {
      body.destroy();
      await upload.abort().catch(() => undefined);
    },
  };
}

/** Splits an s3://bucket/key URI; throws with the value when it is not one. */
export function parseS3Uri(uri: string): { bucket: string; key: string } {
  const match = /^s3:\/\/([^/]+)\/(.+)$/.exec(uri);
  if (!match) throw new Error(`Invalid S3 URI "${uri}": expected s3://bucket/key`);
  return { bucket: match[1] as string, key: match[2] as string };
}
