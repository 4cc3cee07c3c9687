#!/usr/bin/env node
// baetyl-function-manager: `node main.js [-c etc/baetyl/service.yml]`, started by the master with
// its service dir as the working directory.
import { resolve } from 'node:path';
import { ConfigError } from '@baetyl/core/config';
import { closeLogger, createLogger, type Logger } from '@baetyl/core/log';
import { loadFunctionManagerConfig } from './config/load.js';
import { startFunctionManager, type FunctionManager } from './manager.js';

const DEFAULT_CONFIG = 'etc/baetyl/service.yml';
/** After a stop signal, exit even if stopping instances hangs (the master's grace is longer). */
const STOP_LIMIT = 20_000;

function configPath(argv: string[]): string {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-c' || arg === '--config') {
      const next = argv[i + 1];
      if (!next) fail(`${arg} needs a file path, like ${arg} ${DEFAULT_CONFIG}`);
      return next;
    }
    const m = /^(?:-c|--config)=(.+)$/.exec(arg);
    if (m) return m[1]!;
    if (arg === '-h' || arg === '--help') {
      process.stdout.write(`usage: baetyl-function-manager [-c <service.yml>] (default ${DEFAULT_CONFIG}, relative to the working directory)\n`);
      process.exit(0);
    }
  }
  return DEFAULT_CONFIG;
}

function fail(message: string): never {
  process.stderr.write(`baetyl-function-manager: ${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  const file = configPath(process.argv.slice(2));
  let config;
  // Warnings (an unknown key, a template left as written) go to the service's log, once it exists.
  const warnings: string[] = [];
  try {
    config = loadFunctionManagerConfig(resolve(process.cwd(), file), { onWarning: (m) => warnings.push(m) });
  } catch (err) {
    if (err instanceof ConfigError) fail(`bad config:\n${err.message}`);
    throw err;
  }
  const logger: Logger = createLogger(config.logger, {}, { cwd: process.cwd() });
  for (const w of warnings) logger.warn(w);
  let manager: FunctionManager;
  try {
    manager = await startFunctionManager(config, { logger, cwd: process.cwd() });
  } catch (err) {
    logger.error(`failed to start: ${(err as Error).message}`);
    await closeLogger(logger);
    fail((err as Error).message);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`received ${signal}, stopping`);
    setTimeout(() => {
      process.stderr.write('baetyl-function-manager: stopping took too long, exiting\n');
      process.exit(0);
    }, STOP_LIMIT).unref();
    manager
      .close()
      .catch((err: Error) => logger.error(`error while stopping: ${err.message}`))
      .then(() => closeLogger(logger))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: Error) => fail(err.stack ?? err.message));
