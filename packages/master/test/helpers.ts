// Test helpers: a temp workdir with test services packaged the Baetyl v1 native way
// (a package.yml mounted at lib/baetyl/<image>), and a real master process started on it.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { MasterClient } from '@baetyl/core';
import { copyExampleTree, startBaetyl, waitFor } from '@baetyl/test-support';
import { stringify } from 'yaml';

export const BAETYL = fileURLToPath(new URL('../../bin/baetyl.js', import.meta.url));
const PROGRAM = fileURLToPath(new URL('../../test/fixtures/program.js', import.meta.url));

export interface TestService {
  name: string;
  replica?: number;
  env?: Record<string, string>;
  restart?: Record<string, unknown>;
  image?: string;
  mounts?: Array<{ name: string; path: string; readonly?: boolean }>;
}

export interface Workdir {
  dir: string;
  out: string;
}

/** A workdir whose services all run test/fixtures/program.js, recording into `out`. */
export function makeWorkdir(services: TestService[], conf: Record<string, unknown> = {}, extraVolumes: Array<{ name: string; path: string }> = []): Workdir {
  const dir = mkdtempSync(join(tmpdir(), 'baetyl-wd-'));
  const out = join(dir, 'out');
  mkdirSync(out);
  mkdirSync(join(dir, 'etc/baetyl'), { recursive: true });
  mkdirSync(join(dir, 'var/db/baetyl'), { recursive: true });
  mkdirSync(join(dir, 'pkg/bin'), { recursive: true });
  copyFileSync(PROGRAM, join(dir, 'pkg/bin/program.js'));
  chmodSync(join(dir, 'pkg/bin/program.js'), 0o755);
  writeFileSync(join(dir, 'pkg/package.yml'), 'entry: bin/program.js\n');
  writeFileSync(join(dir, 'etc/baetyl/conf.yml'), stringify({ mode: 'native', grace: '2s', logger: { level: 'debug' }, ...conf }));
  const app = {
    version: 'v7',
    services: services.map((s) => ({
      name: s.name,
      image: s.image ?? 'test-program',
      replica: s.replica ?? 1,
      mounts: s.mounts ?? [{ name: 'pkg', path: `lib/baetyl/${s.image ?? 'test-program'}`, readonly: true }],
      env: { OUT: out, ...(s.env ?? {}) },
      ...(s.restart ? { restart: s.restart } : {}),
    })),
    volumes: [{ name: 'pkg', path: 'pkg' }, ...extraVolumes],
  };
  writeFileSync(join(dir, 'var/db/baetyl/application.yml'), stringify(app));
  return { dir, out };
}

export interface RunningMaster {
  child: ChildProcess;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
  log: () => string;
  stop: () => Promise<void>;
}

export function runBaetyl(args: string[], cwd?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BAETYL, ...args], { cwd: cwd ?? process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

export async function startMaster(wd: Workdir, { until = 'services started', env }: { until?: string; env?: NodeJS.ProcessEnv } = {}): Promise<RunningMaster> {
  const p = startBaetyl(wd.dir, env ? { env } : {});
  const log = () => (existsSync(join(wd.dir, 'var/log/baetyl/baetyl.log')) ? readFileSync(join(wd.dir, 'var/log/baetyl/baetyl.log'), 'utf8') : '');
  const m: RunningMaster = {
    child: p.proc,
    exited: p.exited,
    stderr: p.output,
    log,
    stop: async () => {
      await p.stop();
    },
  };
  // The end of the master's start is in its log only (the API answers before the services run).
  await waitFor(`master to log "${until}"`, () => log().includes(until) || !p.alive());
  if (!log().includes(until)) throw new Error(`master exited early: ${p.output()}`);
  return m;
}

export function starts(wd: Workdir): Array<{ at: number; service: string; instance: string; pid: number }> {
  const file = join(wd.out, 'starts.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [at, service, instance, pid] = l.split(' ');
      return { at: Number(at), service: service!, instance: instance!, pid: Number(pid) };
    });
}

/** What an instance recorded at start (waits until it has). */
export async function instanceEnv(wd: Workdir, instance: string): Promise<{ env: Record<string, string>; cwd: string; pid: number }> {
  const file = join(wd.out, `${instance}.env.json`);
  await waitFor(`${instance} to record its env`, () => existsSync(file));
  // The file is written in one call, but may be caught half-written.
  for (;;) {
    try {
      return JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      await sleep(20);
    }
  }
}

/** A client of the master's API authenticated as `service` (its token read from what it recorded). */
export async function clientAs(wd: Workdir, service: string, instance = service): Promise<MasterClient> {
  const { env } = await instanceEnv(wd, instance);
  return new MasterClient({ address: `unix://${join(wd.dir, 'var/run/baetyl.sock')}`, username: service, password: env.BAETYL_SERVICE_TOKEN ?? '' });
}

/** A client of the master's API as the CLI is: with the token the master wrote for it at start. */
export function cliClient(wd: Workdir, timeoutMs?: number): MasterClient {
  const token = readFileSync(join(wd.dir, 'var/run/baetyl/cli.token'), 'utf8').trim();
  return new MasterClient({
    address: `unix://${join(wd.dir, 'var/run/baetyl.sock')}`,
    username: '@cli',
    password: token,
    ...(timeoutMs ? { timeout: timeoutMs } : {}),
  });
}

/** An instance's status (running, restarting, failed, exited...) as the master's API gives it. */
export async function statusOf(wd: Workdir, instance: string): Promise<string | undefined> {
  const c = cliClient(wd);
  try {
    return (await c.inspect()).services.flatMap((s) => s.instances).find((i) => i.name === instance)?.status;
  } finally {
    c.close();
  }
}

export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // A zombie is not alive.
  try {
    return !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ');
  } catch {
    return false;
  }
}

/**
 * deploy/example/native reduced to the hub (on `hubPort`), the function manager with the node85
 * rule (t -> t/node8hi) and the node runtime: real services, and only Node needed.
 */
export function exampleWorkdir(hubPort: number, server: Record<string, string> = {}): Workdir {
  const dir = copyExampleTree('native');
  const db = join(dir, 'var/db/baetyl');
  writeFileSync(
    join(dir, 'etc/baetyl/conf.yml'),
    stringify({
      mode: 'native',
      grace: '5s',
      server: { address: 'unix://var/run/baetyl.sock', ...server },
      logger: { path: 'var/log/baetyl/baetyl.log', level: 'debug' },
    }),
  );
  const hub = join(db, 'localhub-conf/service.yml');
  writeFileSync(hub, readFileSync(hub, 'utf8').replace('tcp://0.0.0.0:1883', `tcp://127.0.0.1:${hubPort}`));
  writeFileSync(
    join(db, 'function-manager-conf/service.yml'),
    stringify({
      hub: { address: `tcp://127.0.0.1:${hubPort}`, username: 'test', password: 'hahaha' },
      rules: [{ clientid: 'func-node85-sayhi-1', subscribe: { topic: 't' }, function: { name: 'node85-sayhi' }, publish: { topic: 't/node8hi' } }],
      functions: [{ name: 'node85-sayhi', service: 'function-node85-sayhi' }],
      logger: { path: 'var/log/baetyl/service.log', level: 'debug' },
    }),
  );
  const app = readFileSync(join(db, 'application.yml'), 'utf8');
  // Keep the hub, the manager and the node runtime: cut the python and sql services out.
  const kept = app
    .replace(/ {2}- name: function-python27-sayhi[\s\S]*?(?= {2}- name: function-node85-sayhi)/, '')
    .replace(/ {2}- name: function-sql-filter[\s\S]*?(?=volumes:)/, '');
  writeFileSync(join(db, 'application.yml'), kept);
  return { dir, out: dir };
}

/** Publishes {"id":1} on t until the node85 rule's answer comes on t/node8hi; returns it. */
export async function functionAnswer(hubPort: number, payload = '{"id":1}'): Promise<string> {
  const auth = ['-h', '127.0.0.1', '-p', String(hubPort), '-u', 'test', '-P', 'hahaha'];
  let got = '';
  let sub: ChildProcess | undefined;
  // mosquitto_sub exits when the hub does not listen yet: it is started again until it stays.
  // Not once an answer came: a new subscriber would add the answer to the next publish.
  const subscribe = () => {
    if (got !== '' || (sub && sub.exitCode === null)) return;
    sub = spawn('mosquitto_sub', [...auth, '-t', 't/node8hi', '-C', '1', '-W', '120'], { stdio: ['ignore', 'pipe', 'ignore'] });
    sub.stdout!.on('data', (d) => (got += d));
  };
  try {
    // Until the rule has subscribed, a QoS 0 message goes nowhere: publish until one comes back.
    await waitFor(
      'the function to answer',
      async () => {
        subscribe();
        await sleep(300);
        try {
          execFileSync('mosquitto_pub', [...auth, '-t', 't', '-m', payload], { stdio: 'ignore' });
        } catch {
          // the hub may not listen yet
        }
        await sleep(300);
        return got !== '';
      },
      120_000,
    );
  } finally {
    sub?.kill();
  }
  return got.trim().split('\n')[0]!;
}
