#!/usr/bin/env node
// baetyl-timer: `node main.js [-c etc/baetyl/service.yml]`, run by the master with the service
// directory as cwd. A bad config exits 1 with a message naming the file and field; SIGTERM and
// SIGINT stop it (exit 0).
import { resolve } from 'node:path';
import { ConfigError } from '@baetyl/core/config';
import { closeLogger, createLogger, type Logger } from '@baetyl/core/log';
import { readServiceContext } from '@baetyl/core/context';
import { loadTimerConfig } from './config/load.js';
import { startTimer } from './publisher/timer.js';

const DEFAULT_CONFIG = 'etc/baetyl/service.yml';

function fail(message: string): never {
  process.stderr.write(`baetyl-timer: ${message}\n`);
  process.exit(1);
}

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
      process.stdout.write(`usage: baetyl-timer [-c <service.yml>] (default ${DEFAULT_CONFIG}, relative to the working directory)\n`);
      process.exit(0);
    }
  }
  return DEFAULT_CONFIG;
}

async function main(): Promise<void> {
  const cwd = process.cwd();
  const file = configPath(process.argv.slice(2));
  // Warnings come before the logger exists (it is configured by this file): kept, then logged.
  const warnings: string[] = [];
  let config;
  try {
    config = loadTimerConfig(resolve(cwd, file), { onWarning: (m) => warnings.push(m) });
  } catch (err) {
    if (err instanceof ConfigError) fail(`bad config:\n${err.message}`);
    throw err;
  }
  const ctx = readServiceContext();
  const fields: Record<string, string> = {};
  if (ctx.serviceName) fields.service = ctx.serviceName;
  if (ctx.instanceName && ctx.instanceName !== ctx.serviceName) fields.instance = ctx.instanceName;
  const logger: Logger = createLogger(config.logger, fields, { cwd });
  for (const w of warnings) logger.warn(w);
  let timer;
  try {
    timer = startTimer(config, { cwd, logger });
  } catch (err) {
    logger.error(`timer cannot start: ${(err as Error).message}`);
    await closeLogger(logger);
    process.exit(1);
  }

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('timer stopping', { signal });
    setTimeout(() => process.exit(0), 5000).unref();
    timer
      .close()
      .catch((err: Error) => logger.error(`error while stopping: ${err.message}`))
      .then(() => logger.info('timer stopped'))
      .then(() => closeLogger(logger))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((err: Error) => fail(err.stack ?? err.message));
