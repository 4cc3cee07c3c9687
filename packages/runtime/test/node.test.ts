// The node85 runtime as a real process, called over real gRPC.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { status } from '@grpc/grpc-js';
import { SAYHI_JS, SAYJS_CONF } from './fixtures.js';
import { waitFor } from '@baetyl/test-support';
import { call, childrenOf, cleanup, failedStart, isRunning, message, serviceDir, startRuntimeProcess, type RuntimeProc } from './helpers.js';

const UUID = '4b1c6a2e-1f5e-4d0b-9a53-2f1f3c0d8e7a';
const TS = 1700000000;

// Workers are threads of the instance process: a handler names its worker by its thread id.
const TOOLS_JS = `const fs = require('fs');
const path = require('path');
const { threadId } = require('worker_threads');
exports.pid = (event, context, callback) => callback(null, { pid: threadId });
exports.boom = (event, context, callback) => callback(new TypeError('boom'));
exports.syncThrow = (event, context, callback) => { throw new TypeError('sync boom'); };
exports.noisy = (event, context, callback) => {
  console.log('hello from console.log');
  process.stdout.write('\\u0000\\u0000\\u0000\\u0005garbage on stdout\\n');
  console.error('to stderr');
  callback(null, { pid: threadId, ok: true });
};
exports.sleepy = (event, context, callback) => setTimeout(() => callback(null, { pid: threadId }), event.sleep * 1000);
exports.busy = () => { for (;;) {} };
exports.spin = (event) => { fs.writeFileSync(event.marker, ''); for (;;) {} };
exports.hold = (event, context, callback) => {
  fs.writeFileSync(event.marker, '');
  const poll = () => (fs.existsSync(event.release) ? callback(null, { held: true }) : setTimeout(poll, 20));
  poll();
};
exports.crash = () => process.exit(3);
exports.none = (event, context, callback) => callback(null, undefined);
exports.zero = (event, context, callback) => callback(null, 0);
exports.raw = (event, context, callback) => callback(null, Buffer.from('raw-bytes'));
exports.text = (event, context, callback) => callback(null, 'text');
exports.circular = (event, context, callback) => { const a = {}; a.self = a; callback(null, a); };
exports.echo = (event, context, callback) => callback(null, { event: Buffer.isBuffer(event) ? 'buffer:' + event.toString() : event, context });
exports.promise = async (event) => ({ doubled: event.n * 2 });
exports.rejects = async () => { throw new RangeError('nope'); };
exports.syncReturn = (event, context) => ({ sync: true });
exports.asyncWithCallback = async (event, context, callback) => { setTimeout(() => callback(null, { late: true }), 50); };
exports.twice = (event, context, callback) => { callback(null, { first: true }); callback(null, { second: true }); };
exports.uncaught = (event, context, callback) => { setTimeout(() => { throw new Error('async kaboom'); }, 10); };
exports.barrier = (event, context, callback) => {
  fs.writeFileSync(path.join(event.dir, 'start-' + event.id), '');
  const until = Date.now() + 60000;
  const poll = () => {
    const started = fs.readdirSync(event.dir).filter((f) => f.startsWith('start-')).length;
    if (started >= event.n) {
      fs.writeFileSync(path.join(event.dir, 'end-' + event.id), '');
      return callback(null, { pid: threadId });
    }
    if (Date.now() > until) return callback(new Error('the other calls never started'));
    setTimeout(poll, 20);
  };
  poll();
};
`;

const TOOL_FUNCTIONS = [
  'pid',
  'boom',
  'syncThrow',
  'noisy',
  'sleepy',
  'busy',
  'crash',
  'none',
  'zero',
  'raw',
  'text',
  'circular',
  'echo',
  'promise',
  'rejects',
  'syncReturn',
  'asyncWithCallback',
  'twice',
  'uncaught',
  'barrier',
  'hold',
  'spin',
];

function toolsConf(extra = ''): string {
  const fns = TOOL_FUNCTIONS.map((f) => `  - name: ${f}\n    handler: tools.${f}\n    codedir: code\n`).join('');
  return `functions:\n${fns}${extra}`;
}

const SAYHI = `{"id":1,"messageQOS":0,"messageTopic":"t","messageTimestamp":${TS},"functionName":"node85-sayhi","functionInvokeID":"${UUID}","Say":"Hello Baetyl"}`;

const pidOf = (r: { res?: { Payload: Buffer } }) => (JSON.parse(r.res!.Payload.toString()) as { pid: number }).pid;

describe('node85 runtime (real process)', () => {
  let dir: string;
  let rt: RuntimeProc;

  before(async () => {
    dir = serviceDir({
      'etc/baetyl/service.yml': `${SAYJS_CONF}${toolsConf().replace('functions:\n', '')}  - name: esm\n    handler: index.handler\n    codedir: esmcode\n  - name: cjs-in-esm\n    handler: index.handler\n    codedir: cjscode\nserver:\n  workers:\n    max: 1\n`,
      'var/db/baetyl/function-sayhi/index.js': SAYHI_JS,
      'code/tools.js': TOOLS_JS,
      'esmcode/package.json': '{"type":"module"}',
      'esmcode/index.js': 'export const handler = async (event) => ({ esm: true, event });\n',
      // A v1 handler (CommonJS) below a package.json that says "module", as in a repository checkout.
      'cjscode/package.json': '{"type":"module"}',
      'cjscode/index.js': 'exports.handler = (event, context, callback) => callback(null, { cjs: true, id: event.id });\n',
    });
    rt = await startRuntimeProcess('node85', dir);
  });
  after(async () => {
    await rt.stop();
    cleanup(dir);
  });

  test('the tutorial message {"id":1} gives the v1 payload byte for byte', async () => {
    const { res, err } = await call(rt.client, message('node85-sayhi', '{"id":1}'));
    assert.equal(err, undefined);
    assert.equal(res!.Payload.toString(), SAYHI);
    assert.equal(res!.FunctionInvokeID, UUID);
    assert.equal(res!.Timestamp, TS);
  });

  test('a CommonJS handler loads even below a package.json with "type": "module"', async () => {
    const { res, err } = await call(rt.client, message('cjs-in-esm', '{"id":3}'));
    assert.equal(err, undefined);
    assert.equal(res!.Payload.toString(), '{"cjs":true,"id":3}');
  });

  test('{"err":"x"} fails with UNKNOWN and v1\'s details text', async () => {
    const { err } = await call(rt.client, message('node85-sayhi', '{"err":"x"}'));
    assert.equal(err?.code, status.UNKNOWN);
    assert.equal(err?.details, "Exception calling application: ('[UserCodeInvoke]', TypeError: x)");
  });

  test('a non-JSON payload reaches the handler as a Buffer', async () => {
    const { res } = await call(rt.client, message('node85-sayhi', 'hi'));
    assert.equal(
      res!.Payload.toString(),
      `{"bytes":"hi","messageQOS":0,"messageTopic":"t","messageTimestamp":${TS},"functionName":"node85-sayhi","functionInvokeID":"${UUID}","Say":"Hello Baetyl"}`,
    );
  });

  test("an empty payload is {}, and the context has v1's keys", async () => {
    const { res } = await call(rt.client, message('echo', '', { QOS: 1 }));
    assert.equal(
      res!.Payload.toString(),
      `{"event":{},"context":{"messageQOS":1,"messageTopic":"t","functionName":"echo","messageTimestamp":${TS},"functionInvokeID":"${UUID}","invokeid":"${UUID}"}}`,
    );
  });

  test('undefined and 0 publish nothing; a Buffer is raw; a string is JSON', async () => {
    assert.equal((await call(rt.client, message('none', '{}'))).res!.Payload.length, 0);
    assert.equal((await call(rt.client, message('zero', '{}'))).res!.Payload.length, 0);
    assert.equal((await call(rt.client, message('raw', '{}'))).res!.Payload.toString(), 'raw-bytes');
    assert.equal((await call(rt.client, message('text', '{}'))).res!.Payload.toString(), '"text"');
  });

  test('an unserialisable result is a [UserCodeReturn] error', async () => {
    const { err } = await call(rt.client, message('circular', '{}'));
    assert.equal(err?.code, status.UNKNOWN);
    assert.match(err!.details, /^Exception calling application: \('\[UserCodeReturn\]', TypeError: Converting circular structure to JSON/);
  });

  test('an unknown function is "function not found"', async () => {
    const { err } = await call(rt.client, message('nope', '{}'));
    assert.equal(err?.details, 'Exception calling application: function not found');
  });

  test('promises and plain return values are results too', async () => {
    assert.equal((await call(rt.client, message('promise', '{"n":21}'))).res!.Payload.toString(), '{"doubled":42}');
    assert.equal((await call(rt.client, message('syncReturn', '{}'))).res!.Payload.toString(), '{"sync":true}');
    assert.equal((await call(rt.client, message('asyncWithCallback', '{}'))).res!.Payload.toString(), '{"late":true}');
    assert.equal((await call(rt.client, message('twice', '{}'))).res!.Payload.toString(), '{"first":true}');
    const rejected = await call(rt.client, message('rejects', '{}'));
    assert.equal(rejected.err?.details, "Exception calling application: ('[UserCodeInvoke]', RangeError: nope)");
    assert.equal((await call(rt.client, message('esm', '{"a":1}'))).res!.Payload.toString(), '{"esm":true,"event":{"a":1}}');
  });

  test('a user error (callback or synchronous throw) keeps the instance and the same worker', async () => {
    const first = pidOf(await call(rt.client, message('pid', '{}')));
    assert.equal((await call(rt.client, message('boom', '{}'))).err?.details, "Exception calling application: ('[UserCodeInvoke]', TypeError: boom)");
    assert.equal((await call(rt.client, message('syncThrow', '{}'))).err?.details, "Exception calling application: ('[UserCodeInvoke]', TypeError: sync boom)");
    assert.equal(pidOf(await call(rt.client, message('pid', '{}'))), first);
  });

  test('console output goes to the log and does not corrupt the protocol', async () => {
    const { res, err } = await call(rt.client, message('noisy', '{}'));
    assert.equal(err, undefined);
    assert.equal((JSON.parse(res!.Payload.toString()) as { ok: boolean }).ok, true);
    await waitFor('the prints in the log', () => (rt.stderr().includes('hello from console.log') && rt.stderr().includes('to stderr') ? true : undefined));
    assert.equal((await call(rt.client, message('node85-sayhi', '{"id":1}'))).res!.Payload.toString(), SAYHI);
  });

  test('a call past its deadline gets DEADLINE_EXCEEDED; the next runs on a fresh worker', async () => {
    const first = pidOf(await call(rt.client, message('pid', '{}')));
    const slow = await call(rt.client, message('busy', '{}'), 1500);
    assert.equal(slow.err?.code, status.DEADLINE_EXCEEDED);
    // The busy thread was terminated: a new thread (a new thread id) serves, in the same process.
    const next = await call(rt.client, message('pid', '{}'));
    assert.notEqual(pidOf(next), first);
    assert.equal(rt.child.exitCode, null);
    assert.deepEqual(childrenOf(rt.child.pid!), []);
  });

  test('a worker crash (process.exit) fails that call and the worker is replaced', async () => {
    const { err } = await call(rt.client, message('crash', '{}'));
    assert.equal(err?.code, status.INTERNAL);
    assert.match(err!.details, /exited with code 3/);
    assert.equal((await call(rt.client, message('node85-sayhi', '{"id":1}'))).res!.Payload.toString(), SAYHI);
  });

  test("an uncaught asynchronous error fails the running call as the user's error; the next call works", async () => {
    const { err } = await call(rt.client, message('uncaught', '{}'));
    assert.equal(err?.details, "Exception calling application: ('[UserCodeInvoke]', Error: async kaboom)");
    assert.equal((await call(rt.client, message('node85-sayhi', '{"id":1}'))).res!.Payload.toString(), SAYHI);
  });
});

describe('node85 runtime: concurrency, start failures, shutdown', () => {
  test('N slow calls run in parallel on N workers (each waits until all have started)', async () => {
    const dir = serviceDir({ 'etc/baetyl/service.yml': `${toolsConf()}server:\n  workers:\n    max: 3\n`, 'code/tools.js': TOOLS_JS });
    const marks = mkdtempSync(join(tmpdir(), 'baetyl-barrier-'));
    const rt = await startRuntimeProcess('node85', dir);
    try {
      const results = await Promise.all([1, 2, 3].map((id) => call(rt.client, message('barrier', JSON.stringify({ dir: marks, n: 3, id })))));
      for (const r of results) assert.equal(r.err, undefined, r.err?.details);
      assert.equal(new Set(results.map(pidOf)).size, 3);
      assert.deepEqual(readdirSync(marks).sort(), ['end-1', 'end-2', 'end-3', 'start-1', 'start-2', 'start-3']);
    } finally {
      await rt.stop();
      cleanup(dir);
      cleanup(marks);
    }
  });

  test('server.concurrent.max refuses calls beyond it with RESOURCE_EXHAUSTED', async () => {
    const dir = serviceDir({
      'etc/baetyl/service.yml': `${toolsConf()}server:\n  workers:\n    max: 1\n  concurrent:\n    max: 1\n`,
      'code/tools.js': TOOLS_JS,
    });
    const rt = await startRuntimeProcess('node85', dir);
    try {
      const marker = join(dir, 'held');
      const release = join(dir, 'release');
      const slow = call(rt.client, message('hold', JSON.stringify({ marker, release })));
      // The first call is running once its handler wrote the marker.
      await waitFor('the first call to run', () => (existsSync(marker) ? true : undefined));
      const refused = await call(rt.client, message('pid', '{}'));
      assert.equal(refused.err?.code, status.RESOURCE_EXHAUSTED);
      writeFileSync(release, '');
      assert.equal((await slow).err, undefined);
    } finally {
      await rt.stop();
      cleanup(dir);
    }
  });

  const broken: Array<[string, string, RegExp]> = [
    [
      'a missing module',
      'handler: nosuch.handler',
      /function "f": cannot load handler "nosuch\.handler": module "nosuch" not found: there is no code\/nosuch\.js/,
    ],
    ['a syntax error', 'handler: bad.handler', /function "f": cannot load handler "bad\.handler" from .*code\/bad\.js:\d+: SyntaxError/],
    ['a missing export', 'handler: tools.nothere', /function "f": cannot load handler "tools\.nothere": .*code\/tools\.js exports no "nothere"/],
    [
      'an export that is not a function',
      'handler: notfn.handler',
      /function "f": cannot load handler "notfn\.handler": "handler" in .*code\/notfn\.js is not a function/,
    ],
    ['a load-time error', 'handler: raises.handler', /function "f": cannot load handler "raises\.handler" from .*code\/raises\.js:1: Error: broken at load/],
  ];
  for (const [what, line, pattern] of broken) {
    test(`${what} stops the runtime at start with a message naming the function and file`, async () => {
      const dir = serviceDir({
        'etc/baetyl/service.yml': `functions:\n  - name: f\n    ${line}\n    codedir: code\n`,
        'code/tools.js': TOOLS_JS,
        'code/bad.js': 'exports.handler = (e, c, cb) => {\n  cb(null, {\n};\n',
        'code/notfn.js': 'exports.handler = 42;\n',
        'code/raises.js': "throw new Error('broken at load');\n",
      });
      try {
        const { code, stderr } = await failedStart('node85', dir);
        assert.equal(code, 1);
        assert.match(stderr, pattern);
      } finally {
        cleanup(dir);
      }
    });
  }

  // Workers are threads: the instance is one process, so nothing can outlive it.
  test('SIGKILL on the host leaves no worker behind, even one stuck in a synchronous loop', async () => {
    const dir = serviceDir({ 'etc/baetyl/service.yml': `${toolsConf()}server:\n  workers:\n    max: 2\n`, 'code/tools.js': TOOLS_JS });
    const rt = await startRuntimeProcess('node85', dir);
    try {
      const marker = join(dir, 'held');
      void call(rt.client, message('hold', JSON.stringify({ marker, release: join(dir, 'never') })), 300000);
      await waitFor('the first call to run', () => (existsSync(marker) ? true : undefined));
      const spinning = join(dir, 'spinning');
      void call(rt.client, message('spin', JSON.stringify({ marker: spinning })), 300000);
      await waitFor('the second call to run, on a second worker', () => (existsSync(spinning) ? true : undefined));
      assert.deepEqual(childrenOf(rt.child.pid!), [], 'the workers are threads, not processes');
      rt.child.kill('SIGKILL');
      await rt.exited;
      assert.equal(isRunning(rt.child.pid!), false);
    } finally {
      rt.client.close();
      cleanup(dir);
    }
  });

  test('SIGTERM stops the workers and exits 0', async () => {
    const dir = serviceDir({ 'etc/baetyl/service.yml': toolsConf(), 'code/tools.js': TOOLS_JS });
    const rt = await startRuntimeProcess('node85', dir);
    try {
      assert.equal((await call(rt.client, message('pid', '{}'))).err, undefined);
      assert.deepEqual(childrenOf(rt.child.pid!), [], 'the workers are threads, not processes');
      assert.equal(await rt.stop(), 0);
    } finally {
      cleanup(dir);
    }
  });
});
