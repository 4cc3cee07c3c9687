// How every Node service of ours lives as a process (`node main.js [-c etc/baetyl/service.yml]`,
// run by the master with the service directory as cwd): load and check its config (a bad one
// exits 1 naming file, line and field), log the loader's warnings once the logger exists, start,
// and on SIGTERM or SIGINT close and exit 0 (or exit anyway once the stop takes too long).
import { resolve } from 'node:path';
import { ConfigError, type LoadOptions } from '../config/index.js';
import { readServiceContext } from '../context/env.js';
import { closeLogger, createLogger, type Logger, type LoggerConfig } from '../log/logger.js';
import { startLoggedIdleTrim } from '../memory/idle-trim.js';

export const DEFAULT_SERVICE_CONFIG = 'etc/baetyl/service.yml';

export interface RunningService {
  close(): Promise<void>;
}

export interface ServiceProgram<C extends { logger: LoggerConfig }, S extends RunningService> {
  /** The program, in messages on stderr: `baetyl-timer`. */
  program: string;
  /** The service, in its log lines: `timer` gives "timer started", "timer stopping", "timer stopped". */
  noun: string;
  load(file: string, opts: LoadOptions): C;
  /** Starts the service; a throw is logged, and the process exits 1. */
  start(config: C, at: { logger: Logger; cwd: string; file: string }): S | Promise<S>;
  /** Fields of the "started" line. */
  started?(service: S, config: C): Record<string, string>;
  /** ms after a stop signal before the process exits anyway. */
  stopLimit(config: C): number;
}

function fail(program: string, message: string): never {
  process.stderr.write(`${program}: ${message}\n`);
  process.exit(1);
}

/** The config file named by `-c FILE`, `--config FILE` or `--config=FILE`, else the default. */
export function serviceConfigArg(program: string, argv: string[]): string {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-c' || arg === '--config') {
      const next = argv[i + 1];
      if (!next) fail(program, `${arg} needs a file path, like ${arg} ${DEFAULT_SERVICE_CONFIG}`);
      return next;
    }
    const m = /^(?:-c|--config)=(.+)$/.exec(arg);
    if (m) return m[1]!;
    if (arg === '-h' || arg === '--help') {
      process.stdout.write(`usage: ${program} [-c <service.yml>] (default ${DEFAULT_SERVICE_CONFIG}, relative to the working directory)\n`);
      process.exit(0);
    }
  }
  return DEFAULT_SERVICE_CONFIG;
}

export async function runService<C extends { logger: LoggerConfig }, S extends RunningService>(p: ServiceProgram<C, S>): Promise<void> {
  const cwd = process.cwd();
  const file = serviceConfigArg(p.program, process.argv.slice(2));
  // The logger is configured by the file itself: warnings are kept until it exists.
  const warnings: string[] = [];
  let config: C;
  try {
    config = p.load(resolve(cwd, file), { onWarning: (m) => warnings.push(m) });
  } catch (err) {
    if (err instanceof ConfigError) fail(p.program, `bad config:\n${err.message}`);
    throw err;
  }
  const ctx = readServiceContext();
  const fields: Record<string, string> = {};
  if (ctx.serviceName) fields.service = ctx.serviceName;
  if (ctx.instanceName && ctx.instanceName !== ctx.serviceName) fields.instance = ctx.instanceName;
  const logger = createLogger(config.logger, fields, { cwd });
  for (const w of warnings) logger.warn(w);
  let service: S;
  try {
    service = await p.start(config, { logger, cwd, file });
  } catch (err) {
    logger.error(`${p.noun} cannot start: ${(err as Error).message}`);
    await closeLogger(logger);
    fail(p.program, (err as Error).message);
  }
  logger.info(`${p.noun} started`, p.started?.(service, config) ?? {});
  const trim = startLoggedIdleTrim((m) => logger.debug(m));

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    trim.stop();
    logger.info(`${p.noun} stopping`, { signal });
    setTimeout(() => {
      process.stderr.write(`${p.program}: stopping took longer than ${p.stopLimit(config)} ms, exiting\n`);
      process.exit(0);
    }, p.stopLimit(config)).unref();
    service
      .close()
      .then(() => logger.info(`${p.noun} stopped`))
      .catch((err: Error) => logger.error(`${p.noun} stop failed: ${err.message}`))
      .then(() => closeLogger(logger))
      .finally(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  // A peer closing mid-write must not kill a service.
  process.on('SIGPIPE', () => undefined);
}

/** runService, with an unexpected error printed and exit 1. */
export function main<C extends { logger: LoggerConfig }, S extends RunningService>(p: ServiceProgram<C, S>): void {
  runService(p).catch((err: Error) => fail(p.program, err.stack ?? err.message));
}
