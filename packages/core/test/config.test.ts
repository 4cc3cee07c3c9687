import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../src/config/errors.js';
import { loadConfig, parseConfig, type Schema } from '../src/config/load.js';
import { expandEnv } from '../src/config/template.js';
import { parseDuration, parseSize } from '../src/config/units.js';

const schema: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    mode: { type: 'string', enum: ['native', 'docker'], default: 'native' },
    grace: { type: ['string', 'integer'], duration: true, default: '30s' },
    max: { type: ['string', 'integer'], size: true, default: '32k' },
    services: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name'],
        properties: { name: { type: 'string' }, replica: { type: 'integer', minimum: 0, default: 0 } },
      },
    },
  },
};

test('defaults fill in, and durations and sizes convert', () => {
  const cfg = parseConfig<{ mode: string; grace: number; max: number; services: unknown[] }>('services: [{name: a}]', 'x.yml', schema);
  assert.equal(cfg.mode, 'native');
  assert.equal(cfg.grace, 30_000);
  assert.equal(cfg.max, 32 * 1024);
  assert.deepEqual(cfg.services, [{ name: 'a', replica: 0 }]);
});

test('an unknown key is a warning with file, line, path and the closest known key, and is dropped', () => {
  const warnings: string[] = [];
  const text = 'mode: native\nservices:\n  - name: a\n    replicas: 2\n';
  const cfg = parseConfig<{ services: Array<Record<string, unknown>> }>(text, 'app.yml', schema, { onWarning: (w) => warnings.push(w) });
  assert.deepEqual(cfg.services, [{ name: 'a', replica: 0 }]);
  assert.deepEqual(warnings, ['app.yml:4:5: services[0].replicas: unknown key "replicas" is ignored, as Baetyl v1 ignored it; did you mean "replica"?']);
  // Nothing close: the keys that are allowed there.
  warnings.length = 0;
  parseConfig('colour: red\n', 'a.yml', schema, { onWarning: (w) => warnings.push(w) });
  assert.deepEqual(warnings, ['a.yml:1:1: colour: unknown key "colour" is ignored, as Baetyl v1 ignored it; the keys here are: mode, grace, max, services']);
});

test('an unknown key next to a bad value: the bad value is the error, the key a warning', () => {
  const warnings: string[] = [];
  assert.throws(
    () => parseConfig('mode: dokcer\ngrac: 1s\n', 'a.yml', schema, { onWarning: (w) => warnings.push(w) }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.problems.length, 1);
      assert.match(err.message, /^a\.yml:1:7: mode: expected one of "native", "docker", got "dokcer"$/);
      return true;
    },
  );
  assert.deepEqual(warnings, ['a.yml:2:1: grac: unknown key "grac" is ignored, as Baetyl v1 ignored it; did you mean "grace"?']);
});

test('an unknown key inside one branch of an anyOf no longer decides it', () => {
  const s: Schema = {
    type: 'object',
    properties: {
      net: {
        anyOf: [
          { type: 'string' },
          { type: 'object', additionalProperties: false, properties: { alias: { type: 'string' }, wait: { type: 'string', duration: true } } },
        ],
      },
    },
  };
  const warnings: string[] = [];
  const cfg = parseConfig<{ net: { alias: string; wait: number } }>('net:\n  alias: x\n  wait: 2s\n  alais: y\n', 'n.yml', s, {
    onWarning: (w) => warnings.push(w),
  });
  // The second run starts again from the file: 2s is converted once.
  assert.deepEqual(cfg.net, { alias: 'x', wait: 2000 });
  assert.deepEqual(warnings, ['n.yml:4:3: net.alais: unknown key "alais" is ignored, as Baetyl v1 ignored it; did you mean "alias"?']);
});

test('a map of user names (additionalProperties with a schema) still checks its values', () => {
  const s: Schema = { type: 'object', properties: { env: { type: 'object', additionalProperties: { type: 'string' } } } };
  const warnings: string[] = [];
  assert.deepEqual(parseConfig('env: {ANY_NAME: x}', 'e.yml', s, { onWarning: (w) => warnings.push(w) }), { env: { ANY_NAME: 'x' } });
  assert.throws(() => parseConfig('env: {A: [1]}', 'e.yml', s), /e\.yml:1:10: env\.A: expected string, got a list/);
  assert.deepEqual(warnings, []);
});

test('a mistyped value and a bad enum are both reported', () => {
  const text = 'mode: dokcer\nservices:\n  - name: a\n    replica: many\n';
  assert.throws(
    () => parseConfig(text, 'app.yml', schema),
    (err: unknown) => {
      const msg = (err as Error).message;
      assert.match(msg, /app\.yml:1:7: mode: expected one of "native", "docker", got "dokcer"/);
      assert.match(msg, /app\.yml:4:14: services\[0\]\.replica: expected integer, got "many"/);
      return true;
    },
  );
});

test('malformed YAML names the line', () => {
  assert.throws(() => parseConfig('a: [1, 2\nb: c', 'bad.yml', schema), /bad\.yml:\d+:\d+: invalid YAML/);
});

test('a missing required field names its path', () => {
  assert.throws(() => parseConfig('services: [{replica: 1}]', 'a.yml', schema), /services\[0\]\.name: is required/);
});

test('env templating expands {{.VAR}}, and leaves the file alone when a variable is missing', () => {
  const warnings: string[] = [];
  const a = parseConfig<{ mode: string }>('mode: "{{.M}}"', 'a.yml', schema, { env: { M: 'docker' } });
  assert.equal(a.mode, 'docker');
  assert.throws(() => parseConfig('mode: "{{.NOPE}}"', 'a.yml', schema, { env: {}, onWarning: (w) => warnings.push(w) }), /got "\{\{\.NOPE\}\}"/);
  assert.match(warnings[0] ?? '', /^a\.yml: environment variable NOPE is not set, so \{\{\.NOPE\}\} in this file was not expanded/);
});

test('templating does what Go text/template does with a map of strings, as Baetyl v1 ran it', () => {
  const env = { HOST: 'edge1', EMPTY: '', WITH_EQ: 'a=b' };
  // Spaces inside the action, trim markers, comments.
  assert.deepEqual(expandEnv('a: {{ .HOST }}\nb: x  {{- .HOST -}}  y\n{{/* note */}}c: 1\n', env), { text: 'a: edge1\nb: xedge1y\nc: 1\n' });
  // A trim marker trims text, not the value next to it; "{{-3}}" is no trim marker.
  assert.equal(expandEnv('{{.HOST}}{{- .EMPTY}}!', env).text, 'edge1!');
  assert.equal(expandEnv('v: {{.WITH_EQ}}', env).text, 'v: a=b');
  // The timer's payload: no environment variable, so v1 kept the file (and so the payload) as written, with no warning.
  const timer = 'payload: "{\\"t\\": {{.Time.NowUnix}}, \\"id\\": {{.Rand.Intn 10}}}"\n';
  assert.deepEqual(expandEnv(timer, env), { text: timer });
  // The same file with an env reference: v1 still kept it raw, and we say why.
  const mixed = `host: {{.HOST}}\n${timer}`;
  const r = expandEnv(mixed, env);
  assert.equal(r.text, mixed);
  assert.match(r.warning ?? '', /the file also has \{\{\.Time\.NowUnix\}\} is not an environment variable, so \{\{\.HOST\}\} in this file was not expanded/);
  // An unclosed action does not parse in Go: raw text.
  assert.equal(expandEnv('a: {{.HOST}}\nb: "{{"\n', env).text, 'a: {{.HOST}}\nb: "{{"\n');
  assert.deepEqual(expandEnv('no templates', env), { text: 'no templates' });
});

test('loadConfig reports a missing file by name', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cfg-'));
  assert.throws(() => loadConfig(join(dir, 'nope.yml'), schema), /nope\.yml: cannot read the config: file not found/);
  writeFileSync(join(dir, 'ok.yml'), 'grace: 1m30s\n');
  assert.equal(loadConfig<{ grace: number }>(join(dir, 'ok.yml'), schema).grace, 90_000);
});

test('duration and size units', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration(30_000_000_000), 30_000);
  // A bare number is nanoseconds, as in Baetyl v1 (the loader warns below a millisecond).
  assert.equal(parseDuration(30), 30e-6);
  assert.throws(() => parseDuration('30 seconds'), /expected a duration/);
  assert.equal(parseSize('4m'), 4 * 1024 * 1024);
  assert.equal(parseSize('500M'), 500 * 1024 * 1024);
  assert.equal(parseSize('1.5k'), 1536);
  assert.equal(parseSize(100), 100);
  assert.throws(() => parseSize('lots'), /expected a size/);
});

test('YAML anchors and aliases are each validated on their own copy', () => {
  const text = 'services:\n  - &a {name: a}\n  - *a\n';
  const cfg = parseConfig<{ services: Array<{ name: string; replica: number }> }>(text, 'a.yml', schema);
  assert.deepEqual(cfg.services, [
    { name: 'a', replica: 0 },
    { name: 'a', replica: 0 },
  ]);
});

test('a bare duration under a millisecond loads as v1 loaded it (nanoseconds), with a warning at its line', () => {
  const warnings: string[] = [];
  const cfg = parseConfig<{ grace: number }>('mode: native\ngrace: 30\n', 'g.yml', schema, { onWarning: (w) => warnings.push(w) });
  assert.equal(cfg.grace, 30e-6);
  assert.deepEqual(warnings, [
    'g.yml:2:8: grace: 30 is 30 nanoseconds: a bare number here is nanoseconds (as in Baetyl v1); if you meant seconds, write "30s"',
  ]);
  warnings.length = 0;
  assert.equal(parseConfig<{ grace: number }>('grace: 30000000000\n', 'g.yml', schema, { onWarning: (w) => warnings.push(w) }).grace, 30_000);
  assert.deepEqual(warnings, []);
});
