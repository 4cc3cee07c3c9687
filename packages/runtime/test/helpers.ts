// Test helpers: a temp service dir, the runtime started as a real process the way the master
// starts it, and a real gRPC client.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import { createFunctionClient, openFunctionStream, type FunctionClient, type FunctionMessage, type StreamCall, type StreamResult } from '@baetyl/core';
import { pythonLaunch } from '../src/python/instance.js';

export const MAIN_JS = fileURLToPath(new URL('../src/main.js', import.meta.url));

/**
 * How the master starts an instance of `kind` in `dir`: python27/python36 are the interpreter
 * running packages/runtime/python (their service.yml checked first, as the master does; a bad
 * one throws here, as it fails the master's start); the others are the Node runtime host.
 */
export function launchOf(kind: string, dir: string, env: NodeJS.ProcessEnv, args: string[] = []): { command: string; args: string[]; env: NodeJS.ProcessEnv } {
  if (kind === 'python27' || kind === 'python36') {
    const l = pythonLaunch(kind, join(dir, 'etc/baetyl/service.yml'), env);
    return { command: l.command, args: [...l.args, ...args], env: { ...env, ...l.env } };
  }
  return { command: process.execPath, args: [MAIN_JS, '--runtime', kind, ...args], env };
}

export function serviceDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'baetyl-runtime-'));
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Polls until `check` returns a value (not undefined), or fails after `ms`. */
export async function waitFor<T>(what: string, check: () => T | undefined | Promise<T | undefined>, ms = 60000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RuntimeProc {
  child: ChildProcess;
  address: string;
  client: FunctionClient;
  stderr(): string;
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
}

export interface StartOpts {
  env?: NodeJS.ProcessEnv;
  args?: string[];
}

/** Spawns the runtime; resolves once it listens, rejects with its stderr if it exits first. */
export async function startRuntimeProcess(kind: string, dir: string, opts: StartOpts = {}): Promise<RuntimeProc> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const launch = launchOf(kind, dir, { ...process.env, BAETYL_SERVICE_INSTANCE_ADDRESS: address, BAETYL_SERVICE_INSTANCE_NAME: `${kind}-test.1`, ...opts.env }, opts.args);
  const child = spawn(launch.command, launch.args, { cwd: dir, env: launch.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  child.stdout!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let exitCode: number | null | undefined;
  void exited.then((c) => (exitCode = c));
  await waitFor(`the ${kind} runtime to listen`, () => {
    if (exitCode !== undefined) throw new Error(`runtime exited with ${exitCode}:\n${err}`);
    return err.includes('service starting') ? true : undefined;
  });
  const client = createFunctionClient(address);
  return {
    child,
    address,
    client,
    stderr: () => err,
    exited,
    async stop() {
      client.close();
      if (exitCode === undefined) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Starts the runtime and expects it to fail; resolves with exit code and stderr. */
export async function failedStart(kind: string, dir: string, opts: StartOpts = {}): Promise<{ code: number | null; stderr: string }> {
  const port = await freePort();
  const launch = launchOf(kind, dir, { ...process.env, BAETYL_SERVICE_INSTANCE_ADDRESS: `127.0.0.1:${port}`, ...opts.env }, opts.args);
  const child = spawn(launch.command, launch.args, { cwd: dir, env: launch.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
  return { code, stderr: err };
}

export interface CallOutcome {
  res?: FunctionMessage;
  err?: grpc.ServiceError;
}

export function call(client: FunctionClient, msg: Partial<FunctionMessage>, deadlineMs = 60000): Promise<CallOutcome> {
  return new Promise((resolve) => {
    client.Call(msg, { deadline: Date.now() + deadlineMs }, (err, res) => resolve(err ? { err } : { res: res! }));
  });
}

export function message(fn: string, payload: string | Buffer, extra: Partial<FunctionMessage> = {}): Partial<FunctionMessage> {
  return {
    ID: 0,
    QOS: 0,
    Topic: 't',
    Payload: Buffer.isBuffer(payload) ? payload : Buffer.from(payload),
    Timestamp: 1700000000,
    FunctionName: fn,
    FunctionInvokeID: '4b1c6a2e-1f5e-4d0b-9a53-2f1f3c0d8e7a',
    ...extra,
  };
}

/** Processes whose parent is `pid` (from /proc). */
export function childrenOf(pid: number): number[] {
  const out: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** True while the process exists and is not a zombie. */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export function cleanup(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Calls over one baetyl.FunctionStream/Calls stream, as the function manager makes them. */
export class StreamCaller {
  private readonly stream: grpc.ClientDuplexStream<StreamCall, StreamResult>;
  private readonly pending = new Map<number, { msg: FunctionMessage; resolve: (m: FunctionMessage) => void; reject: (e: Error) => void }>();
  private seq = 1;

  constructor(client: FunctionClient) {
    this.stream = openFunctionStream(client);
    this.stream.on('data', (r: StreamResult) => {
      const p = this.pending.get(r.seq);
      if (!p) return;
      this.pending.delete(r.seq);
      if (r.code === 0) p.resolve({ ...p.msg, Payload: r.payload });
      else p.reject(Object.assign(new Error(r.details), { code: r.code, details: r.details }));
    });
    this.stream.on('error', (err: Error) => {
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    });
  }

  /** One call whose deadline is `timeout` ms away; rejects with { code, details }. */
  call(msg: FunctionMessage, timeout: number): Promise<FunctionMessage> {
    return new Promise((resolve, reject) => {
      const seq = this.seq++;
      this.pending.set(seq, { msg, resolve, reject });
      this.stream.write({ seq, timeout, msg });
    });
  }

  close(): void {
    this.stream.cancel();
  }
}
