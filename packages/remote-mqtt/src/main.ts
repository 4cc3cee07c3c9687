#!/usr/bin/env node
// baetyl-remote-mqtt: `node main.js [-c etc/baetyl/service.yml]`, started by the master with its
// service dir as the working directory. A bad config exits 1 with a message naming the file,
// line and field; SIGTERM and SIGINT disconnect cleanly (exit 0).
import { resolve } from 'node:path';
import { ConfigError } from '@baetyl/core/config';
import { readServiceContext } from '@baetyl/core/context';
import { closeLogger, createLogger, type Logger } from '@baetyl/core/log';
import { loadRemoteMqttConfig } from './config/load.js';
import { startBridge, type Bridge } from './bridge/bridge.js';

const DEFAULT_CONFIG = 'etc/baetyl/service.yml';
/** After a stop signal, exit even if a broker does not answer the DISCONNECT. */
const STOP_LIMIT = 10_000;

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
      process.stdout.write(`usage: baetyl-remote-mqtt [-c <service.yml>] (default ${DEFAULT_CONFIG}, relative to the working directory)\n`);
      process.exit(0);
    }
  }
  return DEFAULT_CONFIG;
}

function fail(message: string): never {
  process.stderr.write(`baetyl-remote-mqtt: ${message}\n`);
  process.exit(1);
}

function main(): void {
  const cwd = process.cwd();
  const file = configPath(process.argv.slice(2));
  const warnings: string[] = [];
  let config;
  try {
    config = loadRemoteMqttConfig(resolve(cwd, file), { onWarning: (m) => warnings.push(m) });
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
  if (config.rules.length === 0) logger.warn(`${file}: no rules: nothing is forwarded`);
  let bridge: Bridge;
  try {
    bridge = startBridge(config, { logger, cwd });
  } catch (err) {
    logger.error(`failed to start: ${(err as Error).message}`);
    void closeLogger(logger).finally(() => fail((err as Error).message));
    return;
  }
  logger.info('remote-mqtt started', { rules: String(config.rules.length), remotes: config.remotes.map((r) => r.name).join(',') });

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`received ${signal}, stopping`);
    setTimeout(() => {
      process.stderr.write('baetyl-remote-mqtt: stopping took too long, exiting\n');
      process.exit(0);
    }, STOP_LIMIT).unref();
    bridge
      .close()
      .catch((err: Error) => logger.error(`error while stopping: ${err.message}`))
      .then(() => logger.info('remote-mqtt stopped'))
      .then(() => closeLogger(logger))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main();
