// The manager's Prometheus metrics, as it reports them to the master (a test master records the
// reports): calls, errors, retries and timeouts of a rule, the latency histogram, instances by
// state and cold starts, from a real manager process calling real runtime processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '@baetyl/test-support';
import { rulesSubscribed, startScenario, testClient, type Scenario } from './fixtures/harness.js';

interface Family {
  name: string;
  type: string;
  values: Array<{ value: number; labels: Record<string, string | number>; metricName?: string }>;
}

function lastReport(s: Scenario): Family[] {
  const r = s.master.reports.at(-1);
  return (r?.prometheus as Family[] | undefined) ?? [];
}

function valueOf(families: Family[], name: string, labels: Record<string, string>, metricName = name): number | undefined {
  const family = families.find((f) => f.name === name);
  return family?.values.find((v) => (v.metricName ?? family.name) === metricName && Object.entries(labels).every(([k, l]) => String(v.labels[k]) === l))?.value;
}

test("a rule's calls, errors, retries and timeouts are counted per rule and function, with their latency", async () => {
  const s = await startScenario({
    services: ['function-m'],
    config: `
hub: {address: '{{HUB}}'}
rules:
  - clientid: rule-m
    subscribe: {topic: t}
    function: {name: m}
    publish: {topic: t/out}
    retry: {max: 3}
functions:
  - name: m
    service: function-m
    timeout: 1200ms
    instance: {max: 1}
metrics:
  report:
    interval: 200ms
`,
  });
  const detail = () => `${s.logs()}\n${s.master.output()}`;
  try {
    await rulesSubscribed(s, 1);
    await waitFor('a first report', () => valueOf(lastReport(s), 'baetyl_function_calls_total', { rule: 'rule-m', function: 'm' }) === 0, 30_000, detail);
    const { client, received, publish } = await testClient(s.broker.url, ['t/out'], 0);
    // One call that works, one that raises on each of its 3 attempts, one that passes the timeout 3 times.
    await publish('t', '{"op":"echo"}');
    await waitFor('the echo', () => received.length === 1, 30_000, detail);
    await publish('t', '{"op":"error"}');
    await waitFor('the error payload', () => received.length === 2, 30_000, detail);
    await publish('t', '{"op":"sleep","ms":5000}');
    await waitFor('the timeout error payload', () => received.length === 3, 60_000, detail);
    const labels = { rule: 'rule-m', function: 'm' };
    await waitFor('a report with the 7 calls', () => valueOf(lastReport(s), 'baetyl_function_calls_total', labels) === 7, 30_000, detail);
    const f = lastReport(s);
    assert.equal(valueOf(f, 'baetyl_function_errors_total', labels), 6);
    assert.equal(valueOf(f, 'baetyl_function_retries_total', labels), 4);
    assert.equal(valueOf(f, 'baetyl_function_timeouts_total', labels), 3);
    assert.equal(valueOf(f, 'baetyl_function_call_duration_seconds', labels, 'baetyl_function_call_duration_seconds_count'), 7);
    assert.equal(valueOf(f, 'baetyl_function_call_duration_seconds', { ...labels, le: '+Inf' }, 'baetyl_function_call_duration_seconds_bucket'), 7);
    // The three timeouts alone took at least 3 x 1.2 s, and fall above the 1 s bucket.
    assert.ok(valueOf(f, 'baetyl_function_call_duration_seconds', labels, 'baetyl_function_call_duration_seconds_sum')! >= 3.6);
    assert.equal(
      valueOf(f, 'baetyl_function_call_duration_seconds', { ...labels, le: '1' }, 'baetyl_function_call_duration_seconds_bucket'),
      4,
      'the 4 answered calls, not the 3 timed out',
    );
    // The first call started the first instance; two timeouts in a row replaced it (another cold start).
    assert.equal(valueOf(f, 'baetyl_function_cold_starts_total', { function: 'm' }), s.master.starts().length);
    assert.ok(s.master.starts().length >= 2, `instances started: ${s.master.starts().length}`);
    const states = ['starting', 'idle', 'busy'].map((state) => valueOf(f, 'baetyl_function_instances', { function: 'm', state }) ?? NaN);
    assert.ok(states.every((n) => n >= 0 && n <= 1) && states.reduce((a, b) => a + b) <= 1, `at most max instances: ${states.join(', ')}`);
    assert.equal(f.find((x) => x.name === 'baetyl_function_calls_total')?.type, 'counter');
    await client.endAsync();
  } finally {
    await s.cleanup();
  }
});
