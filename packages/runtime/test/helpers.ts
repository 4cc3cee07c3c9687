// Test helpers: a temp service dir, the runtime started as a real process the way the master
// starts it, and a real gRPC client.
import type { ChildProcess } from 'node:child_process';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as grpc from '@grpc/grpc-js';
import { freePort, startProcess, tempDir, writeFiles } from '@baetyl/test-support';
import { createFunctionClient, openFunctionStream, type FunctionClient, type FunctionMessage, type StreamCall, type StreamResult } from '@baetyl/core';
import { pythonLaunch } from '../src/python/instance.js';
import { passedConfigText, RUNTIME_CONFIG_ENV } from '../src/config/pass.js';
import type { RuntimeKind } from '../src/config/kinds.js';

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

/** A fresh service directory holding `files` (path -> text). */
export function serviceDir(files: Record<string, string>): string {
  const dir = tempDir('baetyl-runtime-');
  writeFiles(dir, files);
  return dir;
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
  /** node85/sql: check this service.yml as the master does and pass it in BAETYL_RUNTIME_CONFIG. */
  passConfigFrom?: string;
}

/** Spawns the runtime; resolves once it logs its start, rejects with its output if it exits first. */
export async function startRuntimeProcess(kind: string, dir: string, opts: StartOpts = {}): Promise<RuntimeProc> {
  const port = await freePort();
  const address = `127.0.0.1:${port}`;
  const env: NodeJS.ProcessEnv = { ...process.env, BAETYL_SERVICE_INSTANCE_ADDRESS: address, BAETYL_SERVICE_INSTANCE_NAME: `${kind}-test.1`, ...opts.env };
  if (opts.passConfigFrom) env[RUNTIME_CONFIG_ENV] = passedConfigText(opts.passConfigFrom, kind as RuntimeKind, env);
  const launch = launchOf(kind, dir, env, opts.args);
  const p = startProcess(launch.command, launch.args, { cwd: dir, env: launch.env, keepBaetylEnv: true, name: `the ${kind} runtime` });
  // Its start line, not a probe of the port: the tests read the lines up to it (the address it
  // serves on, the config's warnings), and it serves where its config says when told no address.
  await p.waitFor(/service starting/);
  const client = createFunctionClient(address);
  const exited = p.exited.then((e) => e.code);
  return {
    child: p.proc,
    address,
    client,
    stderr: p.output,
    exited,
    async stop() {
      client.close();
      return p.stop();
    },
  };
}

/** Starts the runtime and expects it to fail; resolves with exit code and output. */
export async function failedStart(kind: string, dir: string, opts: StartOpts = {}): Promise<{ code: number | null; stderr: string }> {
  const port = await freePort();
  const launch = launchOf(kind, dir, { ...process.env, BAETYL_SERVICE_INSTANCE_ADDRESS: `127.0.0.1:${port}`, ...opts.env }, opts.args);
  const p = startProcess(launch.command, launch.args, { cwd: dir, env: launch.env, keepBaetylEnv: true, name: `the ${kind} runtime` });
  const { code } = await p.exited;
  return { code, stderr: p.output() };
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
  /** StreamResult.us of every answer, in the order they came: how long each handler ran. */
  readonly times: number[] = [];

  constructor(client: FunctionClient) {
    this.stream = openFunctionStream(client);
    this.stream.on('data', (r: StreamResult) => {
      const p = this.pending.get(r.seq);
      if (!p) return;
      this.pending.delete(r.seq);
      this.times.push(r.us ?? 0);
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
