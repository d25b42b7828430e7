import { createHash } from 'node:crypto';
import * as os from 'node:os';
import type { MomentumOptimizer, Sequential, Tensor } from '@tensorflow/tfjs';
import { z } from 'zod';
import type { TensorFlow } from './backend';
import { ganConfigSchema, type GanConfig } from './config';
import { buildDiscriminator, buildGenerator, GanTrainer } from './gan';

/*
 * Container layout, all integers little-endian:
 *   8 bytes  magic "TEXTGAN\0"
 *   4 bytes  uint32 format version
 *   4 bytes  uint32 byte length of the header
 *   header   UTF-8 JSON (checkpointHeaderSchema)
 *   padding  zero bytes up to a multiple of 4
 *   payload  float32 tensors back to back, at the byte offsets that the header lists
 *
 * Tensors are stored under the layer-derived `originalName` of their weight (for example
 * `generator_lstm_1/kernel`), which unlike `name` does not depend on how many models the process
 * built before.
 */

const MAGIC = Buffer.from('TEXTGAN\0', 'latin1');
const FORMAT_VERSION = 1;
const PREAMBLE_BYTES = MAGIC.length + 8;

const tensorGroups = ['generator', 'discriminator', 'generatorOptimizer', 'discriminatorOptimizer'] as const;
type TensorGroup = (typeof tensorGroups)[number];

const tensorEntrySchema = z.strictObject({
  group: z.enum(tensorGroups),
  name: z.string(),
  shape: z.array(z.number().int().nonnegative()),
  /** Offset in bytes from the start of the payload. */
  offset: z.number().int().nonnegative(),
});

/** JSON writes NaN and infinities as null, so a diverged run's losses read back as NaN. */
const metric = z.union([z.number(), z.null()]).transform((value) => value ?? Number.NaN);

const stepRecordSchema = z.strictObject({
  step: z.number().int().nonnegative(),
  epoch: z.number().int().nonnegative(),
  batch: z.number().int().nonnegative(),
  dLoss: metric,
  gLoss: metric,
  dRealScore: metric,
  dFakeScore: metric,
  dGradNorm: metric,
  gGradNorm: metric,
});

const uint32 = z.number().int().min(0).max(0xffffffff);

const trainerStateSchema = z.strictObject({
  seed: z.number(),
  randomState: z.tuple([uint32, uint32, uint32, uint32]),
  progress: z.strictObject({
    step: z.number().int().nonnegative(),
    epoch: z.number().int().nonnegative(),
    batch: z.number().int().nonnegative(),
  }),
  history: z.array(stepRecordSchema),
  /** Value of `optimizer.iterations` for each network's optimizer. */
  optimizerIterations: z.strictObject({ generator: z.number().int(), discriminator: z.number().int() }),
});

const checkpointHeaderSchema = z.strictObject({
  kind: z.enum(['trainer', 'generator', 'discriminator']),
  config: ganConfigSchema,
  inputSize: z.number().int().positive(),
  /** Backend that wrote the file. Training resumes bit-for-bit only on the same backend. */
  backend: z.string(),
  tfjsVersion: z.string(),
  tensors: z.array(tensorEntrySchema),
  payloadBytes: z.number().int().nonnegative(),
  payloadSha256: z.string(),
  trainer: trainerStateSchema.optional(),
});

type CheckpointHeader = z.infer<typeof checkpointHeaderSchema>;

interface StoredTensor {
  group: TensorGroup;
  name: string;
  shape: number[];
  data: Float32Array;
}

export type NetworkRole = 'generator' | 'discriminator';

/** A network loaded on its own, with the config and input size it was built for. */
export interface LoadedNetwork {
  model: Sequential;
  config: GanConfig;
  inputSize: number;
}

/**
 * Serialises the complete training state of `trainer`: weights of both networks, both optimizers'
 * momentum accumulators and iteration counts, progress counters, the random stream's state and
 * the loss history. `loadTrainerCheckpoint` turns it into a trainer that continues the run
 * exactly as if it had not stopped, on the same backend.
 */
export async function saveTrainerCheckpoint(tf: TensorFlow, trainer: GanTrainer): Promise<Buffer> {
  const tensors = [
    ...(await modelTensors(trainer.generator, 'generator')),
    ...(await modelTensors(trainer.discriminator, 'discriminator')),
    ...(await optimizerTensors(trainer.generatorOptimizer, trainer.generator, 'generatorOptimizer')),
    ...(await optimizerTensors(
      trainer.discriminatorOptimizer,
      trainer.discriminator,
      'discriminatorOptimizer',
    )),
  ];
  return encodeContainer(tf, 'trainer', trainer.config, trainer.inputSize, tensors, {
    seed: trainer.seed,
    randomState: [...trainer.randomState()],
    progress: { ...trainer.progress },
    history: trainer.history.map((record) => ({ ...record })),
    optimizerIterations: {
      generator: trainer.generatorOptimizer.iterations,
      discriminator: trainer.discriminatorOptimizer.iterations,
    },
  });
}

/**
 * Rebuilds a trainer from `saveTrainerCheckpoint` output. Throws when the buffer is truncated,
 * corrupted, of another kind, or does not match the architecture its config describes.
 */
export async function loadTrainerCheckpoint(tf: TensorFlow, buffer: Buffer): Promise<GanTrainer> {
  const { header, tensors } = decodeContainer(buffer);
  const state = header.trainer;
  if (header.kind !== 'trainer' || state === undefined) {
    throw new Error(
      `expected a trainer checkpoint, got a ${header.kind} file. Load it with loadNetwork instead`,
    );
  }
  const trainer = new GanTrainer(tf, header.config, header.inputSize, {
    seed: state.seed,
    randomState: state.randomState,
    progress: state.progress,
    history: state.history,
  });
  try {
    restoreModel(tf, trainer.generator, tensors, 'generator');
    restoreModel(tf, trainer.discriminator, tensors, 'discriminator');
    await restoreOptimizer(
      tf,
      trainer.generatorOptimizer,
      trainer.generator,
      tensors,
      'generatorOptimizer',
      state.optimizerIterations.generator,
    );
    await restoreOptimizer(
      tf,
      trainer.discriminatorOptimizer,
      trainer.discriminator,
      tensors,
      'discriminatorOptimizer',
      state.optimizerIterations.discriminator,
    );
  } catch (error) {
    trainer.dispose();
    throw error;
  }
  return trainer;
}

/** Serialises one network's weights with the config and input size needed to rebuild it. */
export async function saveNetwork(
  tf: TensorFlow,
  role: NetworkRole,
  model: Sequential,
  config: GanConfig,
  inputSize: number,
): Promise<Buffer> {
  return encodeContainer(tf, role, config, inputSize, await modelTensors(model, role));
}

/**
 * Rebuilds a network saved by `saveNetwork`, or the network `role` out of a trainer checkpoint.
 * The caller owns the returned model and must dispose it.
 */
export async function loadNetwork(tf: TensorFlow, buffer: Buffer, role: NetworkRole): Promise<LoadedNetwork> {
  const { header, tensors } = decodeContainer(buffer);
  if (header.kind !== role && header.kind !== 'trainer') {
    throw new Error(`expected a ${role} or trainer file, got a ${header.kind} file`);
  }
  const build = role === 'generator' ? buildGenerator : buildDiscriminator;
  const model = build(tf, header.config, header.inputSize);
  try {
    restoreModel(tf, model, tensors, role);
  } catch (error) {
    model.dispose();
    throw error;
  }
  return { model, config: header.config, inputSize: header.inputSize };
}

async function modelTensors(model: Sequential, group: TensorGroup): Promise<StoredTensor[]> {
  const out: StoredTensor[] = [];
  for (const weight of model.weights) {
    out.push(await storedTensor(group, weight.originalName, weight.read()));
  }
  return out;
}

/**
 * Reads the momentum accumulators. MomentumOptimizer keeps them in the order of the gradients it
 * was given, which the trainer keeps equal to `model.trainableWeights`, so each accumulator is
 * stored under the name of its weight.
 */
async function optimizerTensors(
  optimizer: MomentumOptimizer,
  model: Sequential,
  group: TensorGroup,
): Promise<StoredTensor[]> {
  const [iterations, ...accumulators] = await optimizer.getWeights();
  iterations?.tensor.dispose();
  if (accumulators.length === 0) return [];
  const weights = model.trainableWeights;
  if (accumulators.length !== weights.length) {
    throw new Error(
      `${group} has ${accumulators.length} momentum accumulators for ${weights.length} trainable weights`,
    );
  }
  const out: StoredTensor[] = [];
  for (const [i, accumulator] of accumulators.entries()) {
    const weight = weights[i];
    if (weight === undefined) throw new Error(`${group}: no trainable weight at position ${i}`);
    assertSameShape(
      `${group} accumulator for ${weight.originalName}`,
      accumulator.tensor.shape,
      weight.shape,
    );
    out.push(await storedTensor(group, weight.originalName, accumulator.tensor));
  }
  return out;
}

async function storedTensor(group: TensorGroup, name: string, tensor: Tensor): Promise<StoredTensor> {
  if (tensor.dtype !== 'float32')
    throw new Error(`${group} tensor ${name} has dtype ${tensor.dtype}, not float32`);
  const data = (await tensor.data()) as Float32Array;
  return { group, name, shape: [...tensor.shape], data: Float32Array.from(data) };
}

function restoreModel(
  tf: TensorFlow,
  model: Sequential,
  stored: Map<string, StoredTensor>,
  group: TensorGroup,
): void {
  const values = model.weights.map((weight) => {
    const entry = requireEntry(stored, group, weight.originalName);
    assertSameShape(`${group} weight ${weight.originalName}`, entry.shape, weight.shape);
    return tf.tensor(entry.data, entry.shape);
  });
  model.setWeights(values);
  tf.dispose(values);
}

async function restoreOptimizer(
  tf: TensorFlow,
  optimizer: MomentumOptimizer,
  model: Sequential,
  stored: Map<string, StoredTensor>,
  group: TensorGroup,
  iterations: number,
): Promise<void> {
  const hasAccumulators = [...stored.values()].some((entry) => entry.group === group);
  const accumulators: { name: string; tensor: Tensor }[] = hasAccumulators
    ? model.trainableWeights.map((weight) => {
        const entry = requireEntry(stored, group, weight.originalName);
        assertSameShape(`${group} accumulator for ${weight.originalName}`, entry.shape, weight.shape);
        return { name: `${weight.originalName}/momentum`, tensor: tf.tensor(entry.data, entry.shape) };
      })
    : [];
  const iterationsTensor = tf.scalar(iterations, 'int32');
  // setWeights wraps each tensor in a new variable that shares its data, so the inputs can be
  // disposed afterwards.
  await optimizer.setWeights([{ name: 'iter', tensor: iterationsTensor }, ...accumulators]);
  iterationsTensor.dispose();
  tf.dispose(accumulators.map((accumulator) => accumulator.tensor));
}

function requireEntry(stored: Map<string, StoredTensor>, group: TensorGroup, name: string): StoredTensor {
  const entry = stored.get(entryKey(group, name));
  if (entry === undefined) throw new Error(`checkpoint has no ${group} tensor named ${name}`);
  return entry;
}

function assertSameShape(
  label: string,
  actual: readonly (number | null)[],
  expected: readonly (number | null)[],
): void {
  if (actual.length !== expected.length || actual.some((size, i) => size !== expected[i])) {
    throw new Error(`${label} has shape [${actual.join(', ')}], expected [${expected.join(', ')}]`);
  }
}

function entryKey(group: TensorGroup, name: string): string {
  return `${group}:${name}`;
}

function encodeContainer(
  tf: TensorFlow,
  kind: CheckpointHeader['kind'],
  config: GanConfig,
  inputSize: number,
  tensors: StoredTensor[],
  trainer?: CheckpointHeader['trainer'],
): Buffer {
  assertLittleEndian();
  let payloadBytes = 0;
  const entries = tensors.map((tensor) => {
    const entry = { group: tensor.group, name: tensor.name, shape: tensor.shape, offset: payloadBytes };
    payloadBytes += tensor.data.byteLength;
    return entry;
  });
  const payload = Buffer.alloc(payloadBytes);
  tensors.forEach((tensor, i) => {
    const bytes = Buffer.from(tensor.data.buffer, tensor.data.byteOffset, tensor.data.byteLength);
    bytes.copy(payload, entries[i]?.offset ?? 0);
  });
  const header: CheckpointHeader = {
    kind,
    config,
    inputSize,
    backend: tf.getBackend(),
    tfjsVersion: tf.version.tfjs,
    tensors: entries,
    payloadBytes,
    payloadSha256: createHash('sha256').update(payload).digest('hex'),
    ...(trainer === undefined ? {} : { trainer }),
  };
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  const preamble = Buffer.alloc(PREAMBLE_BYTES);
  MAGIC.copy(preamble, 0);
  preamble.writeUInt32LE(FORMAT_VERSION, MAGIC.length);
  preamble.writeUInt32LE(headerBytes.length, MAGIC.length + 4);
  const padding = Buffer.alloc((4 - ((PREAMBLE_BYTES + headerBytes.length) % 4)) % 4);
  return Buffer.concat([preamble, headerBytes, padding, payload]);
}

function decodeContainer(buffer: Buffer): { header: CheckpointHeader; tensors: Map<string, StoredTensor> } {
  assertLittleEndian();
  if (buffer.length < PREAMBLE_BYTES || !buffer.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new Error('not a textgan checkpoint: the file does not start with the TEXTGAN magic bytes');
  }
  const version = buffer.readUInt32LE(MAGIC.length);
  if (version !== FORMAT_VERSION) {
    throw new Error(`unsupported checkpoint format version ${version}, expected ${FORMAT_VERSION}`);
  }
  const headerLength = buffer.readUInt32LE(MAGIC.length + 4);
  const headerEnd = PREAMBLE_BYTES + headerLength;
  if (headerEnd > buffer.length) throw new Error('checkpoint is truncated inside its header');
  const header = checkpointHeaderSchema.parse(
    JSON.parse(buffer.subarray(PREAMBLE_BYTES, headerEnd).toString('utf8')),
  );
  const payloadStart = headerEnd + ((4 - (headerEnd % 4)) % 4);
  const payload = buffer.subarray(payloadStart);
  if (payload.length !== header.payloadBytes) {
    throw new Error(
      `checkpoint payload has ${payload.length} bytes, expected ${header.payloadBytes}, so the file is truncated or corrupted`,
    );
  }
  if (createHash('sha256').update(payload).digest('hex') !== header.payloadSha256) {
    throw new Error('checkpoint payload does not match its SHA-256 checksum, so the file is corrupted');
  }

  const tensors = new Map<string, StoredTensor>();
  for (const entry of header.tensors) {
    const size = entry.shape.reduce((a, b) => a * b, 1);
    const end = entry.offset + size * 4;
    if (end > payload.length)
      throw new Error(`${entry.group} tensor ${entry.name} runs past the payload end`);
    const data = new Float32Array(size);
    // Copy instead of viewing, because the offset into `buffer` need not be 4-byte aligned.
    payload.copy(Buffer.from(data.buffer), 0, entry.offset, end);
    tensors.set(entryKey(entry.group, entry.name), {
      group: entry.group,
      name: entry.name,
      shape: entry.shape,
      data,
    });
  }
  return { header, tensors };
}

function assertLittleEndian(): void {
  if (os.endianness() !== 'LE') {
    throw new Error(
      'textgan checkpoints store little-endian float32 data, which this big-endian host cannot read',
    );
  }
}
