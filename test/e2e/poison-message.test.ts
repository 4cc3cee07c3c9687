// No message wedges a rule (issue 14, item 3), on the tutorial's native stack: a real master, hub,
// function manager and runtimes. A QoS 1 input just under the hub's message.length.max makes
// every tutorial function answer more than the hub takes; results of 100 KB (over the hub's
// limit) and 5 MB (over the runtimes' gRPC limit too) come from functions of their own. Each gives
// one error payload that names the limit and the size, and the rule answers the next message,
// before and after a restart of the master, with no output published twice.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';
import { copyExample, freePort, startBaetyl, waitFor, type TestProcess } from '@baetyl/test-support';
import { extendExample } from '../support/example.js';
import { appRunning } from '../support/master-state.js';
import { collector, normalise, TUTORIAL, type Received } from '../support/tutorial.js';

let master: TestProcess | undefined;
let workdir: string;
let port: number;
let client: mqtt.MqttClient;
const read = (f: string) => (existsSync(join(workdir, f)) ? readFileSync(join(workdir, f), 'utf8') : '');
const FM_LOG = 'var/db/baetyl/function-manager-log/service.log';
const RULES = 6;

const PY_CODE = `def big(event, context):
    return b'x' * event['size']
`;
const JS_CODE = `exports.big = (event, context, callback) => callback(null, Buffer.alloc(event.size, 'x'));
`;

function extend(dir: string) {
  // A python36 and a node85 function that answer as many bytes as they are asked for.
  for (const d of ['big-py-conf', 'big-py-code', 'big-js-conf', 'big-js-code']) mkdirSync(join(dir, 'var/db/baetyl', d), { recursive: true });
  writeFileSync(join(dir, 'var/db/baetyl/big-py-code/big.py'), PY_CODE);
  writeFileSync(join(dir, 'var/db/baetyl/big-js-code/big.js'), JS_CODE);
  writeFileSync(join(dir, 'var/db/baetyl/big-py-conf/service.yml'), 'functions:\n  - {name: bigpy, handler: big.big, codedir: var/db/baetyl/big}\n');
  writeFileSync(join(dir, 'var/db/baetyl/big-js-conf/service.yml'), 'functions:\n  - {name: bignode, handler: big.big, codedir: var/db/baetyl/big}\n');
  extendExample(dir, {
    services: `  - name: function-big-py
    image: hub.baidubce.com/baetyl/baetyl-function-python36
    replica: 0
    mounts:
      - {name: big-py-conf, path: etc/baetyl, readonly: true}
      - {name: big-py-code, path: var/db/baetyl/big, readonly: true}
  - name: function-big-js
    image: hub.baidubce.com/baetyl/baetyl-function-node85
    replica: 0
    mounts:
      - {name: big-js-conf, path: etc/baetyl, readonly: true}
      - {name: big-js-code, path: var/db/baetyl/big, readonly: true}
`,
    volumes: `  - {name: big-py-conf, path: var/db/baetyl/big-py-conf}
  - {name: big-py-code, path: var/db/baetyl/big-py-code}
  - {name: big-js-conf, path: var/db/baetyl/big-js-conf}
  - {name: big-js-code, path: var/db/baetyl/big-js-code}
`,
    rules: `  - {clientid: rule-bigpy, subscribe: {topic: x/bigpy, qos: 1}, function: {name: bigpy}, publish: {topic: x/bigpy/out, qos: 1}}
  - {clientid: rule-bignode, subscribe: {topic: x/bignode, qos: 1}, function: {name: bignode}, publish: {topic: x/bignode/out, qos: 1}}
`,
    functions: '  - {name: bigpy, service: function-big-py}\n  - {name: bignode, service: function-big-js}\n',
  });
}

const subscribedLines = () => (read(FM_LOG).match(/subscribed to |connected to the hub .*sessionpresent=true/g) ?? []).length;

async function startMaster() {
  const rulesBefore = (read(FM_LOG).match(/msg="connected to the hub/g) ?? []).length;
  master = startBaetyl(workdir);
  await waitFor('the services to run', () => appRunning(workdir), 120_000);
  // Every rule connected again (a kept session keeps its subscription) and, the first time, subscribed.
  await waitFor(`the ${RULES} rules to connect`, () => (read(FM_LOG).match(/msg="connected to the hub/g) ?? []).length >= rulesBefore + RULES, 120_000);
  await waitFor('the rules to subscribe', () => subscribedLines() >= RULES, 120_000);
}

async function stopMaster() {
  await master?.stop();
}

/** Waits for one message on each topic, then a while longer, and checks nothing came twice. */
async function oncePerTopic(got: ReturnType<typeof collector>, topics: string[]): Promise<Map<string, Received>> {
  await got.until((m) => topics.every((t) => m.some((x) => x.topic === t)), 120_000);
  // Long enough for a reconnect loop (500 ms) to show itself a few times.
  await sleep(3000);
  const out = new Map<string, Received>();
  for (const t of topics) {
    const on = got.messages.filter((x) => x.topic === t);
    assert.equal(on.length, 1, `one message on ${t}, got ${on.length}: ${on.map((x) => x.payload.toString().slice(0, 200)).join(' | ')}`);
    out.set(t, on[0]!);
  }
  return out;
}

const OUTPUTS = ['t/py2hi', 't/py3hi', 't/node8hi', 't/sqlfilter'];

/** The tutorial answers {"id":1} at QoS 1 on every rule, once each. */
async function tutorialAnswers() {
  const got = collector(client);
  await client.publishAsync('t', '{"id":1}', { qos: 1 });
  const msgs = await oncePerTopic(got, OUTPUTS);
  got.stop();
  for (const t of ['t/py2hi', 't/py3hi', 't/node8hi']) assert.equal(normalise(msgs.get(t)!.payload), TUTORIAL.qos0[t], `payload on ${t}`);
  assert.equal(msgs.get('t/sqlfilter')!.payload.toString(), '{"id":1,"qos":1,"topic":"t"}');
}

/** 32,748 bytes of JSON: the PUBLISH on `t` is 32,757 bytes, under the hub's 32k; every output is over it. */
function nearLimitInput(): Buffer {
  const head = '{"id":1,"pad":"';
  const tail = '"}';
  return Buffer.from(head + 'a'.repeat(32_748 - head.length - tail.length) + tail);
}

before(async () => {
  port = await freePort();
  workdir = copyExample('native', port);
  extend(workdir);
  await startMaster();
  client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    username: 'test',
    password: 'hahaha',
    clientId: 'e2e-poison',
    reconnectPeriod: 200,
    connectTimeout: 5000,
  });
  await new Promise<void>((resolve) => client.once('connect', () => resolve()));
  await client.subscribeAsync(['t/#', 'x/#'], { qos: 1 });
});

after(async () => {
  client?.end(true);
  await stopMaster();
});

async function nearLimitGivesOneErrorEach() {
  const input = nearLimitInput();
  assert.equal(input.length, 32_748);
  const got = collector(client);
  await client.publishAsync('t', input, { qos: 1 });
  const msgs = await oncePerTopic(got, OUTPUTS);
  got.stop();
  for (const t of OUTPUTS) {
    const payload = msgs.get(t)!.payload;
    assert.ok(payload.length < 32_768, `the error payload on ${t} fits (${payload.length} bytes)`);
    const e = JSON.parse(payload.toString()) as { errorMessage: string; errorType: string; functionMessage: { Topic: string; Payload?: string } };
    assert.match(e.errorMessage, /^result of \d+ bytes is over the limit of \d+ bytes \(message\.length\.max\)/, t);
    assert.match(e.errorMessage, /message\.length\.max of 32768/, t);
    assert.match(e.errorMessage, /the input's payload of 32748 bytes is left out/, t);
    assert.equal(e.functionMessage.Topic, 't');
    assert.equal(e.functionMessage.Payload, undefined);
  }
}

test('a 32,748-byte QoS 1 message on t gives one error payload per rule, and every rule answers the next message', async () => {
  // The manager read the hub's limit from the hub's own service.yml (no key there: 32k).
  assert.match(read(FM_LOG), /the hub's message\.length\.max is 32768 bytes \(from the hub's \S+\/var\/db\/baetyl\/localhub-conf\/service\.yml\)/);
  await nearLimitGivesOneErrorEach();
  await tutorialAnswers();
  assert.doesNotMatch(read(FM_LOG), /read ECONNRESET/);
});

test('100 KB results give an error payload naming the limit and the size; the rules answer the next message', async () => {
  const got = collector(client);
  await client.publishAsync('x/bigpy', '{"size":102400}', { qos: 1 });
  await client.publishAsync('x/bignode', '{"size":102400}', { qos: 1 });
  const msgs = await oncePerTopic(got, ['x/bigpy/out', 'x/bignode/out']);
  got.stop();
  for (const [t, m] of msgs) {
    const e = JSON.parse(m.payload.toString()) as { errorMessage: string; functionMessage: { Payload: string } };
    assert.match(e.errorMessage, /^result of 102400 bytes is over the limit of \d+ bytes \(message\.length\.max\)/, t);
    // The input is small: it is echoed in full.
    assert.equal(Buffer.from(e.functionMessage.Payload, 'base64').toString(), '{"size":102400}');
    assert.equal(m.qos, 1);
  }
  const next = collector(client);
  await client.publishAsync('x/bigpy', '{"size":10}', { qos: 1 });
  await client.publishAsync('x/bignode', '{"size":10}', { qos: 1 });
  const answers = await oncePerTopic(next, ['x/bigpy/out', 'x/bignode/out']);
  next.stop();
  for (const m of answers.values()) assert.equal(m.payload.toString(), 'xxxxxxxxxx');
});

test('5 MB results are refused by the runtimes with the limit and the size, once, without killing a worker', async () => {
  const logBefore = read(FM_LOG).length;
  const got = collector(client);
  await client.publishAsync('x/bigpy', '{"size":5242880}', { qos: 1 });
  await client.publishAsync('x/bignode', '{"size":5242880}', { qos: 1 });
  const msgs = await oncePerTopic(got, ['x/bigpy/out', 'x/bignode/out']);
  got.stop();
  for (const [t, m] of msgs) {
    const e = JSON.parse(m.payload.toString()) as { errorMessage: string };
    assert.match(e.errorMessage, /result of 5242880 bytes( \(\d+ as a gRPC message\))? is over the limit of 4194304 bytes \(message\.length\.max\)/, t);
  }
  const logged = read(FM_LOG).slice(logBefore);
  assert.doesNotMatch(logged, /SIGKILL|killed/);
  // A result too large fails the same way every time: it is not tried again.
  assert.doesNotMatch(logged, /attempt 1\/3 failed/);
  const next = collector(client);
  await client.publishAsync('x/bigpy', '{"size":3}', { qos: 1 });
  await client.publishAsync('x/bignode', '{"size":3}', { qos: 1 });
  const answers = await oncePerTopic(next, ['x/bigpy/out', 'x/bignode/out']);
  next.stop();
  for (const m of answers.values()) assert.equal(m.payload.toString(), 'xxx');
});

test('after a restart of the master nothing is replayed, and the rules still answer and still survive the 32,748-byte message', async () => {
  const got = collector(client);
  await stopMaster();
  await startMaster();
  await tutorialAnswers();
  // Nothing published before the restart came again (error payloads, 100 KB and 5 MB answers).
  assert.ok(!got.messages.some((m) => m.topic.startsWith('x/')), `replayed: ${got.messages.map((m) => m.topic).join(' ')}`);
  assert.ok(!got.messages.some((m) => m.payload.toString().includes('errorMessage')), 'no error payload replayed');
  got.stop();
  await nearLimitGivesOneErrorEach();
  await tutorialAnswers();
});
