// Prometheus metrics of the whole tutorial stack (docs/metrics.md): deploy/example/native with the
// master's metrics listener on and reports every second, known traffic from a real MQTT client,
// then the counters read back from GET /metrics, checked by promtool, and scraped by a real
// Prometheus server whose HTTP API gives a value back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import mqtt from 'mqtt';
import { MasterClient } from '@baetyl/core/api';
import { copyExample, freePort, startBaetyl, waitFor, type TestProcess } from '@baetyl/test-support';
import { appRunning } from '../support/master-state.js';
import { parseExposition, prometheusMissing, promtoolCheck, sampleOf, startPrometheus, type Sample } from '../support/prometheus.js';
import { tutorialRulesSubscribed } from '../support/tutorial.js';

const RULES = [
  ['func-python27-sayhi-1', 'python27-sayhi'],
  ['func-sql-filter-1', 'sql-filter'],
  ['func-python36-sayhi-1', 'python36-sayhi'],
  ['func-node85-sayhi-1', 'node85-sayhi'],
] as const;
const HUB = { service: 'localhub', service_instance: 'localhub' };
const FM = { service: 'function-manager', service_instance: 'function-manager' };

let master: TestProcess;
let workdir: string;
let hubPort: number;
let metricsPort: number;
let client: mqtt.MqttClient;
const log = () => (existsSync(join(workdir, 'var/log/baetyl/baetyl.log')) ? readFileSync(join(workdir, 'var/log/baetyl/baetyl.log'), 'utf8') : '');

async function scrape(): Promise<{ text: string; samples: Sample[] }> {
  const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return { text, samples: parseExposition(text) };
}

/** Scrapes until `cond` holds; fails with the last exposition after a generous limit. */
async function scrapeUntil(what: string, cond: (s: Sample[]) => boolean, limitMs = 120_000): Promise<Sample[]> {
  let last = '';
  return waitFor(
    what,
    async () => {
      const { text, samples } = await scrape();
      last = text;
      return cond(samples) && samples;
    },
    limitMs,
    () => `the last scrape:\n${last}`,
  );
}

/** The counters the traffic moves, as a flat record. */
function counters(s: Sample[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const qos of ['0', '1']) {
    out[`hub received qos ${qos}`] = sampleOf(s, 'baetyl_hub_messages_received_total', { ...HUB, qos }) ?? NaN;
    out[`hub sent qos ${qos}`] = sampleOf(s, 'baetyl_hub_messages_sent_total', { ...HUB, qos }) ?? NaN;
  }
  for (const [rule, fn] of RULES) {
    const labels = { ...FM, rule, function: fn };
    out[`${fn} calls`] = sampleOf(s, 'baetyl_function_calls_total', labels) ?? NaN;
    out[`${fn} errors`] = sampleOf(s, 'baetyl_function_errors_total', labels) ?? NaN;
    out[`${fn} histogram count`] = sampleOf(s, 'baetyl_function_call_duration_seconds_count', labels) ?? NaN;
    out[`${fn} histogram +Inf`] = sampleOf(s, 'baetyl_function_call_duration_seconds_bucket', { ...labels, le: '+Inf' }) ?? NaN;
  }
  return out;
}

before(async () => {
  hubPort = await freePort();
  metricsPort = await freePort();
  workdir = copyExample('native', hubPort);
  appendFileSync(join(workdir, 'etc/baetyl/conf.yml'), `metrics:\n  address: tcp://127.0.0.1:${metricsPort}\n`);
  for (const svc of ['localhub', 'function-manager'])
    appendFileSync(join(workdir, `var/db/baetyl/${svc}-conf/service.yml`), 'metrics:\n  report:\n    interval: 1s\n');
  master = startBaetyl(workdir);
  await waitFor('the services to run', () => appRunning(workdir));
  assert.match(log(), new RegExp(`metrics served on http://127\\.0\\.0\\.1:${metricsPort}/metrics`));
  // Messages published before the rules subscribe go nowhere (QoS 0): wait for all four.
  await waitFor('the four rules to subscribe', () => tutorialRulesSubscribed(workdir) >= 4);
  assert.equal(tutorialRulesSubscribed(workdir), 4, 'the four rules subscribed');
  client = mqtt.connect(`mqtt://127.0.0.1:${hubPort}`, {
    username: 'test',
    password: 'hahaha',
    clientId: 'e2e-metrics',
    reconnectPeriod: 200,
    connectTimeout: 5000,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    setTimeout(() => reject(new Error('could not connect to the hub')), 60_000).unref();
  });
});

after(async () => {
  client?.end(true);
  await master?.stop();
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

test('the tutorial traffic moves the hub and function manager counters by exactly what was sent', async () => {
  // Reports that know this client: the hub and the manager have reported since the stack is up.
  const base = counters(
    await scrapeUntil(
      'the hub and the manager to report',
      (s) => sampleOf(s, 'baetyl_hub_connections', HUB) === 5 && !Object.values(counters(s)).some(Number.isNaN),
    ),
  );
  for (let i = 0; i < 3; i++) await client.publishAsync('t', `{"id":${i + 1}}`, { qos: 0 });
  for (let i = 0; i < 2; i++) await client.publishAsync('t', `{"id":${i + 4}}`, { qos: 1 });
  // 5 messages on t reach the 4 rules. The python and node rules subscribe at QoS 0, so they get
  // every message at QoS 0 and answer at QoS 0; the sql rule (QoS 1 both ways) gets and answers
  // each at the QoS it was published with. Nothing subscribes to the answers or to t/topic.
  const expected: Record<string, number> = {
    // ours, the 3 x 5 answers of the QoS 0 rules, and the sql rule's answers to the QoS 0 three
    'hub received qos 0': 3 + 3 * 5 + 3,
    // ours, and the sql rule's answers to them
    'hub received qos 1': 2 + 2,
    // to the QoS 0 rules, and the QoS 0 three to the sql rule
    'hub sent qos 0': 3 * 5 + 3,
    'hub sent qos 1': 2,
  };
  for (const [, fn] of RULES) Object.assign(expected, { [`${fn} calls`]: 5, [`${fn} errors`]: 0, [`${fn} histogram count`]: 5, [`${fn} histogram +Inf`]: 5 });
  const moved = (s: Sample[]) => Object.fromEntries(Object.entries(counters(s)).map(([k, v]) => [k, v - base[k]!]));
  await scrapeUntil('the counters to move', (s) => Object.entries(expected).every(([k, v]) => moved(s)[k]! >= v));
  // A few more reports: they move no further.
  await sleep(3000);
  assert.deepEqual(moved((await scrape()).samples), expected);

  const { samples } = await scrape();
  for (const [, fn] of RULES)
    assert.ok((sampleOf(samples, 'baetyl_function_call_duration_seconds_sum', { ...FM, function: fn }) ?? 0) > 0, `${fn}: time was spent in calls`);
  for (const svc of ['localhub', 'function-manager']) {
    assert.equal(sampleOf(samples, 'baetyl_service_up', { service: svc, service_instance: svc }), 1);
    assert.ok((sampleOf(samples, 'baetyl_service_memory_rss_bytes', { service: svc, service_instance: svc }) ?? 0) > 10_000_000, `${svc} holds memory`);
  }
  assert.ok(
    samples.some((s) => s.name === 'baetyl_function_instances' && s.labels.function === 'node85-sayhi' && s.labels.state === 'idle' && s.value >= 1),
    'the node instance is idle',
  );
});

test('promtool check metrics accepts the exposition', async (t) => {
  if (prometheusMissing()) return t.skip('promtool is not installed');
  const { text } = await scrape();
  const r = promtoolCheck(text);
  assert.equal(r.output, '', r.output);
  assert.equal(r.status, 0);
});

test('a hub killed with SIGKILL is restarted, and counted', async () => {
  const token = readFileSync(join(workdir, 'var/run/baetyl/cli.token'), 'utf8').trim();
  const api = new MasterClient({ address: `unix://${join(workdir, 'var/run/baetyl.sock')}`, username: '@cli', password: token });
  const hub = (await api.inspect()).services.find((s) => s.name === 'localhub')!.instances[0]!;
  api.close();
  process.kill(hub.process!.id, 'SIGKILL');
  await scrapeUntil('the restart to be counted', (s) => sampleOf(s, 'baetyl_service_restarts_total', HUB) === 1 && sampleOf(s, 'baetyl_service_up', HUB) === 1);
});

test('a real Prometheus server scrapes the endpoint, and its HTTP API gives the values back', async (t) => {
  if (prometheusMissing()) return t.skip('prometheus is not installed');
  const prometheus = await startPrometheus(await freePort(), `127.0.0.1:${metricsPort}`);
  try {
    let up: Array<{ metric: Record<string, string>; value: number }> = [];
    let restarts: typeof up = [];
    let calls: typeof up = [];
    // Until Prometheus has scraped what the asserts read (on a timeout they show what it had).
    await waitFor(
      'Prometheus to have scraped the target',
      async () => {
        up = await prometheus.query('up{job="baetyl"}');
        restarts = await prometheus.query('baetyl_service_restarts_total{service="localhub"}');
        calls = await prometheus.query('sum by (function) (baetyl_function_calls_total{function="node85-sayhi"})');
        return up[0]?.value === 1 && restarts.length > 0 && calls.length > 0;
      },
      120_000,
    ).catch(() => undefined);
    assert.equal(up[0]?.value, 1, `the target is up: ${prometheus.output()}`);
    // Prometheus' own `instance` label is the target; ours is service_instance, so it is not renamed.
    assert.deepEqual(
      restarts.map((r) => [r.metric.instance, r.metric.service_instance, r.value]),
      [[`127.0.0.1:${metricsPort}`, 'localhub', 1]],
    );
    assert.deepEqual(
      calls.map((c) => c.value),
      [5],
    );
  } finally {
    await prometheus.stop();
  }
});
