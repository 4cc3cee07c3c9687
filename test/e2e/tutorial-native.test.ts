// The acceptance story, natively: the tutorial's application from deploy/example/native, a real
// master with real hub, function manager and runtime processes, and a real MQTT client.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';
import { copyExample, freePort, startBaetyl, waitFor, type TestProcess } from '@baetyl/test-support';
import { appRunning } from '../support/master-state.js';
import { collector, normalise, TUTORIAL, tutorialRulesSubscribed, watchAll } from '../support/tutorial.js';

let master: TestProcess;
let workdir: string;
let port: number;
let client: mqtt.MqttClient;
const log = () => (existsSync(join(workdir, 'var/log/baetyl/baetyl.log')) ? readFileSync(join(workdir, 'var/log/baetyl/baetyl.log'), 'utf8') : '');

before(async () => {
  port = await freePort();
  workdir = copyExample('native', port);
  master = startBaetyl(workdir);
  await waitFor('the services to run', () => appRunning(workdir));
  // Messages published before the rules subscribe go nowhere (QoS 0): wait for all four.
  await waitFor('the four rules to subscribe', () => tutorialRulesSubscribed(workdir) >= 4);
  assert.equal(tutorialRulesSubscribed(workdir), 4, 'the four rules subscribed');
  client = await watchAll(port, 'e2e-watcher');
});

after(async () => {
  client?.end(true);
  await master?.stop();
});

test('{"id":1} on t at QoS 0 gives the six messages of the tutorial, byte for byte', async () => {
  const got = collector(client);
  await client.publishAsync('t', '{"id":1}', { qos: 0 });
  const msgs = await got.until((m) => TUTORIAL.topics.every((t) => m.some((x) => x.topic === t)), 120_000);
  for (const topic of TUTORIAL.topics) {
    const m = msgs.find((x) => x.topic === topic)!;
    assert.equal(normalise(m.payload), TUTORIAL.qos0[topic], `payload on ${topic}`);
    assert.equal(m.qos, 0, `QoS on ${topic}`);
    assert.equal(m.retain, false);
  }
  got.stop();
});

test('at QoS 1 the sql rule sees qos 1 and answers at QoS 1; the QoS 0 rules are unchanged', async () => {
  const got = collector(client);
  await client.publishAsync('t', '{"id":1}', { qos: 1 });
  const msgs = await got.until((m) => TUTORIAL.topics.every((t) => m.some((x) => x.topic === t)), 120_000);
  const sql = msgs.find((x) => x.topic === 't/sqlfilter')!;
  assert.equal(sql.payload.toString(), '{"id":1,"qos":1,"topic":"t"}');
  assert.equal(sql.qos, 1);
  // The python rule subscribes at QoS 0, so it receives the message at QoS 0.
  assert.equal(normalise(msgs.find((x) => x.topic === 't/py3hi')!.payload), TUTORIAL.qos0['t/py3hi']);
  got.stop();
});

test('{"id":10} is filtered out by the sql function', async () => {
  const got = collector(client);
  await client.publishAsync('t', '{"id":10}', { qos: 1 });
  await got.until((m) => ['t/py2hi', 't/py3hi', 't/node8hi'].every((t) => m.some((x) => x.topic === t)), 120_000);
  // The sql rule answers with nothing; give it the time the others took again.
  await sleep(1000);
  assert.ok(!got.messages.some((x) => x.topic === 't/sqlfilter'));
  got.stop();
});

test('a raising function publishes the error payload after its retries; the instance survives', async () => {
  const got = collector(client);
  await client.publishAsync('t', '{"err":"x"}', { qos: 0 });
  const msgs = await got.until((m) => ['t/py2hi', 't/py3hi', 't/node8hi'].every((t) => m.some((x) => x.topic === t)), 120_000);
  // Python 2's json gives unicode strings, so the real 2.7 interpreter writes u'x'.
  assert.equal(normalise(msgs.find((x) => x.topic === 't/py2hi')!.payload), TUTORIAL.error('python27-sayhi', "('[UserCodeInvoke] ', TypeError(u'x',))"));
  assert.equal(normalise(msgs.find((x) => x.topic === 't/py3hi')!.payload), TUTORIAL.error('python36-sayhi', "('[UserCodeInvoke] ', TypeError('x',))"));
  assert.equal(normalise(msgs.find((x) => x.topic === 't/node8hi')!.payload), TUTORIAL.error('node85-sayhi', "('[UserCodeInvoke]', TypeError: x)"));
  got.stop();
  // The same instances answer the next message: a user's exception does not destroy them.
  const started = (log().match(/msg="instance started" .*service=function-python36-sayhi/g) ?? []).length;
  const again = collector(client);
  await client.publishAsync('t', '{"id":2}', { qos: 0 });
  await again.until((m) => m.some((x) => x.topic === 't/py3hi'), 120_000);
  again.stop();
  assert.equal((log().match(/msg="instance started" .*service=function-python36-sayhi/g) ?? []).length, started);
});

test('a non-JSON payload reaches the functions as bytes', async () => {
  const got = collector(client);
  await client.publishAsync('t', 'hi', { qos: 0 });
  const msgs = await got.until((m) => ['t/py3hi', 't/node8hi'].every((t) => m.some((x) => x.topic === t)), 120_000);
  assert.match(msgs.find((x) => x.topic === 't/py3hi')!.payload.toString(), /^\{"bytes": "hi", "messageQOS": 0, /);
  assert.match(msgs.find((x) => x.topic === 't/node8hi')!.payload.toString(), /^\{"bytes":"hi","messageQOS":0,/);
  got.stop();
});
