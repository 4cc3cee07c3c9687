// The timer's service.yml: v1's keys and defaults, and the errors a user sees (the corpus files: test/e2e/v1-examples-config).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '@baetyl/core/config';
import { parseTimerConfig } from '@baetyl/timer/config';
import { payloadOf } from '../src/publisher/timer.js';
import type { Clock } from '../src/template/clock.js';

const HUB = 'hub:\n  address: tcp://127.0.0.1:1883\n';

function problem(text: string): string {
  try {
    parseTimerConfig(text, '/svc/etc/baetyl/service.yml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('the config was accepted');
}

const fixedClock = (unix: number): Clock => ({
  now: () => ({ unixNano: BigInt(unix) * 1_000_000_000n + 5n, offsetMinutes: 0, zone: 'UTC', monotonicNano: 1n }),
});

test('defaults are v1\'s: interval 1m, topic "timer", QoS 0, ClientInfo defaults', () => {
  const cfg = parseTimerConfig(HUB, 'service.yml');
  assert.equal(cfg.timer.interval, 60_000);
  assert.equal(cfg.publish.topic, 'timer');
  assert.equal(cfg.publish.qos, 0);
  assert.equal(cfg.publish.payload, undefined);
  assert.equal(cfg.hub.keepalive, 60_000);
  assert.equal(cfg.hub.timeout, 30_000);
  assert.equal(cfg.hub.cleansession, false);
  assert.equal(cfg.hub.buffersize, 10);
  assert.equal(cfg.logger.level, 'info');
  // No payload: v1 0.1.x's message, the time alone.
  assert.equal(payloadOf(cfg.publish, fixedClock(1575534283)).render(), '{"time":1575534283}');
});

test('keepalive -1 is no keep-alive, and a bare integer interval is Go nanoseconds', () => {
  const cfg = parseTimerConfig(`hub:\n  address: tcp://h:1883\n  keepalive: -1\ntimer:\n  interval: 2000000000\n`, 'service.yml');
  assert.equal(cfg.hub.keepalive, 0);
  assert.equal(cfg.timer.interval, 2000);
});

test('the map form (v1 0.1.x) is published as Go\'s JSON of the map, with "time" set to the Unix time', () => {
  const cfg = parseTimerConfig(
    `${HUB}publish:\n  topic: t\n  payload:\n    id: 1\n    name: a<b&c\n    "10": ten\n    "9": nine\n    time: overwritten\n    nested: {z: 1, a: [1, 2.5, "x"]}\n`,
    'service.yml',
  );
  assert.deepEqual(typeof cfg.publish.payload, 'object');
  // Keys sorted as text, compact, HTML characters escaped, "time" a number.
  assert.equal(
    payloadOf(cfg.publish, fixedClock(1575534283)).render(),
    '{"10":"ten","9":"nine","id":1,"name":"a\\u003cb\\u0026c","nested":{"a":[1,2.5,"x"],"z":1},"time":1575534283}',
  );
});

test('a bad template is a config error naming the file, publish.payload and the action', () => {
  const cases: Array<[string, RegExp]> = [
    ['{{.Time.Today}}', /\.Time has no method Today; use one of \.Time\.Now, \.Time\.NowUnix, \.Time\.NowUnixNano/],
    ['{"id": {{.Rand.Intn}}}', /\.Rand\.Intn takes 1 number argument, got 0, like \{\{\.Rand\.Intn 10\}\}/],
    ['{{.Rand.Intn 0}}', /the argument of \.Rand\.Intn must be more than 0/],
    ['{{.Rand.Intn 2.5}}', /must be a whole number, got 2\.5/],
    ['{{.Rand.Float64n abc}}', /must be a number, got "abc"/],
    ['{"a": {{.Time.Now}', /unclosed action at character 7/],
    ['{{if .Time}}x{{end}}', /"if \.Time" is not supported; the timer's payload template knows \{\{\.Time\.Now\}\}/],
    ['{{.Time}}', /\.Time alone is not a value/],
  ];
  for (const [template, want] of cases) {
    const msg = problem(`${HUB}publish:\n  payload: '${template}'\n`);
    assert.match(msg, /^\/svc\/etc\/baetyl\/service\.yml:4:12: publish\.payload: bad template: /, msg);
    assert.match(msg, want);
  }
});

test('other mistakes name the field and say what to write', () => {
  assert.match(problem('publish:\n  topic: t\n'), /service\.yml:1:1: hub: hub\.address is required, like tcp:\/\/localhub:1883/);
  assert.match(problem(`${HUB}publish:\n  topic: a/+\n`), /service\.yml:4:10: publish\.topic: "a\/\+" is not a topic to publish on/);
  assert.match(problem(`${HUB}publish:\n  qos: 2\n`), /publish\.qos/);
  assert.match(problem(`${HUB}timer:\n  interval: 0s\n`), /timer\.interval: must be more than 0/);
  assert.match(problem(`${HUB}timer:\n  interval: soon\n`), /timer\.interval/);
  assert.match(problem(`hub:\n  address: localhost:1883\n`), /hub\.address: "localhost:1883" is not a broker address/);
});

test('the package exports its loader from the ./config subpath, for baetyl check', async () => {
  const fromPath = (await import('@baetyl/timer/config')).loadTimerConfig;
  assert.equal(typeof fromPath, 'function');
  const here = fileURLToPath(new URL('.', import.meta.url));
  assert.throws(
    () => fromPath(join(here, 'no-such.yml')),
    (e: Error) => e instanceof ConfigError && /no-such\.yml: cannot read the config: file not found/.test(e.message),
  );
});
