// Failures and lifecycle through the real manager process: crashed and timed-out instances, docker
// addressing, a hub that goes away, and SIGTERM.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '@baetyl/test-support';
import { rulesSubscribed, startScenario, testClient, type Scenario } from './fixtures/harness.js';

const detail = (s: Scenario) => () => `${s.logs()}\n${s.master.output()}`;

interface ErrorPayload {
  errorMessage: string;
  errorType: string;
  functionMessage: Record<string, unknown>;
}

const oneFunction = (extraFn = '', extraRule = '') => `
hub: {address: '{{HUB}}'}
rules:
  - clientid: rule-1
    subscribe: {topic: t, qos: 1}
    function: {name: f}
    publish: {topic: t/out, qos: 1}
${extraRule}
functions:
  - name: f
    service: function-f
${extraFn}
`;

test('a crashing instance is replaced on each attempt; after the last one the error says Unavailable', async () => {
  const s = await startScenario({ services: ['function-f'], config: oneFunction() });
  try {
    await rulesSubscribed(s, 1);
    const { client, received, publish } = await testClient(s.broker.url, ['t/out'], 1);
    await publish('t', '{"op":"crash"}', { qos: 1 });
    const r = await waitFor('the error payload', () => received[0], 60_000, detail(s));
    const out = JSON.parse(r.payload.toString()) as ErrorPayload;
    assert.match(out.errorMessage, /^rpc error: code = Unavailable desc = /);
    assert.equal(out.errorType, '*status.statusError');
    assert.equal(s.runtimeEvents().filter((e) => e.ev === 'start' && e.op === 'crash').length, 3);
    assert.equal(s.master.starts().length, 3, 'a fresh instance for each attempt');
    await waitFor('the crashed instances stopped through the API', () => s.master.stops().length >= 3, 30_000, detail(s));
    // The next message gets a working instance.
    await publish('t', '{"op":"echo","after":"crash"}', { qos: 1 });
    await waitFor('an echo', () => received.length === 2, 30_000, detail(s));
    assert.match(received[1]!.payload.toString(), /"after":"crash"/);
    await client.endAsync();
  } finally {
    await s.cleanup();
  }
});

test('a call past timeout fails with DeadlineExceeded, and the instance is kept', async () => {
  const s = await startScenario({
    services: ['function-f'],
    // timeout is also the dial timeout; a warm instance whose start was too slow is tried again
    // after backoff.max, so on a loaded machine the test waits for it instead of failing.
    config: oneFunction('    timeout: 5s\n    backoff: {max: 200ms}\n    instance: {min: 1}').replace(
      'publish: {topic: t/out, qos: 1}',
      'publish: {topic: t/out, qos: 1}\n    retry: {max: 1}',
    ),
  });
  try {
    await rulesSubscribed(s, 1);
    await waitFor('the warm instance', () => /instance \(function-f\.f\.1\) started/.test(s.logs()), 60_000, detail(s));
    const starts = s.master.starts().length;
    const stops = s.master.stops().length;
    const { client, received, publish } = await testClient(s.broker.url, ['t/out'], 1);
    await publish('t', '{"op":"sleep","ms":20000}', { qos: 1 });
    const r = await waitFor('the error payload', () => received[0], 60_000, detail(s));
    const out = JSON.parse(r.payload.toString()) as ErrorPayload;
    assert.equal(out.errorMessage, 'rpc error: code = DeadlineExceeded desc = context deadline exceeded');
    await publish('t', '{"op":"echo","after":"timeout"}', { qos: 1 });
    await waitFor('an echo', () => received.length === 2, 30_000, detail(s));
    assert.equal((JSON.parse(received[1]!.payload.toString()) as { instance: string }).instance, 'function-f.f.1');
    assert.equal(s.master.starts().length, starts, 'no instance was started');
    assert.equal(s.master.stops().length, stops, 'no instance was stopped');
    await client.endAsync();
  } finally {
    await s.cleanup();
  }
});

test('docker mode: the runtime listens on 0.0.0.0:50051 and is dialled by instance name; a failed dial stops it', async () => {
  const s = await startScenario({
    services: ['function-f'],
    env: { BAETYL_SERVICE_MODE: 'docker' },
    config: oneFunction('    timeout: 1s').replace('publish: {topic: t/out, qos: 1}', 'publish: {topic: t/out, qos: 1}\n    retry: {max: 1}'),
  });
  try {
    await rulesSubscribed(s, 1);
    const { client, received, publish } = await testClient(s.broker.url, ['t/out'], 1);
    await publish('t', '{"op":"echo"}', { qos: 1 });
    const r = await waitFor('the error payload', () => received[0], 60_000, detail(s));
    const start = s.master.starts()[0]!;
    assert.equal(start.instance, 'function-f.f.1');
    assert.deepEqual(start.env, {
      BAETYL_SERVICE_INSTANCE_ADDRESS: '0.0.0.0:50051',
      OPENEDGE_SERVICE_INSTANCE_ADDRESS: '0.0.0.0:50051',
      OPENEDGE_SERVICE_ADDRESS: '0.0.0.0:50051',
    });
    // Outside docker the name does not resolve: the create fails, the instance is stopped again.
    assert.deepEqual(
      s.master.stops().map((e) => e.instance),
      ['function-f.f.1'],
    );
    const out = JSON.parse(r.payload.toString()) as ErrorPayload;
    assert.equal(out.errorType, '*errors.errorString');
    assert.match(out.errorMessage, /^instance \(function-f\.f\.1\) of function \(f\) did not answer on function-f\.f\.1:50051 within 30s/);
    await client.endAsync();
  } finally {
    await s.cleanup();
  }
});

test('an instance the master cannot start fails the attempts with a plain error; the rule goes on', async () => {
  // The master knows no service "function-f": every start is refused with 400.
  const s = await startScenario({ services: ['function-other'], config: oneFunction() });
  try {
    await rulesSubscribed(s, 1);
    const { client, received, publish } = await testClient(s.broker.url, ['t/out'], 1);
    await publish('t', '{"op":"echo","n":1}', { qos: 1 });
    await publish('t', '{"op":"echo","n":2}', { qos: 1 });
    await waitFor('two error payloads', () => received.length === 2, 60_000, detail(s));
    for (const r of received) {
      const out = JSON.parse(r.payload.toString()) as ErrorPayload;
      assert.equal(out.errorType, '*errors.errorString');
      assert.match(
        out.errorMessage,
        /^failed to start instance \(function-f\.f\.1\) of function \(f\) through the master API: .*400 service \(function-f\) not found$/,
      );
    }
    // 3 attempts for each message; each failed start is followed by a stop, in case it half happened.
    assert.equal(s.master.stops().length, 6);
    await client.endAsync();
  } finally {
    await s.cleanup();
  }
});

test('the rules reconnect when the hub comes back, subscribe again, and go on', async () => {
  const s = await startScenario({ services: ['function-f'], config: oneFunction() });
  try {
    await rulesSubscribed(s, 1);
    await s.restartBroker();
    await waitFor('the disconnect to be logged', () => /disconnected from the hub/.test(s.logs()), 30_000, detail(s));
    // The fresh broker kept no session, so the rule subscribes again.
    await rulesSubscribed(s, 1);
    assert.match(s.logs(), /rule=rule-1/);
    const { client, received, publish } = await testClient(s.broker.url, ['t/out'], 1);
    await publish('t', '{"op":"echo","after":"restart"}', { qos: 1 });
    await waitFor('an echo', () => received.length === 1, 30_000, detail(s));
    await client.endAsync();
  } finally {
    await s.cleanup();
  }
});

test('SIGTERM: the running call finishes and is published, every instance is stopped through the API, exit 0', async () => {
  const s = await startScenario({ services: ['function-f'], config: oneFunction('    instance: {min: 1, max: 2}') });
  try {
    await rulesSubscribed(s, 1);
    const { client, received, publish } = await testClient(s.broker.url, ['t/out'], 1);
    await waitFor('the warm instance', () => s.runtimeEvents().some((e) => e.ev === 'up'), 30_000, detail(s));
    await publish('t', '{"op":"sleep","ms":1000,"last":true}', { qos: 1 });
    await waitFor('the call to start', () => s.runtimeEvents().some((e) => e.ev === 'start'), 30_000, detail(s));
    const code = await s.stopManager();
    assert.equal(code, 0, s.logs());
    assert.equal(received.length, 1, 'the call in flight was finished and published');
    assert.match(received[0]!.payload.toString(), /"last":true/);
    assert.deepEqual(
      s.master
        .stops()
        .map((e) => e.instance)
        .sort(),
      s.master
        .starts()
        .map((e) => e.instance)
        .sort(),
    );
    assert.equal(s.master.running().length, 0);
    assert.match(s.logs(), /function manager stopped/);
    await client.endAsync();
  } finally {
    await s.cleanup();
  }
});
