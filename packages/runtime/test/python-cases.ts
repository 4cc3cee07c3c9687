// The python27 and python36 runtime tests (used by python27.test.ts and python36.test.ts): real processes on the real interpreters (pyenv 2.7.18 and
// 3.6.15 on the test machine), called over real gRPC.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { findPython } from '../src/python/interpreter.js';
import { SAYHI_PY, SAYHI_PY_CONF } from './fixtures.js';
import { waitFor } from '@baetyl/test-support';
import { call, childrenOf, cleanup, failedStart, isRunning, launchOf, message, serviceDir, startRuntimeProcess, type RuntimeProc } from './helpers.js';

const UUID = '4b1c6a2e-1f5e-4d0b-9a53-2f1f3c0d8e7a';
const TS = 1700000000;

/** Handlers exercising the host: each returns its worker's pid where that matters. */
const TOOLS_PY = `# -*- coding:utf-8 -*-
import os
import sys
import time


def pid(event, context):
    return {'pid': os.getpid()}


def boom(event, context):
    raise TypeError('boom')


def noisy(event, context):
    print('hello from print')
    sys.stdout.write('{"type": "result", "seq": 1}')
    sys.stdout.flush()
    sys.stderr.write('to stderr\\n')
    os.write(1, b'\\x00\\x00\\x00\\x05garbage on fd 1\\n')
    return {'pid': os.getpid(), 'ok': True}


def sleepy(event, context):
    time.sleep(event.get('sleep', 0))
    return {'pid': os.getpid()}


def crash(event, context):
    os._exit(3)


def none(event, context):
    return None


def raw(event, context):
    return b'raw-bytes'


def text(event, context):
    return u'text'


def unserialisable(event, context):
    return set([1])


def echo(event, context):
    return {'event': event.decode('utf-8') if isinstance(event, bytes) else event, 'context': context}


def barrier(event, context):
    """Proves parallelism: returns only once n calls have started."""
    d, n, me = event['dir'], event['n'], event['id']
    open(os.path.join(d, 'start-%s' % me), 'w').close()
    deadline = time.time() + 60
    while len([f for f in os.listdir(d) if f.startswith('start-')]) < n:
        if time.time() > deadline:
            raise RuntimeError('the other calls never started')
        time.sleep(0.02)
    open(os.path.join(d, 'end-%s' % me), 'w').close()
    return {'pid': os.getpid()}
`;

const TOOL_FUNCTIONS = ['pid', 'boom', 'noisy', 'sleepy', 'crash', 'none', 'raw', 'text', 'unserialisable', 'echo', 'barrier'];

function toolsConf(extra = ''): string {
  const fns = TOOL_FUNCTIONS.map((f) => `  - name: ${f}\n    handler: tools.${f}\n    codedir: code\n`).join('');
  return `functions:\n${fns}${extra}`;
}

const expected = {
  python27: {
    sayhi: `{"messageTopic": "t", "functionName": "python27-sayhi", "functionInvokeID": "<uuid>", "messageTimestamp": <ts>, "messageQOS": 0, "Say": "Hello Baetyl", "id": 1}`,
    hi: `{"messageTopic": "t", "functionName": "python27-sayhi", "functionInvokeID": "<uuid>", "messageTimestamp": <ts>, "bytes": "hi", "messageQOS": 0, "Say": "Hello Baetyl"}`,
    // py2's json.loads gives unicode strings, so TypeError(event['err']) reprs as u'x' (as v1's did).
    err: `Exception calling application: ('[UserCodeInvoke] ', TypeError(u'x',))`,
  },
  python36: {
    sayhi: `{"id": 1, "messageQOS": 0, "messageTopic": "t", "messageTimestamp": <ts>, "functionName": "python36-sayhi", "functionInvokeID": "<uuid>", "Say": "Hello Baetyl"}`,
    hi: `{"bytes": "hi", "messageQOS": 0, "messageTopic": "t", "messageTimestamp": <ts>, "functionName": "python36-sayhi", "functionInvokeID": "<uuid>", "Say": "Hello Baetyl"}`,
    err: `Exception calling application: ('[UserCodeInvoke] ', TypeError('x',))`,
  },
} as const;

/** A pyenv Python 3.7+ (for the repr test), if installed. */
function findNewerPython(): string | undefined {
  const root = join(process.env.PYENV_ROOT ?? join(process.env.HOME ?? '/root', '.pyenv'), 'versions');
  let names: string[];
  try {
    names = readdirSync(root);
  } catch {
    return undefined;
  }
  const v = names.find((n) => /^3\.(?:[7-9]|1\d)\.\d+$/.test(n));
  if (!v) return undefined;
  const minor = v.split('.').slice(0, 2).join('.');
  return join(root, v, 'bin', `python${minor}`);
}

const fill = (s: string) => s.replace('<uuid>', UUID).replace('<ts>', String(TS));

/** Declares every python runtime test for one runtime kind (one test file per kind). */
export function definePythonTests(kind: 'python27' | 'python36'): void {
  const fn = `${kind}-sayhi`;

  describe(`${kind} runtime (real process)`, () => {
    let dir: string;
    let rt: RuntimeProc;

    before(async () => {
      dir = serviceDir({
        'etc/baetyl/service.yml': `${SAYHI_PY_CONF}${toolsConf().replace('functions:\n', '')}server:\n  workers:\n    max: 1\n`,
        'var/db/baetyl/function-sayhi/index.py': SAYHI_PY,
        'code/tools.py': TOOLS_PY,
      });
      rt = await startRuntimeProcess(kind, dir);
    });
    after(async () => {
      await rt.stop();
      cleanup(dir);
    });

    test('runs on the intended interpreter', () => {
      const version = kind === 'python27' ? '2.7.' : '3.6.';
      assert.match(rt.stderr(), new RegExp(`using Python ${version.replace('.', '\\.')}`));
    });

    test('the tutorial message {"id":1} gives the v1 payload byte for byte', async () => {
      const { res, err } = await call(rt.client, message(fn, '{"id":1}'));
      assert.equal(err, undefined);
      assert.equal(res!.Payload.toString(), fill(expected[kind].sayhi));
      // The other fields echo the request.
      assert.equal(res!.FunctionName, fn);
      assert.equal(res!.Timestamp, TS);
      assert.equal(res!.FunctionInvokeID, UUID);
      assert.equal(res!.Topic, 't');
    });

    test('{"err":"x"} fails with UNKNOWN and v1\'s details text', async () => {
      const { err } = await call(rt.client, message(fn, '{"err":"x"}'));
      assert.equal(err?.code, status.UNKNOWN);
      assert.equal(err?.details, expected[kind].err);
    });

    test('a non-JSON payload reaches the handler as bytes', async () => {
      const { res } = await call(rt.client, message(fn, 'hi'));
      assert.equal(res!.Payload.toString(), fill(expected[kind].hi));
    });

    test("an empty payload is the event {}, and the context has v1's keys", async () => {
      const { res } = await call(rt.client, message('echo', '', { QOS: 1, ID: 9 }));
      const out = JSON.parse(res!.Payload.toString()) as { event: unknown; context: Record<string, unknown> };
      assert.deepEqual(out.event, {});
      assert.deepEqual(out.context, {
        messageQOS: 1,
        messageTopic: 't',
        messageTimestamp: TS,
        functionName: 'echo',
        functionInvokeID: UUID,
        invokeid: UUID,
      });
      const list = await call(rt.client, message('echo', '[1, "a", null]'));
      assert.deepEqual((JSON.parse(list.res!.Payload.toString()) as { event: unknown }).event, [1, 'a', null]);
    });

    test('None publishes nothing; bytes are raw; a py3 str is JSON-quoted', async () => {
      assert.equal((await call(rt.client, message('none', '{}'))).res!.Payload.length, 0);
      assert.equal((await call(rt.client, message('raw', '{}'))).res!.Payload.toString(), 'raw-bytes');
      assert.equal((await call(rt.client, message('text', '{}'))).res!.Payload.toString(), '"text"');
    });

    test('an unserialisable result is a [UserCodeReturn] error', async () => {
      const { err } = await call(rt.client, message('unserialisable', '{}'));
      assert.equal(err?.code, status.UNKNOWN);
      assert.match(err!.details, /^Exception calling application: \('\[UserCodeReturn\] ', TypeError\(/);
      assert.match(err!.details, /set/);
    });

    test('an unknown function is "function not found"', async () => {
      const { err } = await call(rt.client, message('nope', '{}'));
      assert.equal(err?.code, status.UNKNOWN);
      assert.equal(err?.details, 'Exception calling application: function not found');
    });

    test('a user exception keeps the instance and the same worker', async () => {
      const before = JSON.parse((await call(rt.client, message('pid', '{}'))).res!.Payload.toString()) as { pid: number };
      const boom = await call(rt.client, message('boom', '{}'));
      const repr = kind === 'python27' ? "TypeError('boom',)" : "TypeError('boom',)";
      assert.equal(boom.err?.details, `Exception calling application: ('[UserCodeInvoke] ', ${repr})`);
      const afterCall = JSON.parse((await call(rt.client, message('pid', '{}'))).res!.Payload.toString()) as { pid: number };
      assert.equal(afterCall.pid, before.pid);
      assert.ok(rt.stderr().includes('Traceback'), 'the traceback is in the runtime log');
    });

    test('handler prints go to the log and do not corrupt the protocol', async () => {
      const { res, err } = await call(rt.client, message('noisy', '{}'));
      assert.equal(err, undefined);
      assert.equal((JSON.parse(res!.Payload.toString()) as { ok: boolean }).ok, true);
      await waitFor('the prints in the log', () => (rt.stderr().includes('hello from print') && rt.stderr().includes('to stderr') ? true : undefined));
      assert.equal((await call(rt.client, message(fn, '{"id":1}'))).res!.Payload.toString(), fill(expected[kind].sayhi));
    });

    test('a call past its deadline gets DEADLINE_EXCEEDED; the next runs on a fresh worker', async () => {
      const first = JSON.parse((await call(rt.client, message('pid', '{}'))).res!.Payload.toString()) as { pid: number };
      const slow = await call(rt.client, message('sleepy', '{"sleep": 60}'), 1500);
      assert.equal(slow.err?.code, status.DEADLINE_EXCEEDED);
      await waitFor('the timed-out worker to be killed', () => (isRunning(first.pid) ? undefined : true));
      const next = await call(rt.client, message('pid', '{}'));
      assert.equal(next.err, undefined);
      const second = JSON.parse(next.res!.Payload.toString()) as { pid: number };
      assert.notEqual(second.pid, first.pid);
    });

    test('a worker crash (os._exit) fails that call and the worker is replaced', async () => {
      const { err } = await call(rt.client, message('crash', '{}'));
      assert.equal(err?.code, status.INTERNAL);
      assert.match(err!.details, /exited with code 3/);
      const { res } = await call(rt.client, message(fn, '{"id":1}'));
      assert.equal(res!.Payload.toString(), fill(expected[kind].sayhi));
    });
  });

  describe(`${kind} runtime: concurrency, start failures, shutdown`, () => {
    test('N slow calls run in parallel on N workers (each waits until all have started)', async () => {
      const dir = serviceDir({ 'etc/baetyl/service.yml': `${toolsConf()}server:\n  workers:\n    max: 3\n`, 'code/tools.py': TOOLS_PY });
      const marks = mkdtempSync(join(tmpdir(), 'baetyl-barrier-'));
      const rt = await startRuntimeProcess(kind, dir);
      try {
        const calls = [1, 2, 3].map((id) => call(rt.client, message('barrier', JSON.stringify({ dir: marks, n: 3, id }))));
        const results = await Promise.all(calls);
        for (const r of results) assert.equal(r.err, undefined, r.err?.details);
        const pids = new Set(results.map((r) => (JSON.parse(r.res!.Payload.toString()) as { pid: number }).pid));
        assert.equal(pids.size, 3);
        const files = readdirSync(marks).sort();
        assert.deepEqual(files, ['end-1', 'end-2', 'end-3', 'start-1', 'start-2', 'start-3']);
      } finally {
        await rt.stop();
        cleanup(dir);
        cleanup(marks);
      }
    });

    test('server.timeout caps a call even when the caller allows more', async () => {
      const dir = serviceDir({ 'etc/baetyl/service.yml': `${toolsConf()}server:\n  timeout: 1s\n`, 'code/tools.py': TOOLS_PY });
      const rt = await startRuntimeProcess(kind, dir);
      try {
        const slow = await call(rt.client, message('sleepy', '{"sleep": 60}'), 120000);
        assert.equal(slow.err?.code, status.DEADLINE_EXCEEDED);
        // The replacement worker starts within the same 1s cap; on a busy machine that may take a try or two.
        await waitFor('a call to succeed after the timeout', async () => ((await call(rt.client, message('sleepy', '{"sleep": 0}'))).err ? undefined : true));
      } finally {
        await rt.stop();
        cleanup(dir);
      }
    });

    const broken: Array<[string, string, RegExp]> = [
      [
        'a missing module',
        'handler: nosuch.handler',
        /function "f": cannot load handler "nosuch\.handler": module "nosuch" not found: there is no code\/nosuch\.py/,
      ],
      ['a syntax error', 'handler: bad.handler', /function "f": cannot load handler "bad\.handler" from .*code\/bad\.py:\d+: SyntaxError/],
      ['a missing attribute', 'handler: tools.nothere', /function "f": cannot load handler "tools\.nothere": .*code\/tools\.py.* has no function "nothere"/],
      ['an import-time error', 'handler: raises.handler', /function "f": cannot load handler "raises\.handler" from .*code\/raises\.py:1: ZeroDivisionError/],
      ['a handler without a module', 'handler: handler', /a python handler is "<module>\.<function>"/],
    ];
    for (const [what, line, pattern] of broken) {
      test(`${what} stops the runtime at start with a message naming the function and file`, async () => {
        const dir = serviceDir({
          'etc/baetyl/service.yml': `functions:\n  - name: f\n    ${line}\n    codedir: code\n`,
          'code/tools.py': TOOLS_PY,
          'code/bad.py': 'def handler(event, context):\n    return {\n',
          'code/raises.py': 'x = 1 / 0\n',
        });
        try {
          const { code, stderr } = await failedStart(kind, dir);
          assert.equal(code, 1);
          assert.match(stderr, pattern);
        } finally {
          cleanup(dir);
        }
      });
    }

    test('two codedirs with the same module name are refused at start instead of sharing one module', async () => {
      const dir = serviceDir({
        'etc/baetyl/service.yml':
          'functions:\n  - name: a\n    handler: index.handler\n    codedir: fa\n  - name: b\n    handler: index.handler\n    codedir: fb\n',
        'fa/index.py': 'def handler(e, c):\n    return "a"\n',
        'fb/index.py': 'def handler(e, c):\n    return "b"\n',
      });
      try {
        const { code, stderr } = await failedStart(kind, dir);
        assert.equal(code, 1);
        assert.match(stderr, /function "b": cannot load handler "index\.handler": module "index" is already loaded from codedir "fa" for function "a"/);
      } finally {
        cleanup(dir);
      }
    });

    test('a missing interpreter stops the start (the launcher says so), naming it and how to configure it', () => {
      const empty = mkdtempSync(join(tmpdir(), 'baetyl-nopython-'));
      const dir = serviceDir({ 'etc/baetyl/service.yml': SAYHI_PY_CONF, 'var/db/baetyl/function-sayhi/index.py': SAYHI_PY });
      try {
        const env = {
          PATH: empty,
          PYENV_ROOT: empty,
          HOME: empty,
          BAETYL_PYTHON: '',
          BAETYL_PYTHON27: '',
          BAETYL_PYTHON36: '',
          BAETYL_SERVICE_INSTANCE_ADDRESS: '127.0.0.1:1',
        };
        const want = kind === 'python27' ? 'Python 2.7 (python2.7)' : 'Python 3.6 (python3.6)';
        assert.throws(
          () => launchOf(kind, dir, env),
          (err: Error) =>
            err.message.includes(`the ${kind} runtime needs ${want}`) &&
            err.message.includes('runtime: {python:') &&
            err.message.includes(kind === 'python27' ? 'BAETYL_PYTHON27' : 'BAETYL_PYTHON36'),
        );
      } finally {
        cleanup(dir);
        cleanup(empty);
      }
    });

    test('runtime.python picks the interpreter; a wrong one is named in the error', async () => {
      const real = findPython({ runtime: kind, configFile: 'x' });
      const dir = serviceDir({
        'etc/baetyl/service.yml': `${toolsConf()}runtime:\n  python: ${real.path}\n`,
        'code/tools.py': TOOLS_PY,
      });
      const rt = await startRuntimeProcess(kind, dir);
      try {
        assert.ok(rt.stderr().includes(`at ${real.path} (runtime.python in`), rt.stderr());
      } finally {
        await rt.stop();
        cleanup(dir);
      }
      const bad = serviceDir({ 'etc/baetyl/service.yml': `${toolsConf()}runtime:\n  python: /no/such/python\n`, 'code/tools.py': TOOLS_PY });
      try {
        assert.throws(
          () => launchOf(kind, bad, { ...process.env, BAETYL_SERVICE_INSTANCE_ADDRESS: '127.0.0.1:1' }),
          (err: Error) => err.message.includes('cannot run the Python interpreter "/no/such/python"'),
        );
      } finally {
        cleanup(bad);
      }
    });

    // python36 only: it is the runtime whose Python 3.x versions differ in what users see (repr).
    if (kind === 'python36')
      test('another interpreter version works, with a warning, and errors show its repr', async () => {
        // pyenv's newest 3.x, else the system's python3 (3.11 on these machines).
        const other = findNewerPython() ?? 'python3';
        const dir = serviceDir({ 'etc/baetyl/service.yml': `${toolsConf()}runtime:\n  python: ${other}\n`, 'code/tools.py': TOOLS_PY });
        const rt = await startRuntimeProcess(kind, dir);
        try {
          assert.match(rt.stderr(), /level=warn msg="the python36 runtime uses Python 3\.\d+\.\d+ from runtime\.python/);
          const { err } = await call(rt.client, message('boom', '{}'));
          assert.equal(err?.details, "Exception calling application: ('[UserCodeInvoke] ', TypeError('boom'))");
        } finally {
          await rt.stop();
          cleanup(dir);
        }
      });

    test('SIGKILL on the host leaves no worker behind, even one busy in a call', async () => {
      const dir = serviceDir({ 'etc/baetyl/service.yml': `${toolsConf()}server:\n  workers:\n    max: 2\n`, 'code/tools.py': TOOLS_PY });
      const rt = await startRuntimeProcess(kind, dir);
      try {
        void call(rt.client, message('sleepy', '{"sleep": 120}'), 300000);
        void call(rt.client, message('sleepy', '{"sleep": 120}'), 300000);
        const workers = await waitFor('two workers', () => {
          const kids = childrenOf(rt.child.pid!);
          return kids.length >= 2 ? kids : undefined;
        });
        // Let both calls reach their handlers.
        await new Promise((r) => setTimeout(r, 500));
        rt.child.kill('SIGKILL');
        await rt.exited;
        await waitFor('the workers to exit', () => (workers.every((p) => !isRunning(p)) ? true : undefined), 30000);
      } finally {
        rt.client.close();
        cleanup(dir);
      }
    });

    test('SIGTERM stops the workers and exits 0', async () => {
      const dir = serviceDir({ 'etc/baetyl/service.yml': toolsConf(), 'code/tools.py': TOOLS_PY });
      const rt = await startRuntimeProcess(kind, dir);
      const workers = await waitFor('a worker', () => {
        const kids = childrenOf(rt.child.pid!);
        return kids.length ? kids : undefined;
      });
      try {
        assert.equal(await rt.stop(), 0);
        await waitFor('the workers to exit', () => (workers.every((p) => !isRunning(p)) ? true : undefined), 30000);
      } finally {
        cleanup(dir);
      }
    });
  });
}
