// The timer against a real hub process: its messages arrive on the topic with the configured QoS
// and payload, and flow again after the hub is killed and started again on the same port.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt, { type IPublishPacket, type MqttClient } from 'mqtt';
import { freePort, openConfig, serviceDir, startHubProcess, startNodeService, stopProcesses } from '@baetyl/test-support';

const TIMER_MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const startTimer = (dir: string) => startNodeService(TIMER_MAIN, dir, { name: 'the timer' });
const hubConfig = (port: number) => openConfig([`tcp://127.0.0.1:${port}`]);

after(stopProcesses);

interface Received {
  topic: string;
  qos: number;
  payload: string;
}

async function subscriber(
  port: number,
  topic: string,
): Promise<{ client: MqttClient; messages: Received[]; next(count: number, ms?: number): Promise<Received[]> }> {
  const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
    protocolVersion: 4,
    username: 'test',
    password: 'hahaha',
    clientId: `timer-test-sub-${process.pid}`,
    clean: true,
    reconnectPeriod: 300,
    connectTimeout: 20_000,
  });
  const messages: Received[] = [];
  const waiters = new Set<() => void>();
  client.on('message', (t: string, payload: Buffer, packet: IPublishPacket) => {
    messages.push({ topic: t, qos: packet.qos, payload: payload.toString() });
    for (const w of waiters) w();
  });
  // Resubscribed on each connect: the session is clean.
  const sub = () => client.subscribe(topic, { qos: 1 });
  client.on('connect', sub);
  await client.subscribeAsync(topic, { qos: 1 });
  return {
    client,
    messages,
    next(count, ms = 30_000) {
      const start = messages.length;
      return new Promise((ok, fail) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          fail(new Error(`only ${messages.length - start} of ${count} messages within ${ms} ms`));
        }, ms);
        const check = () => {
          if (messages.length - start >= count) {
            clearTimeout(timer);
            waiters.delete(check);
            ok(messages.slice(start, start + count));
          }
        };
        waiters.add(check);
      });
    },
  };
}

const TEMPLATE =
  '{"datetime": "{{.Time.Now}}","time": {{.Time.NowUnix}},"timestampNano": {{.Time.NowUnixNano}},"random1": {{.Rand.Int}},"random2": {{.Rand.Int63}},"id": {{.Rand.Intn 10}},"random4": {{.Rand.Float64}},"random5": {{.Rand.Float64n 60}},"anyString": "inputString"}';

function checkPayload(text: string): void {
  // The big integers would lose digits in JSON.parse: checked as text first.
  assert.match(
    text,
    /^\{"datetime": "\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? [+-]\d{4} \S+ m=\+\d+\.\d{9}","time": \d{10},"timestampNano": \d{19},"random1": \d+,"random2": \d+,"id": \d,"random4": [\d.e-]+,"random5": [\d.e-]+,"anyString": "inputString"\}$/,
  );
  const msg = JSON.parse(text) as { time: number; random5: number; random4: number };
  assert.ok(Math.abs(msg.time * 1000 - Date.now()) < 10_000);
  assert.ok(msg.random4 >= 0 && msg.random4 < 1 && msg.random5 >= 0 && msg.random5 < 60);
}

test('the timer publishes its template on the topic at QoS 1, and again after the hub restarts', { timeout: 180_000 }, async () => {
  const port = await freePort();
  let hub = await startHubProcess({ config: hubConfig(port) });

  const timerDir = serviceDir(`hub:
  address: tcp://127.0.0.1:${port}
  username: test
  password: hahaha
  clientid: timer-1
  keepalive: -1
timer:
  interval: 300ms
publish:
  topic: t
  qos: 1
  payload: '${TEMPLATE}'
logger:
  path: var/log/baetyl/service.log
  level: debug
`);
  const timer = startTimer(timerDir);
  await timer.waitFor(/msg="connected to the hub \(tcp:\/\/127\.0\.0\.1:\d+\)"/);
  const sub = await subscriber(port, 't');
  for (const m of await sub.next(3)) {
    assert.equal(m.topic, 't');
    assert.equal(m.qos, 1);
    checkPayload(m.payload);
  }

  // The hub dies; the timer keeps running and reconnects once it is back on the same port.
  const mark = timer.output().length;
  await hub.kill9();
  await timer.waitFor(/msg="disconnected from the hub; reconnecting in \d+ ms"/, { timeoutMs: 30_000, from: mark });
  assert.equal(timer.proc.exitCode, null, 'the timer is still running');
  hub = await startHubProcess({ config: hubConfig(port), dir: hub.dir });
  // Connected again: its messages flow.
  for (const m of await sub.next(3, 60_000)) {
    assert.equal(m.qos, 1);
    checkPayload(m.payload);
  }

  // It logs to service.log under the logger config, in Baetyl's format.
  const log = join(timerDir, 'var/log/baetyl/service.log');
  assert.ok(existsSync(log));
  const text = readFileSync(log, 'utf8');
  assert.match(text, /level=info msg="timer started" interval=300ms qos=1 topic=t/);
  assert.match(text, /level=debug msg="published to t"/);

  await sub.client.endAsync();
  assert.equal(await timer.stop(), 0);
  assert.match(timer.output(), /msg="timer stopped"/);
  await hub.stop();
});

test("the map form publishes v1 0.1.x's JSON at QoS 0", { timeout: 60_000 }, async () => {
  const port = await freePort();
  const hub = await startHubProcess({ config: hubConfig(port) });
  const timer = startTimer(
    serviceDir(
      `# {{.TIMER_TEST_UNSET_VAR}}\nhub:\n  address: tcp://127.0.0.1:${port}\n  username: test\n  password: hahaha\n  clientid: timer-2\n  subscriptions: [{topic: x}]\n` +
        'timer:\n  interval: 200ms\npublish:\n  topic: t/map\n  payload:\n    id: 1\n',
    ),
  );
  await timer.waitFor(/msg="connected to the hub/);
  // The loader's warnings and the unused keys reach the log.
  assert.match(timer.output(), /level=warn msg=".*service\.yml: environment variable TIMER_TEST_UNSET_VAR is not set/);
  assert.match(timer.output(), /level=warn msg="hub\.subscriptions \(x\) is not used: the timer only publishes"/);
  const sub = await subscriber(port, 't/map');
  const [m] = await sub.next(1);
  assert.equal(m!.qos, 0);
  assert.match(m!.payload, /^\{"id":1,"time":\d{10}\}$/);
  await sub.client.endAsync();
  await timer.stop();
  await hub.stop();
});

test('a bad template stops the timer at start with the file, the line and publish.payload', { timeout: 30_000 }, async () => {
  const dir = serviceDir('hub:\n  address: tcp://127.0.0.1:1\npublish:\n  payload: "{{.Rand.Intn 0}}"\n');
  const timer = startTimer(dir);
  assert.equal((await timer.exited).code, 1);
  assert.match(
    timer.output(),
    /baetyl-timer: bad config:\n.*etc\/baetyl\/service\.yml:4:\d+: publish\.payload: bad template: \{\{\.Rand\.Intn 0\}\}: the argument of \.Rand\.Intn must be more than 0/,
  );
});
