// The manager's gRPC endpoint (v1's `server` block) through the real manager process, called with
// a real grpc-js client: dispatch by FunctionName into the pools, NOT_FOUND for an unknown name,
// server.timeout, message.length.max, a unix socket, and TLS with client certificates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import { createFunctionClient, type FunctionClient, type FunctionMessage } from '@baetyl/core/function';
import { issueCert, makeCa, waitFor } from '@baetyl/test-support';
import { startScenario, type Scenario } from './fixtures/harness.js';

const RUNTIME_MAIN = fileURLToPath(new URL('../../../runtime/dist/src/main.js', import.meta.url));
const SAYJS = readFileSync(fileURLToPath(new URL('../../../../deploy/example/native/var/db/baetyl/function-sayjs-code/index.js', import.meta.url)), 'utf8');

function call(client: FunctionClient, msg: Partial<FunctionMessage>, deadlineMs = 30_000): Promise<{ res?: FunctionMessage; err?: grpc.ServiceError }> {
  return new Promise((done) => {
    client.Call(msg, { deadline: Date.now() + deadlineMs }, (err, res) => done(err ? { err } : { res: res! }));
  });
}

async function serverAddress(s: Scenario): Promise<string> {
  const m = await waitFor('the function server to listen', () => /msg="function server listening" address=(\S+)/.exec(s.logs()), 30_000, s.logs);
  return m[1]!;
}

const grpcTarget = (address: string) => address.replace(/^tcp:\/\//, '').replace(/^unix:\/\//, 'unix:');

test('server.address serves baetyl.Function/Call: a real node85 runtime answers by FunctionName; an unknown name is NOT_FOUND', async () => {
  // The real runtime, in a service directory of its own, running the tutorial's sayjs code.
  const runtimeDir = mkdtempSync(join(tmpdir(), 'fm-server-rt-'));
  mkdirSync(join(runtimeDir, 'etc/baetyl'), { recursive: true });
  mkdirSync(join(runtimeDir, 'code'));
  writeFileSync(join(runtimeDir, 'etc/baetyl/service.yml'), 'functions:\n  - name: sayjs\n    handler: index.handler\n    codedir: code\n');
  writeFileSync(join(runtimeDir, 'code/index.js'), SAYJS);
  const s = await startScenario({
    services: ['function-sayjs'],
    instance: { script: RUNTIME_MAIN, args: ['--runtime', 'node85'], cwd: runtimeDir },
    config: `
functions:
  - name: sayjs
    service: function-sayjs
server:
  address: tcp://127.0.0.1:0
  timeout: 60s
  workers:
    max: 4
  concurrent:
    max: 8
logger: {level: debug}
`,
  });
  const detail = () => `${s.logs()}\n${s.master.output()}`;
  let client: FunctionClient | undefined;
  try {
    const address = await serverAddress(s);
    assert.match(address, /^tcp:\/\/127\.0\.0\.1:\d+$/);
    assert.match(s.logs(), /server\.workers\.max \(4\) is not used by the function manager/);
    client = createFunctionClient(grpcTarget(address));

    const { res, err } = await call(client, {
      FunctionName: 'sayjs',
      Topic: 't',
      QOS: 1,
      ID: 7,
      Timestamp: 1575534283,
      Payload: Buffer.from('{"id":1}'),
      FunctionInvokeID: 'invoke-1',
    });
    assert.equal(err, undefined, `${err?.message}\n${detail()}`);
    const out = JSON.parse(res!.Payload.toString()) as Record<string, unknown>;
    assert.deepEqual(out, {
      id: 1,
      messageQOS: 1,
      messageTopic: 't',
      messageTimestamp: 1575534283,
      functionName: 'sayjs',
      functionInvokeID: 'invoke-1',
      Say: 'Hello Baetyl',
    });
    assert.equal(s.master.starts().length, 1, 'the pool started an instance for the call');
    assert.match(s.master.starts()[0]!.instance, /^function-sayjs\.sayjs\.1$/);

    // Without an invoke id the manager gives the call one.
    const second = await call(client, { FunctionName: 'sayjs', Payload: Buffer.from('hi') });
    const out2 = JSON.parse(second.res!.Payload.toString()) as Record<string, unknown>;
    assert.equal(out2.bytes, 'hi');
    assert.match(String(out2.functionInvokeID), /^[0-9a-f-]{36}$/);

    // The function's own error comes back with its code and details, as v1's server passed it on.
    const failed = await call(client, { FunctionName: 'sayjs', Payload: Buffer.from('{"err":"x"}') });
    assert.equal(failed.err?.code, grpc.status.UNKNOWN, detail());
    assert.match(failed.err!.details, /TypeError: x/);

    const unknown = await call(client, { FunctionName: 'nope', Payload: Buffer.from('{}') });
    assert.equal(unknown.err?.code, grpc.status.NOT_FOUND);
    assert.equal(unknown.err!.details, 'function (nope) not found; the functions of this manager are: sayjs');
    const empty = await call(client, { Payload: Buffer.from('{}') });
    assert.equal(empty.err?.code, grpc.status.NOT_FOUND);
    assert.match(empty.err!.details, /^FunctionName is empty/);
    assert.equal(s.master.starts().length, 1, 'no instance for names that are not functions');
  } finally {
    client?.close();
    await s.cleanup();
    rmSync(runtimeDir, { recursive: true, force: true });
  }
});

test('server.timeout is the call deadline, message.length.max the size limit, and unix:// addresses work', async () => {
  const s = await startScenario({
    services: ['function-f'],
    config: `
functions:
  - name: f
    service: function-f
server:
  address: unix://var/run/function.sock
  timeout: 1s
  message:
    length:
      max: 1k
`,
  });
  let client: FunctionClient | undefined;
  try {
    const address = await serverAddress(s);
    assert.equal(address, `unix://${join(s.dir, 'var/run/function.sock')}`);
    // A manager killed with -9 leaves its socket behind: the next one starts anyway.
    s.manager.kill('SIGKILL');
    await waitFor('the manager to die', () => s.manager.signalCode !== null, 10_000);
    assert.ok(existsSync(join(s.dir, 'var/run/function.sock')));
    s.restartManager();
    await waitFor('the second manager to listen', () => (s.logs().match(/msg="function server listening"/g) ?? []).length === 2, 30_000, s.logs);
    client = createFunctionClient(grpcTarget(address));
    const ok = await call(client, { FunctionName: 'f', Payload: Buffer.from('{"op":"echo"}') });
    assert.equal(ok.err, undefined, `${ok.err?.message}\n${s.logs()}\n${s.master.output()}`);
    assert.equal(JSON.parse(ok.res!.Payload.toString()).Say, 'Hello Baetyl', s.logs());

    const slow = await call(client, { FunctionName: 'f', Payload: Buffer.from('{"op":"sleep","ms":5000}') });
    assert.equal(slow.err?.code, grpc.status.DEADLINE_EXCEEDED, s.logs());
    assert.equal(slow.err!.details, 'function (f) did not answer within server.timeout (1s)');

    const big = await call(client, { FunctionName: 'f', Payload: Buffer.alloc(2048, 0x61) });
    assert.equal(big.err?.code, grpc.status.RESOURCE_EXHAUSTED);
  } finally {
    client?.close();
    await s.cleanup();
  }
});

function makeCerts(dir: string): void {
  makeCa(dir, 'ca', { cn: 'test-ca', key: 'rsa' });
  for (const name of ['server', 'client'])
    issueCert(dir, 'ca', name, { cn: name === 'server' ? 'localhost' : 'caller', ext: 'subjectAltName=DNS:localhost,IP:127.0.0.1\n', key: 'rsa' });
}

test('with server.ca/cert/key the endpoint is TLS and callers need a certificate signed by the CA', async () => {
  const certs = mkdtempSync(join(tmpdir(), 'fm-server-tls-'));
  makeCerts(certs);
  const s = await startScenario({
    services: ['function-f'],
    config: `
functions:
  - name: f
    service: function-f
server:
  address: 127.0.0.1:0
  ca: ${certs}/ca.pem
  cert: ${certs}/server.pem
  key: ${certs}/server.key
`,
  });
  const clients: FunctionClient[] = [];
  const pem = (f: string) => readFileSync(join(certs, f));
  try {
    const address = await serverAddress(s);
    assert.match(s.logs(), /tls="client certificates required"/);
    const target = grpcTarget(address);
    const withCert = createFunctionClient(target, grpc.credentials.createSsl(pem('ca.pem'), pem('client.key'), pem('client.pem')), {
      'grpc.ssl_target_name_override': 'localhost',
    });
    clients.push(withCert);
    const ok = await call(withCert, { FunctionName: 'f', Payload: Buffer.from('{"op":"echo","tls":true}') });
    assert.equal(JSON.parse(ok.res!.Payload.toString()).tls, true, `${ok.err?.message}\n${s.logs()}`);

    const noCert = createFunctionClient(target, grpc.credentials.createSsl(pem('ca.pem')), { 'grpc.ssl_target_name_override': 'localhost' });
    clients.push(noCert);
    const refused = await call(noCert, { FunctionName: 'f', Payload: Buffer.from('{}') }, 10_000);
    assert.equal(refused.err?.code, grpc.status.UNAVAILABLE);
    const plain = createFunctionClient(target);
    clients.push(plain);
    assert.equal((await call(plain, { FunctionName: 'f', Payload: Buffer.from('{}') }, 10_000)).err?.code, grpc.status.UNAVAILABLE);
  } finally {
    for (const c of clients) c.close();
    await s.cleanup();
    rmSync(certs, { recursive: true, force: true });
  }
});

test('an unreadable server.key stops the manager at start with a message naming the key and file', async () => {
  const s = await startScenario({
    services: ['function-f'],
    config: `
functions:
  - name: f
    service: function-f
server:
  address: 127.0.0.1:0
  cert: /no/such/server.pem
  key: /no/such/server.key
`,
  });
  try {
    await waitFor('the manager to exit', () => s.manager.exitCode !== null, 30_000, s.logs);
    assert.equal(s.manager.exitCode, 1);
    assert.match(s.logs(), /server\.key: cannot read \/no\/such\/server\.key: ENOENT/);
  } finally {
    await s.cleanup();
  }
});
