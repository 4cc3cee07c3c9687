// The hub as users run it: started by a real master from application.yml, driven by real MQTT
// clients. The hub's own suite (packages/hub/test) covers each feature against a bare hub process;
// this one checks them where they meet the master: auth, ACL, rename routes, metrics reported to the
// master, and a kill -9 of the hub instance, restarted by the master's policy with nothing lost.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { canConnect, freePort, startBaetyl, waitFor, type TestProcess } from '@baetyl/test-support';
import { appRunning, instancesOf } from '../support/master-state.js';

let workdir: string;
let master: TestProcess;
let port: number;

const hubInstance = async () => (await instancesOf(workdir, 'localhub'))[0];

function connect(opts: mqtt.IClientOptions): Promise<mqtt.MqttClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, connectTimeout: 10_000, ...opts });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

before(async () => {
  port = await freePort();
  workdir = mkdtempSync(join(tmpdir(), 'baetyl-hub-e2e-'));
  for (const d of ['etc/baetyl', 'var/db/baetyl/hub-conf']) mkdirSync(join(workdir, d), { recursive: true });
  writeFileSync(join(workdir, 'etc/baetyl/conf.yml'), 'mode: native\ngrace: 5s\n');
  writeFileSync(
    join(workdir, 'var/db/baetyl/application.yml'),
    `version: v1
services:
  - name: localhub
    image: hub.baidubce.com/baetyl/baetyl-hub:latest
    replica: 1
    restart: {policy: always, backoff: {min: 1s, max: 2s}}
    mounts:
      - {name: hub-conf, path: etc/baetyl, readonly: true}
      - {name: hub-data, path: var/db/baetyl/data}
      - {name: hub-log, path: var/log/baetyl}
volumes:
  - {name: hub-conf, path: var/db/baetyl/hub-conf}
  - {name: hub-data, path: var/db/baetyl/hub-data}
  - {name: hub-log, path: var/db/baetyl/hub-log}
`,
  );
  writeFileSync(
    join(workdir, 'var/db/baetyl/hub-conf/service.yml'),
    `listen:
  - tcp://127.0.0.1:${port}
principals:
  - username: test
    password: hahaha
    permissions:
      - {action: pub, permit: ['#']}
      - {action: sub, permit: ['#']}
  - username: sensor
    password: s3cret
    permissions:
      - {action: pub, permit: ['sensors/+/temp']}
      - {action: sub, permit: ['sensors/#']}
subscriptions:
  - source: {topic: t, qos: 1}
    target: {topic: t/topic, qos: 1}
metrics:
  report:
    interval: 1s
logger:
  path: var/log/baetyl/service.log
  level: debug
`,
  );
  master = startBaetyl(workdir);
  await waitFor('the services to run', () => appRunning(workdir));
  await waitFor('the hub to listen', () => canConnect(port));
});

after(async () => {
  await master?.stop();
});

test('the master-started hub authenticates with the CONNACK codes of MQTT 3.1.1', async () => {
  const ok = await connect({ username: 'test', password: 'hahaha' });
  ok.end(true);
  await assert.rejects(connect({ username: 'test', password: 'wrong' }), (err: Error & { code?: number }) => err.code === 4);
  await assert.rejects(connect({}), (err: Error & { code?: number }) => err.code === 4);
  await assert.rejects(connect({ username: 'test', password: 'hahaha', clientId: 'x'.repeat(129) }), (err: Error & { code?: number }) => err.code === 2);
});

test('ACL: a refused filter gets 0x80, an unauthorised publish closes the connection', async () => {
  const c = await connect({ username: 'sensor', password: 's3cret' });
  // MQTT.js turns a SUBACK with a 0x80 into an error carrying the packet.
  const suback = await c.subscribeAsync({ 'sensors/#': { qos: 1 }, 'other/#': { qos: 0 } }).then(
    () => assert.fail('the second filter should be refused'),
    (err: { packet?: { granted: number[] } }) => err.packet,
  );
  assert.deepEqual(suback?.granted, [1, 0x80]);
  const closed = new Promise<void>((r) => c.once('close', () => r()));
  c.publish('other/x', 'no');
  await closed;
  c.end(true);
});

test('the rename route re-publishes t as t/topic', async () => {
  const c = await connect({ username: 'test', password: 'hahaha' });
  await c.subscribeAsync('t/topic', { qos: 1 });
  const got = new Promise<[string, string]>((r) => c.once('message', (topic, payload) => r([topic, payload.toString()])));
  await c.publishAsync('t', '{"id":1}', { qos: 1 });
  assert.deepEqual(await got, ['t/topic', '{"id":1}']);
  c.end(true);
});

test('the hub reports its metrics to the master', async () => {
  // The earlier tests published; a report within a few intervals counts them.
  const stats = await waitFor('a metrics report counting messages', async () => {
    const s = (await hubInstance())?.broker_stats as Record<string, number> | undefined;
    return s && (s.messages_in ?? 0) >= 1 ? s : undefined;
  });
  assert.equal(typeof stats.clients, 'number');
  assert.equal(typeof stats.subscriptions, 'number');
});

test('kill -9 of the hub instance: the master restarts it, and a persistent session gets the QoS 1 messages queued meanwhile', async () => {
  const sub = await connect({ username: 'test', password: 'hahaha', clientId: 'keeper', clean: false });
  await sub.subscribeAsync('q/#', { qos: 1 });
  sub.end(true);
  const pub = await connect({ username: 'test', password: 'hahaha', clientId: 'pusher' });
  for (let i = 0; i < 20; i++) await pub.publishAsync(`q/${i}`, String(i), { qos: 1 });
  pub.end(true);

  const before = await waitFor('the hub instance', () => hubInstance());
  process.kill(before.process!.id, 'SIGKILL');
  const after = await waitFor('the master to restart the hub', async () => {
    const i = await hubInstance();
    return i && i.status === 'running' && i.process && i.process.id !== before.process!.id ? i : undefined;
  });
  assert.equal(after.restarts, (before.restarts as number) + 1);
  await waitFor('the new hub to listen', () => canConnect(port));

  const received = new Set<string>();
  const back = mqtt.connect(`mqtt://127.0.0.1:${port}`, { username: 'test', password: 'hahaha', clientId: 'keeper', clean: false, reconnectPeriod: 0 });
  back.on('message', (_t, payload) => received.add(payload.toString()));
  await waitFor(`the 20 queued messages (got ${received.size})`, () => received.size === 20);
  back.end(true);
});
