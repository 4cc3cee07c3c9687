// The merge of reported registries (src/metrics/exposition.ts): real prom-client registries, their
// JSON taken through JSON text as a report carries it, merged and read back as text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import { mergeExposition } from '../src/metrics/exposition.js';
import { checkMetricFamilies, type MetricFamily } from '../src/metrics/report.js';

/** A registry's JSON as the master receives it: through JSON text, then checked. */
async function reported(registry: Registry): Promise<MetricFamily[]> {
  return checkMetricFamilies(JSON.parse(JSON.stringify({ prometheus: await registry.getMetricsAsJSON() })).prometheus);
}

function hubLike(received: number, quote = false): Registry {
  const r = new Registry();
  const c = new Counter({ name: 'x_messages_total', help: 'Messages.\nSecond line with a \\ backslash.', labelNames: ['qos'], registers: [r] });
  c.inc({ qos: quote ? 'a "b"\nc' : '1' }, received);
  new Gauge({ name: 'x_connections', help: 'Connections.', registers: [r] }).set(2);
  return r;
}

test('every source gets its labels; a family reported by several is written once, with all their series', async () => {
  const text = await mergeExposition([
    { labels: { service: 'localhub', service_instance: 'localhub' }, families: await reported(hubLike(5)) },
    { labels: { service: 'localhub', service_instance: 'localhub.i1' }, families: await reported(hubLike(7)) },
  ]);
  assert.equal(text.match(/^# TYPE x_messages_total counter$/gm)?.length, 1);
  assert.equal(text.match(/^# HELP x_messages_total Messages\.\\nSecond line with a \\\\ backslash\.$/gm)?.length, 1);
  assert.match(text, /^x_messages_total\{qos="1",service="localhub",service_instance="localhub"\} 5$/m);
  assert.match(text, /^x_messages_total\{qos="1",service="localhub",service_instance="localhub\.i1"\} 7$/m);
  assert.match(text, /^x_connections\{service="localhub",service_instance="localhub\.i1"\} 2$/m);
  // The two families stay in one block each: every series of a family follows its TYPE line.
  const blocks = text
    .split('\n\n')
    .map((b) => b.trim())
    .filter(Boolean);
  assert.equal(blocks.length, 2);
});

test('label values are escaped, and the source labels replace reported ones of the same name', async () => {
  const r = hubLike(1, true);
  new Gauge({ name: 'x_owned', help: 'A gauge that names its own service.', labelNames: ['service'], registers: [r] }).set({ service: 'liar' }, 1);
  const text = await mergeExposition([{ labels: { service: 'hub' }, families: await reported(r) }]);
  assert.match(text, /^x_messages_total\{qos="a \\"b\\"\\nc",service="hub"\} 1$/m);
  assert.match(text, /^x_owned\{service="hub"\} 1$/m);
});

test('a histogram keeps its buckets (+Inf included), sum and count per source', async () => {
  const sources = [];
  for (const [instance, values] of [
    ['a', [0.002, 0.2]],
    ['b', [3]],
  ] as const) {
    const r = new Registry();
    const h = new Histogram({ name: 'x_call_duration_seconds', help: 'Calls.', labelNames: ['function'], buckets: [0.01, 1], registers: [r] });
    for (const v of values) h.observe({ function: 'f' }, v);
    sources.push({ labels: { service_instance: instance }, families: await reported(r) });
  }
  const text = await mergeExposition(sources);
  assert.equal(text.match(/^# TYPE x_call_duration_seconds histogram$/gm)?.length, 1);
  assert.match(text, /^x_call_duration_seconds_bucket\{le="0\.01",function="f",service_instance="a"\} 1$/m);
  assert.match(text, /^x_call_duration_seconds_bucket\{le="1",function="f",service_instance="a"\} 2$/m);
  assert.match(text, /^x_call_duration_seconds_bucket\{le="\+Inf",function="f",service_instance="b"\} 1$/m);
  assert.match(text, /^x_call_duration_seconds_count\{function="f",service_instance="a"\} 2$/m);
  assert.match(text, /^x_call_duration_seconds_sum\{function="f",service_instance="b"\} 3$/m);
});

test('a family whose type differs from the first source is left out, not mixed in', async () => {
  const a = new Registry();
  new Gauge({ name: 'x_thing', help: 'A gauge.', registers: [a] }).set(1);
  const b = new Registry();
  new Counter({ name: 'x_thing', help: 'A counter.', registers: [b] }).inc(9);
  const text = await mergeExposition([
    { labels: { service: 'a' }, families: await reported(a) },
    { labels: { service: 'b' }, families: await reported(b) },
  ]);
  assert.match(text, /^# TYPE x_thing gauge$/m);
  assert.match(text, /^x_thing\{service="a"\} 1$/m);
  assert.doesNotMatch(text, /service="b"/);
});

test('a bad report is refused, saying where and what', () => {
  const bad: Array<[unknown, RegExp]> = [
    [{}, /^prometheus: must be an array of metric families/],
    [[{ name: 'bad name', help: '', type: 'gauge', values: [] }], /^prometheus\[0\]\.name: must be a Prometheus metric name, got "bad name"/],
    [[{ name: 'x', help: '', type: 'untyped', values: [] }], /^prometheus\[0\]\.type: must be one of counter, gauge, histogram, summary/],
    [[{ name: 'x', help: '', type: 'gauge', values: [{ value: '1', labels: {} }] }], /^prometheus\[0\]\.values\[0\]\.value: must be a number/],
    [
      [{ name: 'x', help: '', type: 'gauge', values: [{ value: 1, labels: { 'a-b': '1' } }] }],
      /^prometheus\[0\]\.values\[0\]\.labels: "a-b" is not a Prometheus label name/,
    ],
    [
      [{ name: 'x', help: '', type: 'histogram', values: [{ value: 1, labels: {}, metricName: 'y_count' }] }],
      /^prometheus\[0\]\.values\[0\]\.metricName: must be a metric name that starts with x/,
    ],
  ];
  for (const [value, message] of bad) assert.throws(() => checkMetricFamilies(value), { message });
  // A NaN gauge reaches the master as null: that series is left out, the rest is kept.
  const ok = checkMetricFamilies([
    {
      name: 'x',
      help: 'h',
      type: 'gauge',
      values: [
        { value: null, labels: {} },
        { value: 1, labels: { a: 'b' } },
      ],
    },
  ]);
  assert.deepEqual(ok[0]!.values, [{ value: 1, labels: { a: 'b' } }]);
});
