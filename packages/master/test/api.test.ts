import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { MasterClient, type Inspect } from '@baetyl/core';
import { alive, clientAs, instanceEnv, makeWorkdir, startMaster, starts } from './helpers.js';
import { waitFor } from '@baetyl/test-support';

function raw(socket: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ socketPath: socket, method, path, headers }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

test('a dynamic instance is started and stopped through the API with its env', async () => {
  const wd = makeWorkdir([
    { name: 'manager', replica: 1 },
    { name: 'runtime', replica: 0 },
  ]);
  const m = await startMaster(wd);
  const api = await clientAs(wd, 'manager');
  try {
    await api.startInstance('runtime', 'runtime.fn.1', { BAETYL_SERVICE_INSTANCE_ADDRESS: '127.0.0.1:5555', EXTRA: 'yes' });
    await waitFor('the dynamic instance to run', () => existsSync(join(wd.out, 'runtime.fn.1.env.json')));
    const { env, pid } = await instanceEnv(wd, 'runtime.fn.1');
    assert.equal(env.BAETYL_SERVICE_INSTANCE_ADDRESS, '127.0.0.1:5555');
    assert.equal(env.EXTRA, 'yes');
    assert.equal(env.BAETYL_SERVICE_NAME, 'runtime');
    assert.equal(env.BAETYL_SERVICE_INSTANCE_NAME, 'runtime.fn.1');
    assert.equal(env.BAETYL_SERVICE_TOKEN, undefined, 'dynamic instances get no token');
    assert.equal(env.OPENEDGE_SERVICE_TOKEN, undefined);

    const inspect = (await api.inspect()) as Inspect;
    const runtime = inspect.services.find((s) => s.name === 'runtime')!;
    assert.equal(runtime.instances.length, 1);
    assert.equal(runtime.instances[0]!.name, 'runtime.fn.1');
    assert.equal(runtime.instances[0]!.status, 'running');
    assert.equal(runtime.instances[0]!.process!.id, pid);
    assert.ok((runtime.instances[0]!.mem_stats as { used: number }).used > 0, 'memory use is reported');

    await api.reportInstance('runtime', 'runtime.fn.1', { calls: 3 });
    const after = (await api.inspect()) as Inspect;
    assert.equal(after.services.find((s) => s.name === 'runtime')!.instances[0]!.calls, 3);

    await api.stopInstance('runtime', 'runtime.fn.1');
    assert.ok(!alive(pid), 'stopped');
    const gone = (await api.inspect()) as Inspect;
    assert.equal(gone.services.find((s) => s.name === 'runtime')!.instances.length, 0);
    // Stopping an unknown instance is a no-op; an unknown service is a 400 naming it.
    await api.stopInstance('runtime', 'nope');
    await assert.rejects(api.startInstance('ghost', 'ghost.1', {}), /400 service \(ghost\) not found/);
    assert.match(m.log(), /msg="\[PUT\] \/v1\/services\/runtime\/instances\/runtime\.fn\.1\/start" api=server/);
  } finally {
    api.close();
    await m.stop();
  }
  assert.equal(starts(wd).filter((s) => s.service === 'runtime').length, 1);
});

test('the API refuses requests without the right token with 401', async () => {
  const wd = makeWorkdir([{ name: 'manager' }, { name: 'runtime', replica: 0 }]);
  const m = await startMaster(wd);
  const socket = join(wd.dir, 'var/run/baetyl.sock');
  try {
    const none = await raw(socket, 'GET', '/v1/system/inspect');
    assert.equal(none.status, 401);
    assert.equal(none.body, 'account unauthorized');
    const wrong = await raw(socket, 'GET', '/v1/system/inspect', { 'x-openedge-username': 'manager', 'x-openedge-password': 'guess' });
    assert.equal(wrong.status, 401);
    const token = (await instanceEnv(wd, 'manager')).env.BAETYL_SERVICE_TOKEN!;
    const ok = await raw(socket, 'GET', '/system/inspect', { 'x-openedge-username': 'manager', 'x-openedge-password': token });
    assert.equal(ok.status, 200, 'the legacy path without /v1 works too');
    const other = await raw(socket, 'GET', '/v1/system/inspect', { 'x-openedge-username': 'runtime', 'x-openedge-password': token });
    assert.equal(other.status, 401, 'a token is only good for its own service');
    const cliOnly = await raw(socket, 'PUT', '/v1/system/stop', { 'x-openedge-username': 'manager', 'x-openedge-password': token });
    assert.equal(cliOnly.status, 401, 'services cannot stop the master');
    const noBody = await raw(socket, 'PUT', '/v1/services/runtime/instances/r1/start', { 'x-openedge-username': 'manager', 'x-openedge-password': token });
    assert.equal(noBody.status, 400);
    assert.match(noBody.body, /JSON object/);
  } finally {
    await m.stop();
  }
});

test('ports/available gives a free port as a string', async () => {
  const wd = makeWorkdir([{ name: 'manager' }]);
  const m = await startMaster(wd);
  const api = await clientAs(wd, 'manager');
  try {
    const res = await api.request<{ port: string }>('GET', '/ports/available');
    assert.equal(typeof res.port, 'string');
    const port = Number(res.port);
    assert.ok(port > 0 && port < 65536);
    await new Promise<void>((resolve, reject) => {
      const s = http.createServer();
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => s.close(() => resolve()));
    });
  } finally {
    api.close();
    await m.stop();
  }
});

test('the API also listens on tcp', async () => {
  const probe = http.createServer();
  const port = await new Promise<number>((r) => probe.listen(0, '127.0.0.1', () => r((probe.address() as { port: number }).port)));
  await new Promise((r) => probe.close(r));
  const wd = makeWorkdir([{ name: 'manager' }], { server: { address: `tcp://127.0.0.1:${port}` } });
  const m = await startMaster(wd);
  try {
    const { env } = await instanceEnv(wd, 'manager');
    assert.equal(env.BAETYL_MASTER_API_ADDRESS, `tcp://127.0.0.1:${port}`);
    const api = new MasterClient({ address: env.BAETYL_MASTER_API_ADDRESS!, username: 'manager', password: env.BAETYL_SERVICE_TOKEN! });
    const inspect = await api.inspect();
    assert.equal(inspect.services[0]!.name, 'manager');
    api.close();
  } finally {
    await m.stop();
  }
});
