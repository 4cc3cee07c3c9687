// What each template function prints: the same text as v1's Go timer (text/template's %v).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileTemplate, cryptoRandom, type Random } from '../src/template/template.js';
import { systemClock, type Clock } from '../src/template/clock.js';
import { goFloat, goTimeString } from '../src/template/go-format.js';

const real = { clock: systemClock(), random: cryptoRandom };
const render = (t: string) => compileTemplate(t, real).render();
const many = (t: string, n = 200) => Array.from({ length: n }, () => render(t));

test(".Time.Now prints Go's time.Time String(): date, time with nanoseconds, offset, zone and monotonic reading", () => {
  // 2019-12-05 08:24:43.226785 UTC, shown in UTC+8.
  assert.equal(
    goTimeString({ unixNano: 1575534283226785000n, offsetMinutes: 480, zone: 'CST', monotonicNano: 10_012_345_678n }),
    '2019-12-05 16:24:43.226785 +0800 CST m=+10.012345678',
  );
  // No fraction at all on a whole second; a negative offset with minutes; seconds over 1e9 in m=.
  assert.equal(
    goTimeString({ unixNano: 1575534283000000000n, offsetMinutes: -210, zone: '-0330', monotonicNano: 1_234_000_000_000_000_001n }),
    '2019-12-05 04:54:43 -0330 -0330 m=+1234000000.000000001',
  );
  const out = render('{{.Time.Now}}');
  const m = /^(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)(\.\d{1,9})? ([+-]\d\d)(\d\d) \S+ m=\+\d+\.\d{9}$/.exec(out);
  assert.ok(m, out);
  const shown = Date.parse(`${m[1]}T${m[2]}${m[4]}:${m[5]}`);
  assert.ok(Math.abs(shown - Date.now()) < 5000, `${out} is now`);
});

test('.Time.Now names the zone as Go does, from the tzdata file $TZ names', async () => {
  const { loadZone } = await import('../src/template/clock.js');
  const jan = Date.UTC(2024, 0, 15) / 1000;
  const jul = Date.UTC(2024, 6, 15) / 1000;
  assert.equal(loadZone({ TZ: 'Asia/Shanghai' }).abbreviation(jan, 8 * 3600), 'CST');
  assert.equal(loadZone({ TZ: 'America/New_York' }).abbreviation(jan, -5 * 3600), 'EST');
  assert.equal(loadZone({ TZ: 'America/New_York' }).abbreviation(jul, -4 * 3600), 'EDT');
  assert.equal(loadZone({ TZ: 'Asia/Dubai' }).abbreviation(jan, 4 * 3600), '+04');
  assert.equal(loadZone({ TZ: '' }).abbreviation(jan, 0), 'UTC');
  assert.equal(loadZone({ TZ: 'No/Such_Zone' }).abbreviation(jan, 0), 'UTC');
});

test('.Time.NowUnix and .Time.NowUnixNano print the Unix time in seconds and nanoseconds', () => {
  const before = Date.now();
  const [s, ns] = render('{{.Time.NowUnix}} {{.Time.NowUnixNano}}').split(' ') as [string, string];
  assert.match(s, /^\d{10}$/);
  assert.match(ns, /^\d{19}$/);
  assert.ok(Math.abs(Number(s) * 1000 - before) < 2000);
  assert.ok(Math.abs(Number(BigInt(ns) / 1_000_000n) - before) < 2000);
  assert.equal(ns.slice(0, 10), s);
});

test('.Rand.Int and .Rand.Int63 print non-negative 63-bit integers', () => {
  for (const fn of ['Int', 'Int63']) {
    const values = many(`{{.Rand.${fn}}}`).map((v) => {
      assert.match(v, /^\d{1,19}$/);
      return BigInt(v);
    });
    assert.ok(values.every((v) => v >= 0n && v < 1n << 63n));
    // Uniform over 63 bits: most are 18-19 digits, and they differ.
    assert.ok(new Set(values).size > 190);
    assert.ok(values.some((v) => v >= 1n << 62n));
  }
});

test('.Rand.Intn N prints an integer in [0, N)', () => {
  const values = many('{{.Rand.Intn 10}}').map(Number);
  assert.ok(values.every((v) => Number.isInteger(v) && v >= 0 && v < 10));
  assert.equal(new Set(values).size, 10);
  assert.ok(many('{{.Rand.Intn 1}}', 20).every((v) => v === '0'));
  const big = many('{{.Rand.Intn 9223372036854775807}}', 20).map(BigInt);
  assert.ok(big.every((v) => v >= 0n && v < 9223372036854775807n));
});

test(".Rand.Float64 prints a float in [0, 1) in Go's %v form; .Rand.Float64n N one in [0, N)", () => {
  for (const v of many('{{.Rand.Float64}}')) {
    assert.match(v, /^(0(\.\d+)?|\d(\.\d+)?e-\d\d)$/);
    assert.ok(Number(v) >= 0 && Number(v) < 1);
  }
  for (const v of many('{{.Rand.Float64n 60}}')) {
    assert.match(v, /^\d{1,2}(\.\d+)?$|e-/);
    assert.ok(Number(v) >= 0 && Number(v) < 60);
  }
  const fixed: Random = { int63: () => 0n, below: () => 0n, float64: () => 0.5 };
  const clock: Clock = systemClock();
  assert.equal(compileTemplate('{{.Rand.Float64n 60}} {{.Rand.Float64n 2.5}} {{.Rand.Float64n 4000000}}', { clock, random: fixed }).render(), '30 1.25 2e+06');
});

test("floats print as Go's %v: shortest digits, exponent below 1e-4 and from 1e6 on", () => {
  const cases: Array<[number, string]> = [
    [0.5, '0.5'],
    [0.1, '0.1'],
    [100, '100'],
    [999999, '999999'],
    [1e6, '1e+06'],
    [1234567, '1.234567e+06'],
    [123456789, '1.23456789e+08'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [0.000012345, '1.2345e-05'],
    [1e21, '1e+21'],
    [1e100, '1e+100'],
    [-2.5, '-2.5'],
    [0, '0'],
    [0.6046602879796196, '0.6046602879796196'],
  ];
  for (const [v, want] of cases) assert.equal(goFloat(v), want, String(v));
});

test('text, comments and {{- -}} trim markers are kept as text/template does', () => {
  const fixed: Random = { int63: () => 42n, below: () => 7n, float64: () => 0.25 };
  const t = compileTemplate('a {{- .Rand.Int -}} b {{/* note */}}c {{ .Rand.Intn 10 }} "}}" {{.Rand.Float64}}', { clock: systemClock(), random: fixed });
  assert.equal(t.render(), 'a42b c 7 "}}" 0.25');
  // The v1 example's template, whole.
  const example =
    '{"datetime": "{{.Time.Now}}","time": {{.Time.NowUnix}},"timestampNano": {{.Time.NowUnixNano}},"random1": {{.Rand.Int}},"random2": {{.Rand.Int63}},"id": {{.Rand.Intn 10}},"random4": {{.Rand.Float64}},"random5": {{.Rand.Float64n 60}},"anyString": "inputString"}';
  const out = JSON.parse(render(example)) as Record<string, unknown>;
  assert.deepEqual(Object.keys(out), ['datetime', 'time', 'timestampNano', 'random1', 'random2', 'id', 'random4', 'random5', 'anyString']);
  assert.equal(out.anyString, 'inputString');
});
