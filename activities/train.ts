import { Context, activityInfo, log } from '@temporalio/activity';
import { CancelledFailure } from '@temporalio/common';
import { lineChart } from '../eval/plot';
import type { StorageConfig, TrainOptions } from '../infra/config';
import { describeSchema, writeParquet, type TableSchema } from '../infra/parquet';
import { createStorage, deleteKeys, getBytes, listKeys, type Storage } from '../infra/s3';
import { inputOf, putArtifact, readManifest, runStage, type StageResult } from '../infra/stages';
import type { LoadedTensorFlow } from '../ml/backend';
import { loadTrainerCheckpoint, saveNetwork, saveTrainerCheckpoint } from '../ml/checkpoint';
import { resolveGanConfig, type GanConfig } from '../ml/config';
import { GanTrainer, type StepRecord } from '../ml/gan';
import { planEpoch, runTraining } from '../ml/train-loop';
import { gatherBatch, loadEncodedSplit } from './encoded-data';
import { invalidInput } from './progress';

/** Columns of the `losses` table: one row per training step. */
export const LOSSES_SCHEMA: TableSchema = {
  step: { type: 'INT32' },
  epoch: { type: 'INT32' },
  batch: { type: 'INT32' },
  d_loss: { type: 'DOUBLE' },
  g_loss: { type: 'DOUBLE' },
  d_real: { type: 'DOUBLE' },
  d_fake: { type: 'DOUBLE' },
  d_grad_norm: { type: 'DOUBLE' },
  g_grad_norm: { type: 'DOUBLE' },
};

/**
 * Upper bound on the generator's dense layer, (seqLen * hiddenSize) x (seqLen * dimension)
 * weights. Training keeps the weights, their gradients and the momentum, so 200 million weights
 * take about 2.4 GB; the study preset with word2vec (346 million) or BERT (11 billion) is over it.
 */
const MAX_GENERATOR_DENSE_WEIGHTS = 200_000_000;

export interface TrainInput {
  storage: StorageConfig;
  embedManifestKey: string;
  options: TrainOptions;
}

/** Heartbeat details of the train activity; a retried attempt reads `checkpointKey` to resume. */
export interface TrainHeartbeat {
  /** "train <strategy>", the stage's name in the pipeline status. */
  stage: string;
  phase: string;
  done: number;
  total: number;
  unit: 'steps';
  checkpointKey?: string;
  dLoss?: number;
  gLoss?: number;
}

const TRAIN_VERSION = 1;
const CHECKPOINT_PATTERN = /\/checkpoints\/step-(\d+)\.ckpt$/;

export function checkpointKey(dir: string, step: number): string {
  return `${dir}/checkpoints/step-${String(step).padStart(9, '0')}.ckpt`;
}

/** Lists a training folder's checkpoints, oldest first. */
async function listCheckpoints(storage: Storage, dir: string): Promise<string[]> {
  const keys = await listKeys(storage, `${dir}/checkpoints/`);
  return keys.filter((key) => CHECKPOINT_PATTERN.test(key)).sort();
}

/** Averages the per-step losses of each epoch, for a readable plot of long runs. */
export function lossCurves(history: StepRecord[]): {
  generator: Array<[number, number]>;
  discriminator: Array<[number, number]>;
} {
  const perEpoch = new Map<number, { d: number; g: number; n: number }>();
  for (const record of history) {
    const entry = perEpoch.get(record.epoch) ?? { d: 0, g: 0, n: 0 };
    entry.d += record.dLoss;
    entry.g += record.gLoss;
    entry.n += 1;
    perEpoch.set(record.epoch, entry);
  }
  // Fewer than three epochs make a poor line, so short runs plot each step at its fractional epoch.
  if (perEpoch.size < 3) {
    const stepsPerEpoch = new Map<number, number>();
    for (const record of history) stepsPerEpoch.set(record.epoch, (stepsPerEpoch.get(record.epoch) ?? 0) + 1);
    const x = (record: StepRecord) => record.epoch + record.batch / (stepsPerEpoch.get(record.epoch) ?? 1);
    return {
      generator: history.map((record) => [x(record), record.gLoss]),
      discriminator: history.map((record) => [x(record), record.dLoss]),
    };
  }
  const epochs = [...perEpoch.entries()].sort((a, b) => a[0] - b[0]);
  return {
    generator: epochs.map(([epoch, e]) => [epoch + 1, e.g / e.n]),
    discriminator: epochs.map(([epoch, e]) => [epoch + 1, e.d / e.n]),
  };
}

/**
 * Creates the training activity bound to one loaded TensorFlow.js backend. The worker that serves
 * the training task queue loads the backend once at start and passes it here.
 */
export function createTrainActivities(loaded: LoadedTensorFlow) {
  const { tf } = loaded;

  /**
   * Trains the GAN on the embed stage's train split. Writes a checkpoint every
   * `checkpointEveryBatches` steps and at each epoch's end, and reports its key in the heartbeat.
   * A retried attempt, or a new run after a crash, continues from the newest checkpoint with the
   * same loss history.
   */
  async function trainGan(input: TrainInput): Promise<StageResult> {
    const storage = createStorage(input.storage);
    const upstream = await readManifest(storage, input.embedManifestKey);
    let gan: GanConfig;
    try {
      gan = resolveGanConfig(input.options.preset, input.options.overrides);
    } catch (error) {
      throw invalidInput(`Invalid stages.train.overrides: ${(error as Error).message}`);
    }
    const dimension = Number((upstream.counts as { dimension?: number }).dimension ?? 1);
    const options = { gan, seed: input.options.seed, preset: input.options.preset };
    const denseWeights = gan.seqLen * gan.hiddenSize * gan.seqLen * dimension;
    if (denseWeights > MAX_GENERATOR_DENSE_WEIGHTS) {
      const strategy = String(upstream.counts.strategy);
      throw invalidInput(
        `The generator's dense layer would have ${denseWeights.toLocaleString('en-US')} weights ` +
          `(seqLen ${gan.seqLen} x hiddenSize ${gan.hiddenSize} x seqLen x ${dimension} values per ${strategy} word), ` +
          `more than the ${MAX_GENERATOR_DENSE_WEIGHTS.toLocaleString('en-US')} that fit in memory. ` +
          'Lower stages.train.overrides.seqLen, or run this preset with stages.embed.strategies=["scalar"].',
      );
    }

    return runStage(
      storage,
      {
        stage: 'train',
        version: TRAIN_VERSION,
        prefix: input.storage.prefix,
        inputs: [inputOf(upstream)],
        options,
      },
      async (dir) => {
        const context = Context.current();
        const data = await loadEncodedSplit(storage, upstream, 'train', gan.seqLen, dimension);
        if (data.count < gan.batchSize) {
          throw invalidInput(
            `The train split has ${data.count} texts, fewer than one batch of ${gan.batchSize}. Lower stages.train.overrides.batchSize.`,
          );
        }
        const stepsPerEpoch = planEpoch(
          input.options.seed,
          0,
          data.count,
          gan.batchSize,
          gan.maxStepsPerEpoch,
        ).length;
        const totalSteps = stepsPerEpoch * gan.epochs;

        const details = activityInfo().heartbeatDetails as TrainHeartbeat | undefined;
        const existing = await listCheckpoints(storage, dir);
        const resumeKey = details?.checkpointKey ?? existing[existing.length - 1];
        let trainer: GanTrainer;
        if (resumeKey) {
          trainer = await loadTrainerCheckpoint(tf, await getBytes(storage, resumeKey));
          log.info('training resumed from checkpoint', {
            checkpointKey: resumeKey,
            step: trainer.progress.step,
            epoch: trainer.progress.epoch,
          });
        } else {
          trainer = new GanTrainer(tf, gan, dimension, { seed: input.options.seed });
        }
        const resumedFromStep = trainer.progress.step;
        let lastCheckpoint = resumeKey;
        const started = Date.now();
        const beat = (phase: string) => {
          const last = trainer.history[trainer.history.length - 1];
          const heartbeat: TrainHeartbeat = {
            stage: `train ${String(upstream.counts.strategy)}`,
            phase,
            done: trainer.progress.step,
            total: totalSteps,
            unit: 'steps',
            checkpointKey: lastCheckpoint,
            dLoss: last?.dLoss,
            gLoss: last?.gLoss,
          };
          context.heartbeat(heartbeat);
        };

        log.info('training started', {
          backend: loaded.backend,
          preset: input.options.preset,
          steps: totalSteps,
          fromStep: resumedFromStep,
          trainTexts: data.count,
          attempt: activityInfo().attempt,
        });
        try {
          await runTraining({
            trainer,
            numExamples: data.count,
            loadBatch: async (indices) => {
              // Yield to the event loop so heartbeats and cancellation get through between steps.
              await new Promise((resolve) => setImmediate(resolve));
              return gatherBatch(data, indices);
            },
            onStep: () => beat(`epoch ${trainer.progress.epoch + 1}/${gan.epochs}`),
            onCheckpoint: async (current) => {
              const key = checkpointKey(dir, current.progress.step);
              await putArtifact(
                storage,
                key,
                await saveTrainerCheckpoint(tf, current),
                'application/octet-stream',
              );
              lastCheckpoint = key;
              beat('checkpoint written');
              const all = await listCheckpoints(storage, dir);
              const stale = all.slice(0, Math.max(0, all.length - input.options.keepCheckpoints));
              if (stale.length > 0) await deleteKeys(storage, stale);
            },
            signal: context.cancellationSignal,
          });
        } catch (error) {
          trainer.dispose();
          if (context.cancellationSignal.aborted)
            throw new CancelledFailure('training cancelled; resume continues from the last checkpoint');
          throw error;
        }

        const seconds = (Date.now() - started) / 1000;
        const stepsRun = trainer.progress.step - resumedFromStep;
        const history = trainer.history;
        const losses = await writeParquet(
          storage,
          `${dir}/losses/part-00000.parquet`,
          LOSSES_SCHEMA,
          history.map((r) => ({
            step: r.step,
            epoch: r.epoch,
            batch: r.batch,
            d_loss: r.dLoss,
            g_loss: r.gLoss,
            d_real: r.dRealScore,
            d_fake: r.dFakeScore,
            d_grad_norm: r.dGradNorm,
            g_grad_norm: r.gGradNorm,
          })),
        );
        const curves = lossCurves(history);
        const plot = lineChart({
          title: `GAN losses (${input.options.preset} preset, ${upstream.counts.strategy as string} embedding)`,
          xLabel: 'epoch',
          yLabel: 'loss',
          series: [
            { name: 'generator', points: curves.generator },
            { name: 'discriminator', points: curves.discriminator },
          ],
        });
        const artifacts = {
          generator: await putArtifact(
            storage,
            `${dir}/generator.bin`,
            await saveNetwork(tf, 'generator', trainer.generator, gan, dimension),
            'application/octet-stream',
          ),
          discriminator: await putArtifact(
            storage,
            `${dir}/discriminator.bin`,
            await saveNetwork(tf, 'discriminator', trainer.discriminator, gan, dimension),
            'application/octet-stream',
          ),
          lossPlot: await putArtifact(storage, `${dir}/loss.svg`, Buffer.from(plot, 'utf8'), 'image/svg+xml'),
        };
        const last = history[history.length - 1];
        trainer.dispose();
        const counts = {
          preset: input.options.preset,
          gan,
          strategy: upstream.counts.strategy,
          dimension,
          trainTexts: data.count,
          epochs: gan.epochs,
          steps: history.length,
          finalDLoss: last?.dLoss,
          finalGLoss: last?.gLoss,
          finalDReal: last?.dRealScore,
          finalDFake: last?.dFakeScore,
        };
        const runtime = {
          backend: loaded.backend,
          resumedFromStep,
          samplesPerSecond: seconds > 0 ? (stepsRun * gan.batchSize) / seconds : 0,
        };
        log.info('training finished', {
          steps: counts.steps,
          resumedFromStep,
          finalDLoss: counts.finalDLoss,
          finalGLoss: counts.finalGLoss,
        });
        return {
          tables: { losses: { schema: describeSchema(LOSSES_SCHEMA), rows: losses.rows, files: [losses] } },
          artifacts,
          counts,
          runtime,
        };
      },
    );
  }

  return { trainGan };
}

export type TrainActivities = ReturnType<typeof createTrainActivities>;
