import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseRunConfig, setPath } from '../infra/config';
import { buildRunConfig, workflowIdFor } from '../cli/run-config';
import { canonicalJson, stageDir, stageFingerprint } from '../infra/stages';

const storage = { endpoint: 'http://127.0.0.1:8333', bucket: 'textgan' };

function configError(action: () => unknown): ConfigError {
  try {
    action();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('run config', () => {
  it('fills every default for the bundled dataset', () => {
    const config = buildRunConfig({ sets: [] }, storage);
    expect(config.dataset.sources).toHaveLength(8);
    expect(config.dataset.sources.filter((source) => source.optional).map((source) => source.name)).toEqual([
      'aggression',
      'attack',
      'toxicity',
    ]);
    expect(config.stages.tokenize.maxTokens).toBe(1200);
    expect(config.stages.tokenize.testFraction).toBe(0.2);
    expect(config.storage.prefix).toBe('textgan');
  });

  it('applies --set flags with JSON values', () => {
    const config = buildRunConfig(
      { sets: ['stages.tokenize.maxTokens=60', 'stages.tokenize.lowercase=true', 'runName=trial'] },
      storage,
    );
    expect(config.stages.tokenize.maxTokens).toBe(60);
    expect(config.stages.tokenize.lowercase).toBe(true);
    expect(config.runName).toBe('trial');
  });

  it('lists every invalid field with its path', () => {
    const error = configError(() =>
      buildRunConfig(
        {
          sets: ['stages.fetch.batchRows=-5', 'stages.tokenize.overLength=cut', 'storage.bucket=Bad_Bucket'],
        },
        storage,
      ),
    );
    const paths = error.problems.map((problem) => problem.split(':')[0]);
    expect(paths).toEqual(
      expect.arrayContaining(['stages.fetch.batchRows', 'stages.tokenize.overLength', 'storage.bucket']),
    );
    expect(error.problems).toHaveLength(3);
  });

  it('rejects an unknown embedding strategy and preset', () => {
    const error = configError(() =>
      buildRunConfig(
        { sets: ['stages.embed.strategies=["scalar","word3vec"]', 'stages.train.preset=huge'] },
        storage,
      ),
    );
    expect(error.problems.map((problem) => problem.split(':')[0])).toEqual([
      'stages.embed.strategies.1',
      'stages.train.preset',
    ]);
  });

  it('defaults to all three strategies', () => {
    const config = buildRunConfig({ sets: [] }, storage);
    expect(config.stages.embed.strategies).toEqual(['scalar', 'word2vec', 'bert']);
    expect(config.stages.embed.word2vec.vectorSize).toBe(12);
  });

  it('rejects a repeated strategy', () => {
    const repeated = configError(() =>
      buildRunConfig({ sets: ['stages.embed.strategies=["bert","bert"]'] }, storage),
    );
    expect(repeated.message).toContain('must not name a strategy twice');
  });

  it('upgrades the old single strategy field', () => {
    const config = buildRunConfig({ sets: ['stages.embed.strategy=word2vec'] }, storage);
    expect(config.stages.embed.strategies).toEqual(['word2vec']);
  });

  it('rejects misspelt embedding options', () => {
    const error = configError(() =>
      buildRunConfig(
        { sets: ['stages.embed.bert.modle="/x"', 'stages.embed.maxTexts.bret={"train":5}'] },
        storage,
      ),
    );
    expect(error.message).toContain('modle');
    expect(error.message).toContain('bret');
  });

  it('rejects GAN overrides with unknown or invalid fields', () => {
    const error = configError(() =>
      buildRunConfig({ sets: ['stages.train.overrides={"batchSize":-1,"depth":3}'] }, storage),
    );
    expect(error.message).toContain('stages.train.overrides');
  });

  it('rejects a local source that does not exist', () => {
    const dir = mkdtempSync(join(tmpdir(), 'textgan-config-'));
    const file = join(dir, 'run.json');
    writeFileSync(
      file,
      JSON.stringify({
        dataset: { name: 'mine', sources: [{ name: 'one', uri: join(dir, 'missing.csv') }] },
      }),
    );
    const error = configError(() => buildRunConfig({ configFile: file, sets: [] }, storage));
    expect(error.problems).toEqual([`dataset.sources.0.uri: file not found: ${join(dir, 'missing.csv')}`]);
  });

  it('names the file when its JSON is invalid', () => {
    const dir = mkdtempSync(join(tmpdir(), 'textgan-config-'));
    const file = join(dir, 'broken.json');
    writeFileSync(file, '{ "dataset": ');
    expect(configError(() => buildRunConfig({ configFile: file, sets: [] }, storage)).message).toContain(
      `Invalid JSON in config file ${file}`,
    );
  });

  it('rejects source names that could escape the key prefix', () => {
    const error = configError(() =>
      parseRunConfig({
        dataset: { name: 'x', sources: [{ name: '../etc', uri: 'a.csv' }] },
        storage: { bucket: 'textgan' },
      }),
    );
    expect(error.problems[0]).toMatch(/^dataset\.sources\.0\.name: /);
  });

  it('rejects --set paths that would touch prototypes', () => {
    expect(() => setPath({}, '__proto__.polluted', '1')).toThrow(ConfigError);
  });

  it('derives equal workflow ids for equal configs', () => {
    const first = buildRunConfig({ sets: [] }, storage);
    const second = buildRunConfig({ sets: [] }, storage);
    const changed = buildRunConfig({ sets: ['stages.tokenize.seed=7'] }, storage);
    expect(workflowIdFor(first)).toBe(workflowIdFor(second));
    expect(workflowIdFor(first)).not.toBe(workflowIdFor(changed));
  });
});

describe('stage keys', () => {
  const inputs = [
    { stage: 'fetch', manifestKey: 'p/stages/fetch/abc/_manifest.json', contentHash: 'f'.repeat(64) },
  ];

  it('ignores object key order', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: 3 } })).toBe('{"a":{"c":3,"d":2},"b":1}');
  });

  it('depend on inputs, options and version', () => {
    const base = stageFingerprint('dedup', 1, inputs, { batchRows: 10 });
    expect(stageFingerprint('dedup', 1, inputs, { batchRows: 10 })).toBe(base);
    expect(stageFingerprint('dedup', 2, inputs, { batchRows: 10 })).not.toBe(base);
    expect(stageFingerprint('dedup', 1, inputs, { batchRows: 11 })).not.toBe(base);
    expect(
      stageFingerprint('dedup', 1, [{ ...inputs[0]!, contentHash: 'e'.repeat(64) }], { batchRows: 10 }),
    ).not.toBe(base);
  });

  it('place output under the prefix and stage name', () => {
    expect(stageDir('textgan', 'dedup', 'abc123')).toBe('textgan/stages/dedup/abc123');
  });
});
