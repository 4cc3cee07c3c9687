// The Node worker of the node85 runtime: a worker thread of the instance process that loads the
// handlers and runs one call at a time, spoken to through its port (see host/thread.ts). The host
// may post several calls at once (pipelining); they wait here and run in order, each after the
// previous one settled, so a handler never runs concurrently with itself.
// Handler semantics follow Baetyl v1's node85 runtime: `(event, context, callback)`, the event
// decoded from JSON (empty -> {}, undecodable -> Buffer), results `== ""` publish nothing, a Buffer
// is raw, anything else JSON.stringify. Beyond v1: a returned promise settles the call too, a
// handler without a callback parameter may simply return its result, and a synchronous throw is
// reported as the user's error instead of killing the instance.
import { readFileSync } from 'node:fs';
import { createRequire, Module } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort } from 'node:worker_threads';
import { deadlineDetails, FUNCTION_NOT_FOUND, NO_WORKER_IN_TIME, userCodeError } from '@baetyl/core/function/errors';
import { startIdleTrim } from '@baetyl/core/memory';
import type { ThreadAnswer, ThreadCall, ThreadInit } from '../host/thread.js';
import type { CallFrame, FunctionSpec } from '../host/protocol.js';

type Handler = (event: unknown, context: Record<string, unknown>, callback: (err?: unknown, result?: unknown) => void) => unknown;

if (!parentPort) throw new Error('node/worker.js runs as a worker thread of the node85 runtime, not on its own');
const port = parentPort;
// This thread's own heap grows with the calls it runs; it is given back once the thread is quiet.
startIdleTrim();

/** Where codedirs are resolved: the instance's working directory, sent with the init message. */
let cwd = process.cwd();
let requireFrom = createRequire(path.join(cwd, 'noop.js'));

function send(answer: ThreadAnswer): void {
  port.postMessage(answer);
}

function log(level: 'info' | 'warn' | 'error', msg: string): void {
  send({ type: 'log', level, msg });
}

class LoadError extends Error {}

/** "file:line" for a load problem: a syntax error's place, else the first frame in the code dir. */
function locate(err: unknown, dir: string): string | undefined {
  const stack = err instanceof Error && typeof err.stack === 'string' ? err.stack : '';
  const first = stack.split('\n')[0] ?? '';
  if (/^\/.+:\d+$/.test(first)) return first;
  for (const line of stack.split('\n')) {
    const m = /\(?((?:file:\/\/)?\/[^():]+):(\d+):\d+\)?$/.exec(line.trim());
    if (m && m[1]!.replace('file://', '').startsWith(dir + path.sep)) return `${m[1]!.replace('file://', '')}:${m[2]}`;
  }
  return undefined;
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.toString();
  return String(err);
}

/** Loads a file as a CommonJS module whatever the enclosing package.json says. */
function compileCommonJs(file: string): Record<string, unknown> {
  type Compilable = InstanceType<typeof Module> & { _compile(code: string, filename: string): void };
  const m = new Module(file) as Compilable;
  m.filename = file;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(file));
  m._compile(readFileSync(file, 'utf8'), file);
  m.loaded = true;
  return m.exports as Record<string, unknown>;
}

async function loadOne(spec: FunctionSpec): Promise<Handler> {
  const prefix = `function "${spec.name}": cannot load handler "${spec.handler}"`;
  // v1 used only the first two dot segments: "<module>.<export>".
  const [modName, exportName] = spec.handler.split('.');
  if (!modName || !exportName) throw new LoadError(`${prefix}: a node handler is "<module>.<function>", like "index.handler"`);
  // v1 joined codedir to the working directory; resolving also keeps an absolute codedir working.
  const dir = path.resolve(cwd, spec.codedir);
  const file = path.join(dir, modName);
  let resolved: string;
  try {
    resolved = requireFrom.resolve(file);
  } catch {
    throw new LoadError(
      `${prefix}: module "${modName}" not found: there is no ${path.join(spec.codedir, modName)}.js (or a folder with an index.js) in ${cwd}`,
    );
  }
  let mod: Record<string, unknown>;
  try {
    mod = requireFrom(resolved) as Record<string, unknown>;
  } catch (err) {
    // A package.json with "type": "module" above the code makes node refuse to require it
    // (ERR_REQUIRE_ESM), or, since node 20.19, load it as an ES module, where `exports` is undefined.
    const treatedAsEsm = (err as NodeJS.ErrnoException).code === 'ERR_REQUIRE_ESM' || (err instanceof ReferenceError && /in ES module scope/.test(err.message));
    if (treatedAsEsm) {
      // node85 handlers are CommonJS (`exports.handler = ...`), so compile the file as that first;
      // only a file with ES module syntax is then imported as one.
      try {
        mod = compileCommonJs(resolved);
      } catch (cjsErr) {
        if (!(cjsErr instanceof SyntaxError)) throw new LoadError(`${prefix} from ${locate(cjsErr, dir) ?? resolved}: ${describe(cjsErr)}`);
        try {
          mod = (await import(pathToFileURL(resolved).href)) as Record<string, unknown>;
        } catch (err2) {
          throw new LoadError(`${prefix} from ${locate(err2, dir) ?? resolved}: ${describe(err2)}`);
        }
      }
    } else {
      throw new LoadError(`${prefix} from ${locate(err, dir) ?? resolved}: ${describe(err)}`);
    }
  }
  const fn = mod[exportName] ?? (mod.default as Record<string, unknown> | undefined)?.[exportName];
  if (fn === undefined) throw new LoadError(`${prefix}: ${resolved} exports no "${exportName}"`);
  if (typeof fn !== 'function') throw new LoadError(`${prefix}: "${exportName}" in ${resolved} is not a function`);
  return fn as Handler;
}

const functions = new Map<string, Handler>();

/** The call in progress, so an uncaught error can still be answered. */
let current: { fail: (err: unknown) => void } | undefined;
/** Set once the worker decided to exit: its last answer tells the host not to reuse it. */
let retiring = false;

/** Calls received and not started yet. */
const queued: Array<{ h: CallFrame; body: Buffer }> = [];
let busy = false;

function enqueueCall(h: CallFrame, body: Buffer): void {
  queued.push({ h, body });
  if (!busy) runNext();
}

/** Runs queued calls until one is left running (asynchronous) or none is left. */
function runNext(): void {
  // A retiring worker runs nothing more: the host sends what was queued here to another worker.
  while (!busy && !retiring && queued.length > 0) {
    const { h, body } = queued.shift()!;
    // deadline layer: worker skips (@baetyl/core/function/deadlines.ts).
    if (h.deadline !== undefined && Date.now() > h.deadline) {
      send({ type: 'error', seq: h.seq, expired: true, details: deadlineDetails(NO_WORKER_IN_TIME) });
      continue;
    }
    busy = true;
    runCall(h, body, () => {
      busy = false;
      // Called from inside settle(): carry on after it returns.
      if (queued.length > 0) setImmediate(runNext);
    });
  }
}

function runCall(h: CallFrame, body: Buffer, next: () => void): void {
  const fn = functions.get(h.fn);
  if (!fn) {
    send({ type: 'error', seq: h.seq, details: FUNCTION_NOT_FOUND });
    next();
    return;
  }
  const ctx: Record<string, unknown> = {
    messageQOS: h.qos,
    messageTopic: h.topic,
    functionName: h.fn,
    messageTimestamp: h.ts,
    functionInvokeID: h.invokeId,
    invokeid: h.invokeId,
  };
  let msg: unknown = {};
  if (body.length > 0) {
    try {
      msg = JSON.parse(body.toString());
    } catch {
      msg = Buffer.from(body); // raw data, not JSON
    }
  }
  let settled = false;
  const started = performance.now();
  const settle = (err: unknown, respMsg: unknown): void => {
    if (settled) {
      log('warn', `function "${h.fn}" answered more than once; only the first answer counts`);
      return;
    }
    settled = true;
    current = undefined;
    answer(err, respMsg, Math.round((performance.now() - started) * 1000));
    next();
  };
  const answer = (err: unknown, respMsg: unknown, us: number): void => {
    // v1 tested `err != null`, so 0, false and "" are errors too.
    if (err != null) {
      const stack = err instanceof Error && err.stack ? err.stack : describe(err);
      log('error', `function "${h.fn}" failed: ${stack}`);
      send({ type: 'error', seq: h.seq, us, details: userCodeError('UserCodeInvoke', describe(err)), retire: retiring });
      return;
    }
    // v1's rule, loose equality on purpose: anything == "" (undefined, null, "", 0, false, []) publishes nothing.
    if (respMsg == '' || respMsg == undefined || respMsg == null) {
      send({ type: 'result', seq: h.seq, us });
      return;
    }
    if (Buffer.isBuffer(respMsg)) {
      // An exact-size copy: posting a view would copy the whole pooled buffer behind it.
      send({ type: 'result', seq: h.seq, us, body: new Uint8Array(respMsg) });
      return;
    }
    let json: string | undefined;
    try {
      json = JSON.stringify(respMsg);
      if (json === undefined) throw new TypeError(`a ${typeof respMsg} cannot be converted to JSON`);
    } catch (error) {
      log('error', `function "${h.fn}" returned a value JSON cannot encode: ${describe(error)}`);
      send({ type: 'error', seq: h.seq, us, details: userCodeError('UserCodeReturn', describe(error)) });
      return;
    }
    send({ type: 'result', seq: h.seq, us, text: json });
  };
  const failWith = (err: unknown) => settle(err ?? new Error(`the handler failed with ${String(err)}`), undefined);
  current = { fail: failWith };
  let ret: unknown;
  try {
    ret = fn(msg, ctx, (err?: unknown, result?: unknown) => settle(err, result));
  } catch (err) {
    failWith(err);
    return;
  }
  if (settled) return;
  if (ret !== null && typeof ret === 'object' && typeof (ret as PromiseLike<unknown>).then === 'function') {
    (ret as PromiseLike<unknown>).then(
      (value) => {
        // An async handler that also takes a callback may resolve before calling it.
        if (value === undefined && fn.length >= 3) return;
        if (!settled) settle(null, value);
      },
      (err: unknown) => {
        if (!settled) failWith(err);
      },
    );
  } else if (fn.length < 3) {
    // No callback parameter: the return value is the result.
    settle(null, ret);
  }
}

function onFatal(err: unknown): void {
  const call = current;
  retiring = true;
  if (call) {
    call.fail(err);
    log('error', 'the worker is restarted after an uncaught error');
  } else {
    log('error', `uncaught error outside a call, restarting the worker: ${err instanceof Error ? err.stack : String(err)}`);
  }
  // What was posted is delivered: the host reads the answer, then sees the thread end.
  process.exit(1);
}

async function init(h: ThreadInit): Promise<void> {
  cwd = h.cwd;
  requireFrom = createRequire(path.join(cwd, 'noop.js'));
  try {
    for (const spec of h.functions) functions.set(spec.name, await loadOne(spec));
  } catch (err) {
    const message = err instanceof LoadError ? err.message : `cannot load the handlers: ${describe(err)}`;
    send({ type: 'load-error', message });
    process.exit(1);
  }
  send({ type: 'ready', version: process.versions.node });
}

function main(): void {
  process.on('uncaughtException', onFatal);
  process.on('unhandledRejection', onFatal);
  port.on('message', (m: ThreadInit | ThreadCall | { type: 'stop' }) => {
    if (m.type === 'call') enqueueCall(m, Buffer.from(m.body.buffer, m.body.byteOffset, m.body.byteLength));
    else if (m.type === 'init') void init(m);
    // The host stops this worker (idle, or the runtime is stopping).
    else if (m.type === 'stop') process.exit(0);
  });
}

main();
