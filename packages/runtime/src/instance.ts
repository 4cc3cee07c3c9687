// The runtime host process, after start-early.ts (see main.ts): reads the config, starts the
// logger and the runtime, and stops on SIGTERM/SIGINT.
import { resolve } from 'node:path';
import { parseArgs, USAGE, type Args } from './args.js';
import { loadConfigOffThread, type ConfigRequest } from './config/off-thread.js';
import { takePassedConfig } from './config/passed.js';
import type { RuntimeConfig } from './config/config.js';
import { hostLogger } from './log/logger.js';
import { startLoggedIdleTrim, type IdleTrim } from '@baetyl/core/memory';
import { PYTHON_IS_PYTHON, startRuntime, type RunningRuntime } from './runtime.js';

/**
 * The config loaded in this thread. Measured: loading it in a thread of its own (node85) keeps 3-6
 * MB of loader out of the idle instance but costs about 20 ms of start-up; sql, whose cold start
 * is the shortest, loads it here (a chunk of its own in the bundle, imported only then).
 */
async function loadConfigHere(request: ConfigRequest): Promise<{ cfg: RuntimeConfig; warnings: string[] }> {
  const { loadConfigModule } = await import('./config/code-cache.js');
  const { loadRuntimeConfig } = await loadConfigModule();
  const warnings: string[] = [];
  return { cfg: loadRuntimeConfig(request.file, request.kind, process.env, (m) => warnings.push(m)), warnings };
}

async function main(): Promise<void> {
  let args: Args | 'help';
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
  if (args === 'help') {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  if (args.runtime === 'python27' || args.runtime === 'python36') {
    process.stderr.write(`baetyl-function-${args.runtime}: ${PYTHON_IS_PYTHON}\n`);
    process.exit(1);
  }
  const cwd = process.cwd();
  let cfg: RuntimeConfig;
  let warnings: string[];
  try {
    const request = { file: resolve(cwd, args.config), kind: args.runtime };
    // A master passes the config it checked (config/passed.ts); alone, the host reads service.yml.
    ({ cfg, warnings } = takePassedConfig(args.runtime) ?? (await (args.runtime === 'node85' ? loadConfigOffThread(request) : loadConfigHere(request))));
  } catch (err) {
    process.stderr.write(`baetyl-function-${args.runtime}: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const { logger, close: closeLogger } = await hostLogger(cfg.logger, cwd);
  for (const w of warnings) logger.warn(w);

  let running: RunningRuntime | undefined;
  let trim: IdleTrim | undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    trim?.stop();
    logger.info(`received ${signal}, stopping`);
    const done = async () => {
      await running?.close();
      await closeLogger();
      process.exit(0);
    };
    void done();
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));

  try {
    running = await startRuntime(cfg, { kind: args.runtime, cwd, configFile: args.config, logger });
  } catch (err) {
    const text = `cannot start the ${args.runtime} runtime: ${(err as Error).message}`;
    logger.error(text);
    await closeLogger();
    // The log line escapes quotes and newlines; say it once more as plain text for whoever reads stderr.
    process.stderr.write(`baetyl-function-${args.runtime}: ${text}\n`);
    process.exit(1);
  }
  if (stopping) await running.close();
  // The host's heap; a node85 worker thread trims its own (node/worker.ts).
  else trim = startLoggedIdleTrim((m) => logger.debug(m));
}

await main();
