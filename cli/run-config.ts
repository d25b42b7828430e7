import { createHash } from 'node:crypto';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import {
  ConfigError,
  defaultRunConfigInput,
  parseRunConfig,
  readConfigFile,
  setPath,
  type RunConfig,
} from '../infra/config';
import { createStorage, objectExists, openUploadStream, type Storage } from '../infra/s3';
import { canonicalJson, sha256Hex } from '../infra/stages';

export interface ConfigFlags {
  configFile?: string;
  /** `path=value` assignments applied after the file, e.g. `stages.tokenize.maxTokens=60`. */
  sets: string[];
}

/**
 * Builds the run config from defaults, an optional JSON file and `--set` flags, in that order, and
 * validates it before anything starts. `storageDefaults` point at the local stack; a config that
 * names its own storage endpoint and bucket overrides them.
 */
export function buildRunConfig(
  flags: ConfigFlags,
  storageDefaults: { endpoint?: string; bucket: string },
): RunConfig {
  const raw = defaultRunConfigInput(storageDefaults) as Record<string, unknown>;
  if (flags.configFile) {
    const fromFile = readConfigFile(flags.configFile);
    for (const [key, value] of Object.entries(fromFile)) {
      if (key === 'storage' && value && typeof value === 'object') {
        raw.storage = { ...(raw.storage as object), ...(value as object) };
      } else {
        raw[key] = value;
      }
    }
  }
  for (const assignment of flags.sets) {
    const at = assignment.indexOf('=');
    if (at <= 0) {
      throw new ConfigError(
        `Invalid --set "${assignment}": expected path=value, for example stages.tokenize.maxTokens=60`,
        [`${assignment}: expected path=value`],
      );
    }
    setPath(raw, assignment.slice(0, at), assignment.slice(at + 1));
  }
  const config = parseRunConfig(raw, flags.configFile ? `config (${flags.configFile} and flags)` : 'config');
  checkLocalSources(config);
  return config;
}

function isLocal(uri: string): boolean {
  return !/^(s3|https?):\/\//i.test(uri);
}

function localPath(uri: string): string {
  return uri.startsWith('file://') ? new URL(uri).pathname : resolve(uri);
}

/** Fails before the run starts when a local source file is missing, naming the source. */
function checkLocalSources(config: RunConfig): void {
  const problems: string[] = [];
  config.dataset.sources.forEach((source, index) => {
    if (!isLocal(source.uri)) return;
    const path = localPath(source.uri);
    if (!existsSync(path) || !statSync(path).isFile()) {
      problems.push(`dataset.sources.${index}.uri: file not found: ${path}`);
    }
  });
  if (problems.length > 0) throw new ConfigError(`Invalid config:\n  ${problems.join('\n  ')}`, problems);
}

async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Uploads local source files to `<prefix>/inputs/<sha256>/<file>` and points the config at them,
 * so workers on other machines can read them and the fetch stage's key follows file content.
 * A file already uploaded (same hash) is not sent again.
 */
export async function uploadLocalSources(
  config: RunConfig,
  storage: Storage = createStorage(config.storage),
): Promise<RunConfig> {
  const sources = [];
  for (const source of config.dataset.sources) {
    if (!isLocal(source.uri)) {
      sources.push(source);
      continue;
    }
    const path = localPath(source.uri);
    const sha256 = await sha256OfFile(path);
    const key = `${config.storage.prefix}/inputs/${sha256}/${basename(path)}`;
    if (!(await objectExists(storage, key))) {
      const upload = openUploadStream(storage, key);
      await pipeline(createReadStream(path), upload.stream);
      await upload.done();
    }
    sources.push({ ...source, uri: `s3://${config.storage.bucket}/${key}`, sha256 });
  }
  return { ...config, dataset: { ...config.dataset, sources } };
}

/** Derives a workflow id that is equal for equal configs, so starting the same run twice attaches to it. */
export function workflowIdFor(config: RunConfig): string {
  const name = (config.runName ?? config.dataset.name)
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .slice(0, 40);
  return `textgan-${name}-${sha256Hex(canonicalJson(config)).slice(0, 12)}`;
}
