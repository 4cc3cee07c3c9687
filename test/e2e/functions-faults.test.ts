// End-to-end fault cases on the native stack: a handler sleeping past its timeout, kill -9 of a
// runtime instance in the middle of a QoS 1 stream, and scale to zero followed by a cold start.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { copyExample, freePort, startBaetyl, waitFor, type TestProcess } from '@baetyl/test-support';
import { extendExample } from '../support/example.js';
import { appRunning, instancesOf } from '../support/master-state.js';
import { collector, normalise } from '../support/tutorial.js';

let master: TestProcess;
let workdir: string;
let client: mqtt.MqttClient;
const read = (f: string) => (existsSync(join(workdir, f)) ? readFileSync(join(workdir, f), 'utf8') : '');

const EXTRA_CODE = `import time


def slow(event, context):
    time.sleep(event.get('sleep', 0))
    return {'slept': event.get('sleep', 0)}


def echo(event, context):
    return event
`;

function extend(dir: string) {
  // One more runtime service with two python36 functions, and three rules that use them.
  mkdirSync(join(dir, 'var/db/baetyl/extra-conf'), { recursive: true });
  mkdirSync(join(dir, 'var/db/baetyl/extra-code'), { recursive: true });
  writeFileSync(join(dir, 'var/db/baetyl/extra-code/extra.py'), EXTRA_CODE);
  writeFileSync(
    join(dir, 'var/db/baetyl/extra-conf/service.yml'),
    `functions:
  - {name: slow, handler: extra.slow, codedir: var/db/baetyl/extra}
  - {name: echo, handler: extra.echo, codedir: var/db/baetyl/extra}
  - {name: cold, handler: extra.echo, codedir: var/db/baetyl/extra}
`,
  );
  extendExample(dir, {
    services: `  - name: function-extra
    image: hub.baidubce.com/baetyl/baetyl-function-python36
    replica: 0
    mounts:
      - {name: extra-conf, path: etc/baetyl, readonly: true}
      - {name: extra-code, path: var/db/baetyl/extra, readonly: true}
`,
    volumes: `  - {name: extra-conf, path: var/db/baetyl/extra-conf}
  - {name: extra-code, path: var/db/baetyl/extra-code}
`,
    rules: `  - {clientid: rule-slow, subscribe: {topic: x/slow}, function: {name: slow}, publish: {topic: x/slow/out}, retry: {max: 1}}
  - {clientid: rule-echo, subscribe: {topic: x/echo, qos: 1}, function: {name: echo}, publish: {topic: x/echo/out, qos: 1}}
  - {clientid: rule-cold, subscribe: {topic: x/cold}, function: {name: cold}, publish: {topic: x/cold/out}}
`,
    functions: `  - {name: slow, service: function-extra, timeout: 3s}
  - {name: echo, service: function-extra, instance: {max: 2}}
  - {name: cold, service: function-extra, instance: {max: 1, idletime: 2s, evicttime: 1s}}
`,
  });
}

before(async () => {
  const port = await freePort();
  workdir = copyExample('native', port);
  extend(workdir);
  master = startBaetyl(workdir);
  await waitFor('the services to run', () => appRunning(workdir), 120_000);
  await waitFor(
    'the seven rules to subscribe',
    () => (read('var/db/baetyl/function-manager-log/service.log').match(/subscribed to /g) ?? []).length === 7,
    120_000,
  );
  client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { username: 'test', password: 'hahaha', clientId: 'e2e-faults' });
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  await client.subscribeAsync('x/#', { qos: 1 });
});

after(async () => {
  client?.end(true);
  await master?.stop();
});

test('a handler that sleeps past the timeout gives a DeadlineExceeded error payload, and the next call works', async () => {
  const got = collector(client);
  await client.publishAsync('x/slow', '{"sleep":10}', { qos: 0 });
  await got.until((m) => m.some((x) => x.topic === 'x/slow/out'), 120_000);
  const out = got.messages.find((x) => x.topic === 'x/slow/out')!;
  assert.equal(
    normalise(out.payload),
    '{"errorMessage":"rpc error: code = DeadlineExceeded desc = context deadline exceeded","errorType":"*status.statusError","functionMessage":{"Topic":"x/slow","Payload":"eyJzbGVlcCI6MTB9","Timestamp":<ts>,"FunctionName":"slow","FunctionInvokeID":"<uuid>"}}',
  );
  got.stop();
  const next = collector(client);
  await client.publishAsync('x/slow', '{"sleep":0}', { qos: 0 });
  await next.until((m) => m.some((x) => x.topic === 'x/slow/out'), 60_000);
  assert.equal(next.messages.find((x) => x.topic === 'x/slow/out')!.payload.toString(), '{"slept": 0}');
  next.stop();
});

test('kill -9 of a runtime instance in the middle of a QoS 1 stream loses no message', async () => {
  const got = collector(client);
  const total = 200;
  const seen = () => new Set(got.messages.filter((m) => m.topic === 'x/echo/out').map((m) => JSON.parse(m.payload.toString()).n as number));
  let killed = 0;
  for (let n = 0; n < total; n++) {
    await client.publishAsync('x/echo', JSON.stringify({ n }), { qos: 1 });
    if (n === total / 2) {
      const running = (await instancesOf(workdir, 'function-extra')).filter((i) => i.name.startsWith('function-extra.echo.') && i.process);
      assert.ok(running.length > 0, 'an echo instance runs');
      process.kill(running[0]!.process!.id, 'SIGKILL');
      killed = running[0]!.process!.id;
    }
  }
  await waitFor(`all ${total} outputs (have ${seen().size})`, () => seen().size === total, 120_000);
  assert.ok(killed > 0);
  for (const m of got.messages.filter((x) => x.topic === 'x/echo/out')) assert.equal(m.qos, 1);
  got.stop();
});

test('a function scaled to zero starts cold on the next message', async () => {
  const got = collector(client);
  await client.publishAsync('x/cold', '{"a":1}', { qos: 0 });
  await got.until((m) => m.some((x) => x.topic === 'x/cold/out'), 120_000);
  const first = (await instancesOf(workdir, 'function-extra')).find((i) => i.name === 'function-extra.cold.1');
  assert.ok(first?.process, 'the cold instance runs after the first message');
  // idletime 2s: the pool stops it through the master API.
  await waitFor('the idle instance to be stopped', () => read('var/log/baetyl/baetyl.log').includes('/instances/function-extra.cold.1/stop'), 120_000);
  await waitFor('scaled to zero', async () => !(await instancesOf(workdir, 'function-extra')).some((x) => x.name === 'function-extra.cold.1'), 120_000);
  got.messages.length = 0;
  await client.publishAsync('x/cold', '{"a":2}', { qos: 0 });
  await got.until((m) => m.some((x) => x.topic === 'x/cold/out'), 120_000);
  assert.equal(got.messages.find((x) => x.topic === 'x/cold/out')!.payload.toString(), '{"a": 2}');
  const again = (await instancesOf(workdir, 'function-extra')).find((i) => i.name === 'function-extra.cold.1');
  assert.ok(again?.process && again.process.id !== first.process!.id, 'a new process served it');
  got.stop();
});
