import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cyberbullyDataset } from '../../infra/datasets';

/** One stage line of the pipeline's printed summary. */
export interface PipelineStage {
  stage: string;
  status: 'ran' | 'reused';
  seconds: number;
}

export interface PipelineRun {
  prefix: string;
  stages: PipelineStage[];
  wallSeconds: number;
  /** Training steps and the TF.js backend that ran them, from the summary's "Training:" line. */
  training?: { steps: number; backend: string };
  /** Peak RSS of the CLI process, which also runs the pipeline and training workers; from GNU time. */
  peakRssBytes?: number;
  logFile: string;
}

const STAGE_LINE = /^(\w+)\s{2,}(ran|reused)\s{2,}.*?([\d.]+) s$/;

/**
 * Runs the whole default pipeline once through the CLI on a fresh storage prefix, so every stage
 * runs instead of being reused, and reads the stage times from the printed summary. The CLI starts
 * the local Temporal dev server and SeaweedFS, or reuses them when they already listen on their
 * ports. Its output goes to a log in `logDir`, because the summary's tables can quote generated text.
 *
 * The dataset is the default one without its optional remote sources (the three Wikipedia Talk files),
 * so the run reads only the five bundled files and makes no request outside this machine.
 */
export async function runPipeline(
  root: string,
  logDir: string,
  timeoutSeconds: number,
): Promise<PipelineRun> {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');
  const prefix = `bench-${stamp}`;
  const logFile = join(logDir, `pipeline-${stamp}.log`);
  const timeFile = join(logDir, `pipeline-${stamp}.time`);
  const configFile = join(logDir, 'pipeline-config.json');
  const dataset = cyberbullyDataset();
  const bundledOnly = { ...dataset, sources: dataset.sources.filter((source) => !source.optional) };
  writeFileSync(configFile, JSON.stringify({ dataset: bundledOnly }, null, 2));
  const cliArgs = ['--import', 'tsx', 'cli/textgan.ts', 'run', '--config', configFile];
  cliArgs.push('--set', `runName=${prefix}`, '--set', `storage.prefix=${prefix}`);
  // GNU time reports the peak RSS of the process it runs; without it only the wall time is measured.
  const useTime = existsSync('/usr/bin/time');
  const [command, args] = useTime
    ? ['/usr/bin/time', ['-v', '-o', timeFile, process.execPath, ...cliArgs]]
    : [process.execPath, cliArgs];

  const log = createWriteStream(logFile);
  let stdout = '';
  const start = performance.now();
  const code = await new Promise<number | null>((resolve, reject) => {
    const child = spawn(command, args, { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      log.write(chunk);
    });
    child.stderr.pipe(log, { end: false });
    const timer = setTimeout(() => child.kill('SIGTERM'), timeoutSeconds * 1000);
    child.on('error', reject);
    child.on('close', (exitCode) => {
      clearTimeout(timer);
      resolve(exitCode);
    });
  });
  const wallSeconds = (performance.now() - start) / 1000;
  log.end();
  if (code !== 0) {
    throw new Error(`the pipeline run exited with ${code} after ${wallSeconds.toFixed(0)} s; see ${logFile}`);
  }

  const stages: PipelineStage[] = [];
  for (const line of stdout.split('\n')) {
    const match = STAGE_LINE.exec(line.trim());
    if (match)
      stages.push({ stage: match[1]!, status: match[2] as 'ran' | 'reused', seconds: Number(match[3]) });
  }
  if (stages.length === 0) throw new Error(`no stage lines found in the pipeline summary; see ${logFile}`);
  const trainingLine = /^Training: (\d+) steps on ([\w-]+)/m.exec(stdout);
  const training = trainingLine ? { steps: Number(trainingLine[1]), backend: trainingLine[2]! } : undefined;
  let peakRssBytes: number | undefined;
  if (useTime && existsSync(timeFile)) {
    const match = /Maximum resident set size \(kbytes\): (\d+)/.exec(readFileSync(timeFile, 'utf8'));
    if (match) peakRssBytes = Number(match[1]) * 1024;
  }
  return { prefix, stages, wallSeconds, training, peakRssBytes, logFile };
}
