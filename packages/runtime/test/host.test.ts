// Addresses, interpreter discovery and the worker pool, as units.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bindAddress } from '../src/host/server.js';
import { findPython, InterpreterError } from '../src/python/interpreter.js';
import { cleanup } from './helpers.js';

test('addresses in Baetyl form bind as the server expects', () => {
  assert.equal(bindAddress('tcp://0.0.0.0:50051'), '0.0.0.0:50051');
  assert.equal(bindAddress('127.0.0.1:1'), '127.0.0.1:1');
  assert.equal(bindAddress('unix:///tmp/f.sock'), 'unix:/tmp/f.sock');
});

function pyenvVersion(prefix: string): string | undefined {
  const root = join(process.env.PYENV_ROOT ?? join(process.env.HOME ?? '/root', '.pyenv'), 'versions');
  const v = readdirSync(root).find((n) => n.startsWith(prefix));
  return v ? join(root, v) : undefined;
}

test('python36 falls back to python3 on PATH with a warning when no 3.6 exists', () => {
  const py3 = pyenvVersion('3.1');
  assert.ok(py3, 'a pyenv python 3.1x is needed for this test');
  const bin = mkdtempSync(join(tmpdir(), 'baetyl-bin-'));
  try {
    const name = readdirSync(join(py3, 'bin')).find((n) => /^python3\.\d+$/.test(n))!;
    symlinkSync(join(py3, 'bin', name), join(bin, 'python3'));
    const warnings: string[] = [];
    const found = findPython({ runtime: 'python36', configFile: 'svc.yml', env: { PATH: bin, PYENV_ROOT: bin, HOME: bin }, warn: (m) => warnings.push(m) });
    assert.equal(found.path, join(bin, 'python3'));
    assert.match(found.version, /^3\.1\d\./);
    assert.equal(warnings.length, 1);
    assert.match(warnings[0]!, /found no Python 3\.6/);
    assert.throws(
      () => findPython({ runtime: 'python27', configFile: 'svc.yml', env: { PATH: bin, PYENV_ROOT: bin, HOME: bin } }),
      (err: unknown) => err instanceof InterpreterError && /needs Python 2\.7 \(python2\.7\)/.test(err.message) && /runtime: \{python:/.test(err.message),
    );
  } finally {
    cleanup(bin);
  }
});

test('python27 is found on PATH and in pyenv; BAETYL_PYTHON27 overrides', () => {
  const py27 = pyenvVersion('2.7.');
  assert.ok(py27, 'pyenv 2.7 is needed for this test');
  const bin = mkdtempSync(join(tmpdir(), 'baetyl-bin-'));
  try {
    symlinkSync(join(py27, 'bin', 'python2.7'), join(bin, 'python2.7'));
    const onPath = findPython({ runtime: 'python27', configFile: 'svc.yml', env: { PATH: bin, PYENV_ROOT: bin, HOME: bin } });
    assert.equal(onPath.path, join(bin, 'python2.7'));
    assert.equal(onPath.source, 'PATH');
    const viaPyenv = findPython({ runtime: 'python27', configFile: 'svc.yml', env: { PATH: '/nonexistent', PYENV_ROOT: join(py27, '..', '..') } });
    assert.equal(viaPyenv.source, 'pyenv');
    assert.match(viaPyenv.version, /^2\.7\./);
    const viaEnv = findPython({ runtime: 'python27', configFile: 'svc.yml', env: { PATH: '/nonexistent', BAETYL_PYTHON27: join(bin, 'python2.7') } });
    assert.equal(viaEnv.source, 'the BAETYL_PYTHON27 environment variable');
  } finally {
    cleanup(bin);
  }
});

test('the pool grows on demand up to max and stops spare workers after runtime.idle', async () => {
  const { createLogger } = await import('@baetyl/core');
  const { WorkerPool } = await import('../src/host/pool.js');
  const { nodeLaunch } = await import('../src/node/launch.js');
  const { serviceDir } = await import('./helpers.js');
  const { waitFor } = await import('@baetyl/test-support');
  // Each call waits until three have started, so three workers must exist at once.
  const dir = serviceDir({
    // node85 workers are threads of one process: the thread id names the worker.
    'code/index.js': `const fs = require('fs');
const { threadId } = require('worker_threads');
let n = 0;
exports.slow = (e, c, cb) => {
  fs.writeFileSync(__dirname + '/started-' + threadId + '-' + n++, '');
  const poll = () => fs.readdirSync(__dirname).filter((f) => f.startsWith('started-')).length >= 3 ? cb(null, { pid: threadId }) : setTimeout(poll, 20);
  poll();
};
`,
  });
  const pool = new WorkerPool({
    runtime: 'node85',
    functions: [{ name: 'slow', handler: 'index.slow', codedir: 'code' }],
    launch: () => nodeLaunch(dir),
    max: 3,
    idleMs: 200,
    notFoundDetails: 'function not found',
    logger: createLogger({ level: 'error' }, {}, { stderr: false }),
  });
  try {
    await pool.start();
    assert.equal(pool.size, 1);
    const msg = { ID: 0, QOS: 0, Topic: 't', Payload: Buffer.from('{}'), Timestamp: 0, FunctionName: 'slow', FunctionInvokeID: 'x' };
    const results = await Promise.all(Array.from({ length: 3 }, () => pool.call(msg, Date.now() + 60000)));
    for (const r of results) assert.equal(r.ok, true);
    const pids = new Set(results.map((r) => (r.ok ? (JSON.parse(r.payload.toString()) as { pid: number }).pid : 0)));
    assert.equal(pids.size, 3);
    await waitFor('spare workers to stop', () => (pool.size === 1 ? true : undefined));
    const unknown = await pool.call({ ...msg, FunctionName: 'nope' }, Infinity);
    assert.deepEqual(unknown.ok ? undefined : unknown.details, 'function not found');
  } finally {
    await pool.close();
    cleanup(dir);
  }
});
