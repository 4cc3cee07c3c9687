// The `baetyl` command.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '@baetyl/core/config';
import { MasterClient, parseApiAddress, type Inspect } from '@baetyl/core/api';
import { Master } from '../master/master.js';
import { loadAll, loadMasterConfig } from '../workdir/load.js';
import { CLI_TOKEN_FILE, confPath } from '../workdir/paths.js';
import { CLI_USER } from '../api/server.js';
import { clientTls } from '../api/tls.js';
import { VERSION } from '../version.js';
import { parseArgs, UsageError, USAGE, type CliArgs } from './args.js';
import { renderStatus, statusJson } from './status.js';
import { update } from './update.js';

function fail(message: string): never {
  process.stderr.write(`baetyl: ${message}\n`);
  process.exit(1);
}

async function start(args: CliArgs) {
  // A closed terminal or a dead parent must not take the master down mid-stop: stdio errors
  // (EPIPE) are dropped, and the log file still gets every line.
  for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
  let stopping = false;
  // A signal, or a client's request through the API (`baetyl stop`): stop everything, then exit.
  const stopAndExit = (why?: string) => {
    if (stopping) return;
    stopping = true;
    if (why) master.log?.info(why);
    void master.stop().then(
      () => process.exit(0),
      (err: Error) => fail(`stop failed: ${err.message}`),
    );
  };
  const onSignal = (sig: string) => stopAndExit(`received ${sig}, stopping`);
  const master = new Master({ workdir: args.workdir, ...(args.config ? { config: args.config } : {}), onStopRequest: () => stopAndExit() });
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGHUP', () => undefined);
  try {
    await master.start();
  } catch (err) {
    await master.stop().catch(() => undefined);
    fail(err instanceof ConfigError ? `invalid configuration:\n${err.message}` : (err as Error).message);
  }
}

async function check(args: CliArgs) {
  // Loaded here only: `baetyl start` does not pay for every service's config loader.
  const { checkWorkdir } = await import('../check/check.js');
  const report = await checkWorkdir(args.workdir, args.config);
  const out = (line: string) => process.stderr.write(`${line}\n`);
  for (const w of report.warnings) out(`warning: ${w}`);
  for (const line of report.checked) out(line);
  if (report.errors.length) {
    out(`baetyl: invalid configuration:\n${report.errors.join('\n')}`);
    out(`baetyl check: ${report.errors.length} error(s) found; nothing was started`);
    process.exit(1);
  }
  out('OK!');
}

function client(args: CliArgs): MasterClient {
  let conf;
  try {
    conf = loadMasterConfig(args.workdir, args.config);
  } catch (err) {
    fail((err as Error).message);
  }
  const tokenFile = join(args.workdir, CLI_TOKEN_FILE);
  if (!existsSync(tokenFile)) fail(`baetyl is not running in ${args.workdir} (no ${CLI_TOKEN_FILE})`);
  let token: string;
  try {
    token = readFileSync(tokenFile, 'utf8').trim();
  } catch (err) {
    fail(`cannot read ${tokenFile}: ${(err as Error).message} (run as the user that started baetyl, or with sudo)`);
  }
  // Relative socket paths are relative to the workdir, as the master resolves them.
  process.chdir(args.workdir);
  parseApiAddress(conf.server.address);
  let tls;
  try {
    tls = clientTls(conf, args.workdir, confPath(args.workdir, args.config));
  } catch (err) {
    fail((err as Error).message);
  }
  return new MasterClient({ address: conf.server.address, username: CLI_USER, password: token, timeout: 10_000, ...(tls ? { tls } : {}) });
}

async function status(args: CliArgs) {
  const c = client(args);
  try {
    const inspect = await c.inspect();
    process.stdout.write(args.json ? `${JSON.stringify(statusJson(inspect), null, 2)}\n` : `${renderStatus(inspect as Inspect)}\n`);
  } catch (err) {
    fail(`cannot reach the master of ${args.workdir}: ${(err as Error).message}`);
  } finally {
    c.close();
  }
}

async function logs(args: CliArgs) {
  // `baetyl logs | head` closes the pipe early: that is the end, not an error.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => process.exit(err.code === 'EPIPE' ? 0 : 1));
  let loaded;
  try {
    loaded = loadAll(args.workdir, args.config);
  } catch (err) {
    fail(err instanceof ConfigError ? `invalid configuration:\n${err.message}` : (err as Error).message);
  }
  const { logs: print } = await import('./logs/logs.js');
  try {
    await print(args, loaded);
  } catch (err) {
    fail((err as Error).message);
  }
}

async function stop(args: CliArgs) {
  const c = client(args);
  let pid = 0;
  try {
    const inspect = await c.inspect();
    pid = Number((inspect.software as Record<string, string>).pid);
    await c.request('PUT', '/system/stop');
  } catch (err) {
    fail(`cannot reach the master of ${args.workdir}: ${(err as Error).message}`);
  } finally {
    c.close();
  }
  process.stderr.write(`stopping baetyl (pid ${pid})`);
  for (;;) {
    try {
      process.kill(pid, 0);
    } catch {
      break;
    }
    process.stderr.write('.');
    await sleep(200);
  }
  process.stderr.write(' stopped\n');
}

async function main() {
  let args: CliArgs;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (err instanceof UsageError) fail(`${err.message}\n\n${USAGE}`);
    throw err;
  }
  if (args.help || !args.command || args.command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  switch (args.command) {
    case 'start':
      return start(args);
    case 'check':
      return check(args);
    case 'stop':
      return stop(args);
    case 'status':
      return status(args);
    case 'logs':
      return logs(args);
    case 'update':
      return update(args, client(args));
    case 'version':
      process.stdout.write(`baetyl version ${VERSION} (node ${process.version}, ${process.platform}/${process.arch})\n`);
      return;
    default:
      fail(`unknown command "${args.command}"\n\n${USAGE}`);
  }
}

await main();
