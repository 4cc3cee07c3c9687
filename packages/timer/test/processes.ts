// The hub and the timer as the master runs them natively: node processes with a service
// directory as cwd holding etc/baetyl/service.yml.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const PACKAGES = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const HUB_MAIN = join(PACKAGES, 'hub', 'dist', 'src', 'main.js');
export const TIMER_MAIN = join(PACKAGES, 'timer', 'dist', 'src', 'main.js');

export interface ServiceProcess {
  dir: string;
  proc: ChildProcess;
  output(): string;
  /** Resolves once the output matches (rejects after `ms`, or when the process exits first). */
  waitFor(pattern: RegExp, ms?: number, from?: number): Promise<void>;
  kill9(): Promise<void>;
  stop(): Promise<number | null>;
  exited: Promise<number | null>;
}

const live = new Set<ChildProcess>();
const dirs = new Set<string>();
process.on('exit', () => {
  for (const p of live) p.kill('SIGKILL');
});

export function serviceDir(config: string, dir?: string): string {
  const d = dir ?? mkdtempSync(join(tmpdir(), 'timer-test-'));
  dirs.add(d);
  mkdirSync(join(d, 'etc', 'baetyl'), { recursive: true });
  writeFileSync(join(d, 'etc', 'baetyl', 'service.yml'), config);
  return d;
}

/** A loopback port the OS says is free now. */
export async function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => ok(port));
    });
  });
}

export function startService(main: string, dir: string): ServiceProcess {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('BAETYL_')) delete env[k];
  const proc = spawn(process.execPath, [main], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(proc);
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (c: Buffer) => {
    out += c.toString();
    for (const l of listeners) l();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const exited = new Promise<number | null>((ok) =>
    proc.on('exit', (code) => {
      live.delete(proc);
      for (const l of listeners) l();
      ok(code);
    }),
  );
  const self: ServiceProcess = {
    dir,
    proc,
    output: () => out,
    exited,
    waitFor(pattern, ms = 30_000, from = 0) {
      return new Promise((ok, fail) => {
        const timer = setTimeout(() => done(new Error(`no ${pattern} within ${ms} ms:\n${out}`)), ms);
        const check = () => {
          if (pattern.test(out.slice(from))) done();
          else if (proc.exitCode !== null || proc.signalCode !== null) done(new Error(`exited (${proc.exitCode ?? proc.signalCode}) before ${pattern}:\n${out}`));
        };
        const done = (err?: Error) => {
          clearTimeout(timer);
          listeners.delete(check);
          if (err) fail(err);
          else ok();
        };
        listeners.add(check);
        check();
      });
    },
    async kill9() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited;
    },
  };
  return self;
}

export async function cleanup(): Promise<void> {
  await Promise.all(
    [...live].map(
      (p) =>
        new Promise<void>((ok) => {
          p.once('exit', () => ok());
          p.kill('SIGKILL');
        }),
    ),
  );
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  dirs.clear();
}

export function hubConfig(port: number): string {
  return `listen:
  - tcp://127.0.0.1:${port}
principals:
  - username: test
    password: hahaha
    permissions:
      - action: pub
        permit: ['#']
      - action: sub
        permit: ['#']
logger:
  level: debug
`;
}
