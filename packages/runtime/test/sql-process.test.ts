// The sql runtime as a real process, called over real gRPC.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import type { FunctionMessage } from '@baetyl/core/function';
import { FILTER_CONF } from './fixtures.js';
import { call, cleanup, failedStart, launchOf, message, serviceDir, startRuntimeProcess, StreamCaller, type RuntimeProc } from './helpers.js';

describe('sql runtime (real process)', () => {
  let dir: string;
  let rt: RuntimeProc;

  before(async () => {
    dir = serviceDir({ 'etc/baetyl/service.yml': FILTER_CONF });
    rt = await startRuntimeProcess('sql', dir);
  });
  after(async () => {
    assert.equal(await rt.stop(), 0);
    cleanup(dir);
  });

  test('the tutorial: {"id":1} on t at QoS 0 gives {"id":1,"qos":0,"topic":"t"}', async () => {
    const { res, err } = await call(rt.client, message('sql-filter', '{"id":1}'));
    assert.equal(err, undefined);
    assert.equal(res!.Payload.toString(), '{"id":1,"qos":0,"topic":"t"}');
    assert.equal(res!.FunctionName, 'sql-filter');
  });

  test('on the call stream, each answer says how long the query ran (StreamResult.us, at least 1)', async () => {
    const caller = new StreamCaller(rt.client);
    try {
      const out = await caller.call(message('sql-filter', '{"id":2}') as FunctionMessage, 30_000);
      assert.equal(out.Payload.toString(), '{"id":2,"qos":0,"topic":"t"}');
      assert.equal(caller.times.length, 1);
      assert.ok(caller.times[0]! >= 1, `us: ${caller.times[0]}`);
    } finally {
      caller.close();
    }
  });

  test('QoS 1 input shows as qos 1', async () => {
    const { res } = await call(rt.client, message('sql-filter', '{"id":1}', { QOS: 1, ID: 5 }));
    assert.equal(res!.Payload.toString(), '{"id":1,"qos":1,"topic":"t"}');
    assert.equal(res!.ID, 5);
  });

  test('WHERE false gives an empty payload', async () => {
    assert.equal((await call(rt.client, message('sql-filter', '{"id":10}'))).res!.Payload.length, 0);
    assert.equal((await call(rt.client, message('sql-filter', '{"err":"x"}'))).res!.Payload.length, 0);
  });

  test('a non-JSON payload is an error', async () => {
    const { err } = await call(rt.client, message('sql-filter', 'hi'));
    assert.equal(err?.code, status.UNKNOWN);
    assert.match(err!.details, /sql function "sql-filter": the payload is not JSON/);
  });

  test('an unknown function is "function not found"', async () => {
    const { err } = await call(rt.client, message('nope', '{}'));
    assert.equal(err?.details, 'Exception calling application: function not found');
  });
});

test('a SQL syntax error stops the sql runtime at start, with the function and the position', async () => {
  const dir = serviceDir({ 'etc/baetyl/service.yml': "functions:\n  - name: broken\n    handler: 'select qos() as qos, * where'\n" });
  try {
    const { code, stderr } = await failedStart('sql', dir);
    assert.equal(code, 1);
    assert.match(stderr, /function "broken": SQL syntax error at line 1, column 29: expected an expression, found the end of the SQL/);
  } finally {
    cleanup(dir);
  }
});

test('a bad config stops the runtime with the file, line and field', async () => {
  const dir = serviceDir({ 'etc/baetyl/service.yml': 'functions:\n  - name: f\n    handler: x\n    codedir: [code]\n' });
  try {
    const { code, stderr } = await failedStart('sql', dir);
    assert.equal(code, 1);
    assert.match(stderr, /etc\/baetyl\/service\.yml:4:14: functions\[0\]\.codedir: expected string, got a list/);
    const noCodedir = serviceDir({ 'etc/baetyl/service.yml': 'functions:\n  - name: f\n    handler: index.handler\n' });
    // python36's config is checked by its launcher (the master), before any process starts.
    assert.throws(
      () => launchOf('python36', noCodedir, { ...process.env, BAETYL_SERVICE_INSTANCE_ADDRESS: '127.0.0.1:1' }),
      /functions\[0\]\.codedir: is required by the python36 runtime/,
    );
    cleanup(noCodedir);
    const noAddress = await failedStart('sql', dir, { env: { BAETYL_SERVICE_INSTANCE_ADDRESS: '' } });
    assert.equal(noAddress.code, 1);
  } finally {
    cleanup(dir);
  }
});

test('without an instance address, server.address from the config is used', async () => {
  const { freePort } = await import('@baetyl/test-support');
  const port = await freePort();
  const dir = serviceDir({ 'etc/baetyl/service.yml': `${FILTER_CONF}server:\n  address: 127.0.0.1:${port}\n` });
  const rt = await startRuntimeProcess('sql', dir, { env: { BAETYL_SERVICE_INSTANCE_ADDRESS: '' } });
  try {
    assert.ok(rt.stderr().includes(`on 127.0.0.1:${port}`), rt.stderr());
  } finally {
    await rt.stop();
    cleanup(dir);
  }
});

test('an unknown key does not stop the runtime: it serves, and its log names the file, line, key and the closest known key', async () => {
  const dir = serviceDir({ 'etc/baetyl/service.yml': `${FILTER_CONF}    handlr: oops\n` });
  const rt = await startRuntimeProcess('sql', dir);
  try {
    assert.match(
      rt.stderr(),
      /level=warn .*etc\/baetyl\/service\.yml:4:5: functions\[0\]\.handlr: unknown key \\?"handlr\\?" is ignored, as Baetyl v1 ignored it; did you mean \\?"handler\\?"\?/,
    );
    const { res } = await call(rt.client, message('sql-filter', '{"id":1}'));
    assert.equal(res!.Payload.toString(), '{"id":1,"qos":0,"topic":"t"}');
  } finally {
    assert.equal(await rt.stop(), 0);
    cleanup(dir);
  }
});
