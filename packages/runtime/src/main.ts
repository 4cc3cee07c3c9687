#!/usr/bin/env node
// The runtime host process: `node main.js --runtime <python27|python36|node85|sql> [-c etc/baetyl/service.yml]`.
// The master's native engine maps the images baetyl-function-<runtime> to this.
// First: starts a node85 instance's first worker while the rest of the host loads.
import './start-early.js';
import { resolve } from 'node:path';
import { closeLogger, createLogger, type Logger } from '@baetyl/core/log/logger';
import { loadRuntimeConfig, RUNTIMES, type RuntimeKind } from './config/config.js';
import { startRuntime, type RunningRuntime } from './runtime.js';

const USAGE = `usage: main.js --runtime <${RUNTIMES.join('|')}> [-c etc/baetyl/service.yml]`;

interface Args {
  runtime: RuntimeKind;
  config: string;
}

function parseArgs(argv: string[]): Args {
  let runtime: string | undefined;
  let config = 'etc/baetyl/service.yml';
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
      return v;
    };
    if (flag === '--runtime' || flag === '-r') runtime = value();
    else if (flag === '-c' || flag === '--config' || flag === '--conf') config = value();
    else if (flag === '-h' || flag === '--help') {
      process.stdout.write(`${USAGE}\n`);
      process.exit(0);
    } else throw new Error(`unknown argument "${arg}"\n${USAGE}`);
  }
  if (!runtime) throw new Error(`which runtime? --runtime is required\n${USAGE}`);
  if (!(RUNTIMES as readonly string[]).includes(runtime)) throw new Error(`unknown runtime "${runtime}": expected one of ${RUNTIMES.join(', ')}`);
  return { runtime: runtime as RuntimeKind, config };
}

async function main(): Promise<void> {
  let args: Args;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
  const cwd = process.cwd();
  const warnings: string[] = [];
  let cfg;
  try {
    cfg = loadRuntimeConfig(resolve(cwd, args.config), args.runtime, process.env, (m) => warnings.push(m));
  } catch (err) {
    process.stderr.write(`baetyl-function-${args.runtime}: ${(err as Error).message}\n`);
    process.exit(1);
  }
  const logger: Logger = createLogger(cfg.logger, {}, { cwd });
  for (const w of warnings) logger.warn(w);

  let running: RunningRuntime | undefined;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info(`received ${signal}, stopping`);
    const done = async () => {
      await running?.close();
      await closeLogger(logger);
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
    await closeLogger(logger);
    // The log line escapes quotes and newlines; say it once more as plain text for whoever reads stderr.
    process.stderr.write(`baetyl-function-${args.runtime}: ${text}\n`);
    process.exit(1);
  }
  if (stopping) await running.close();
}

void main();
