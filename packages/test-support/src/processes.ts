// Processes a test starts (a service as the master runs it natively, a peer like mosquitto, the
// master itself), with their output kept for assertions and failure messages, and stopped
// together by stopProcesses() even when a test fails half-way.
import { spawn, type ChildProcess } from 'node:child_process';
import { removeTempDirs } from './temp.js';

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface TestProcess {
  proc: ChildProcess;
  /** stdout and stderr so far, interleaved as they came. */
  output(): string;
  /**
   * Resolves with the `count`th match of `re` in the output after `from` (an output length),
   * for what only the output tells (a port chosen at start, a log line under test). Rejects
   * when the process exits first, or after `timeoutMs`.
   */
  waitFor(re: RegExp, opts?: { from?: number; timeoutMs?: number; count?: number }): Promise<RegExpMatchArray>;
  alive(): boolean;
  /** SIGTERM (to the process only: a master stops its own children) and wait; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL (to the whole process group when started with `group`) and wait. */
  kill9(): Promise<void>;
  exited: Promise<Exit>;
}

export interface StartOptions {
  cwd?: string;
  /** Added to this process's environment. */
  env?: NodeJS.ProcessEnv;
  /** Keep this process's BAETYL_* variables (by default a child sees only those in `env`, as a service the master starts). */
  keepBaetylEnv?: boolean;
  /** Start it as a process group leader, so that kill9() and stopProcesses() reach what it started. */
  group?: boolean;
  /** Its name in failure messages. */
  name?: string;
}

const live = new Set<TestProcess>();
process.on('exit', () => {
  for (const p of live) signal(p, 'SIGKILL', true);
});

const groups = new WeakSet<ChildProcess>();

function signal(p: TestProcess, sig: NodeJS.Signals, wholeGroup: boolean): void {
  if (!p.alive()) return;
  try {
    if (wholeGroup && groups.has(p.proc) && p.proc.pid) process.kill(-p.proc.pid, sig);
    else p.proc.kill(sig);
  } catch {
    // already gone
  }
}

/** Starts `command` with its output piped and recorded. */
export function startProcess(command: string, args: string[], opts: StartOptions = {}): TestProcess {
  const env = { ...process.env, ...opts.env };
  if (!opts.keepBaetylEnv) for (const k of Object.keys(env)) if (k.startsWith('BAETYL_') && !(opts.env && k in opts.env)) delete env[k];
  const proc = spawn(command, args, { cwd: opts.cwd, env, detached: opts.group === true, stdio: ['ignore', 'pipe', 'pipe'] });
  if (opts.group) groups.add(proc);
  const name = opts.name ?? command;
  let out = '';
  const listeners = new Set<() => void>();
  const onData = (c: Buffer) => {
    out += c.toString();
    for (const l of listeners) l();
  };
  proc.stdout!.on('data', onData);
  proc.stderr!.on('data', onData);
  const alive = () => proc.exitCode === null && proc.signalCode === null;
  const exited = new Promise<Exit>((ok) => {
    proc.once('exit', (code, sig) => {
      live.delete(self);
      ok({ code, signal: sig });
      for (const l of listeners) l();
    });
    proc.once('error', (err) => {
      out += `\n${name}: ${err.message}\n`;
      live.delete(self);
      ok({ code: null, signal: null });
      for (const l of listeners) l();
    });
  });
  const self: TestProcess = {
    proc,
    output: () => out,
    alive,
    exited,
    waitFor(re, o = {}) {
      const count = o.count ?? 1;
      const timeoutMs = o.timeoutMs ?? 60_000;
      const global = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
      return new Promise((ok, fail) => {
        const check = () => {
          const found = [...out.slice(o.from ?? 0).matchAll(global)];
          if (found.length >= count) {
            done();
            ok(found[count - 1]!);
          } else if (!alive() || proc.pid === undefined) {
            done();
            fail(new Error(`${name} exited (${proc.exitCode ?? proc.signalCode}) before ${re} appeared:\n${out}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          fail(new Error(`${re} did not appear in ${name}'s output within ${timeoutMs} ms:\n${out}`));
        }, timeoutMs);
        const done = () => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        // An exit before any listener ran (a spawn error) is seen once `exited` settles.
        void exited.then(check);
        check();
      });
    },
    async stop() {
      signal(self, 'SIGTERM', false);
      return (await exited).code;
    },
    async kill9() {
      signal(self, 'SIGKILL', true);
      await exited;
    },
  };
  live.add(self);
  return self;
}

/** Starts a Node service's main.js as the master starts it natively: `node main`, cwd = its service directory. */
export function startNodeService(main: string, dir: string, opts: Omit<StartOptions, 'cwd'> & { args?: string[]; nodeArgs?: string[] } = {}): TestProcess {
  return startProcess(process.execPath, [...(opts.nodeArgs ?? []), main, ...(opts.args ?? [])], { ...opts, cwd: dir });
}

/** Kills every process startProcess() started that still runs, and removes the temp dirs (for `after`). */
export async function stopProcesses(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill9()));
  removeTempDirs();
}
