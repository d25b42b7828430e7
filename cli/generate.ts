import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { loadStrategy } from '../activities/embed';
import { wordsOf } from '../embeddings/strategy';
import { createStorage, getBytes } from '../infra/s3';
import { readManifest } from '../infra/stages';
import { Random } from '../lib/random';
import { loadTensorFlow, type PreferredBackend } from '../ml/backend';
import { loadNetwork } from '../ml/checkpoint';
import { generateSamples } from '../ml/gan';
import { branchOf } from '../workflows/branches';
import type { PipelineResult } from '../workflows/pipeline';
import { connectStack, temporalTarget } from './run';

const CONTENT_NOTE =
  'Content note: the generator learned from abusive, racist and sexist comments; its output may be offensive.';

/**
 * `textgan generate --run <workflow id> [--strategy NAME] [--count N] [--seed S] [--out FILE]`:
 * loads one embedding branch's trained generator and embedding from a finished run (the first
 * strategy that trained by default) and writes N decoded texts, one per line.
 */
export async function generateCommand(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      run: { type: 'string' },
      count: { type: 'string', default: '20' },
      seed: { type: 'string', default: '1' },
      out: { type: 'string' },
      strategy: { type: 'string' },
    },
  });
  const count = Number(values.count);
  const seed = Number(values.seed);
  if (!values.run) {
    process.stderr.write('Missing --run: give the workflow id that `textgan run` printed.\n');
    return 2;
  }
  if (!Number.isInteger(count) || count < 1) {
    process.stderr.write(`Invalid --count "${values.count}": expected a positive integer.\n`);
    return 2;
  }
  if (!Number.isInteger(seed) || seed < 0) {
    process.stderr.write(`Invalid --seed "${values.seed}": expected a non-negative integer.\n`);
    return 2;
  }

  const target = temporalTarget(await connectStack());
  const connection = await Connection.connect({ address: target.address });
  let result: PipelineResult;
  try {
    const client = new Client({ connection, namespace: target.namespace });
    result = (await client.workflow.getHandle(values.run).result()) as PipelineResult;
  } finally {
    await connection.close();
  }
  const trained = Object.keys(result.stages)
    .map((stage) => branchOf(stage, 'train'))
    .filter((strategy): strategy is string => strategy !== undefined);
  const strategyName = values.strategy ?? trained[0];
  const stageOf = (step: string) =>
    Object.entries(result.stages).find(([stage]) => branchOf(stage, step) === strategyName)?.[1];
  const train = stageOf('train');
  const embed = stageOf('embed');
  if (!train || !embed) {
    const detail =
      trained.length === 0
        ? 'it stopped before training'
        : `strategies trained: ${trained.join(', ')}; pick one with --strategy`;
    process.stderr.write(
      `Run ${values.run} has no trained generator${values.strategy ? ` for strategy "${values.strategy}"` : ''} (${detail}).\n`,
    );
    return 1;
  }

  const storage = createStorage(result.storage);
  const loaded = await loadTensorFlow({
    preferred: (process.env.TEXTGAN_TF_BACKEND ?? 'auto') as PreferredBackend,
  });
  const trainManifest = await readManifest(storage, train.manifestKey);
  const strategy = await loadStrategy(storage, await readManifest(storage, embed.manifestKey));
  const generator = await loadNetwork(
    loaded.tf,
    await getBytes(storage, trainManifest.artifacts.generator!.key),
    'generator',
  );
  try {
    const values3d = generateSamples(
      loaded.tf,
      generator.model,
      generator.config,
      generator.inputSize,
      count,
      Random.fromSeed(seed),
    );
    const texts = strategy
      .decodeBatch(values3d, count, generator.config.seqLen)
      .map((words) => wordsOf(words).join(' '));
    const body = texts.join('\n') + '\n';
    process.stderr.write(`${CONTENT_NOTE}\n`);
    if (values.out) {
      writeFileSync(values.out, body);
      process.stderr.write(`Wrote ${count} texts to ${values.out}\n`);
    } else {
      process.stdout.write(body);
    }
  } finally {
    generator.model.dispose();
  }
  return 0;
}
