// The AWS SDK warns on every start that Node 20 support ends in 2027; the lock file pins a version that supports it.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

import { ConfigError } from '../infra/config';
import { startStack, stackOptionsFromEnv, stopStack } from '../infra/stack';

const USAGE = `Usage: textgan <command> [options]

Commands:
  run                 Start the local stack if needed, run the pipeline on the configured dataset
                      (the bundled comment corpus by default) and print its summary.
  stack start|stop    Start or stop the local Temporal dev server and SeaweedFS.
  worker              Run a pipeline worker and a training worker until interrupted.
  list                List pipeline runs with their status.
  show ID             Show the stages of one run.
  resume ID           Start a failed, cancelled or terminated run again with its config; finished
                      stages are skipped and training continues from its last checkpoint.
  generate --run ID   Write texts from a finished run's generator (--strategy NAME, --count N, --seed S,
                      --out FILE).
  label --run ID      Serve a page on 127.0.0.1 where a person marks real and generated comments
                      (--session NAME, --items N, --seed S, --port N); --score prints the scores of
                      all sessions, --update-report adds them to the run's report.

Options for run:
  --config FILE       JSON run config; fields left out take their defaults.
  --set PATH=VALUE    Override one config field, e.g. --set stages.tokenize.maxTokens=60 (repeatable).
  --no-worker         Do not run a worker in this process; rely on workers started elsewhere.

Environment:
  TEMPORAL_ADDRESS    Use this Temporal server instead of the local dev server (host:port).
  AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
                      Credentials for a config's own S3 storage; the local stack makes its own.
  TEXTGAN_TEMPORAL_PORT, TEXTGAN_TEMPORAL_UI_PORT, TEXTGAN_S3_PORT, TEXTGAN_STATE_DIR
                      Ports and state folder of the local stack.`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'run':
      return (await import('./run')).runCommand(rest);
    case 'stack': {
      const options = stackOptionsFromEnv();
      if (rest[0] === 'start') {
        const info = await startStack(options);
        process.stdout.write(
          `Temporal: ${info.temporalAddress}\nWeb UI:   ${info.webUiUrl}\nS3:       ${info.s3Endpoint} (bucket ${info.bucket})\n`,
        );
        return 0;
      }
      if (rest[0] === 'stop') {
        await stopStack(options);
        return 0;
      }
      process.stderr.write('Usage: textgan stack start|stop\n');
      return 2;
    }
    case 'worker':
      return (await import('./run')).workerCommand();
    case 'resume':
      return (await import('./run')).resumeCommand(rest);
    case 'list':
    case 'show':
      return (await import('./run')).inspectCommand(command, rest);
    case 'generate':
      return (await import('./generate')).generateCommand(rest);
    case 'label':
      return (await import('../labeling/command')).labelCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`Unknown command "${command}".\n\n${USAGE}\n`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(2);
    }
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
