import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseConfig, parseDuration, parseSize, type Schema } from '../src/index.js';

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

test('an unknown field is reported with file, line, path and the expected fields', () => {
  const text = 'mode: native\nservices:\n  - name: a\n    replicas: 2\n';
  assert.throws(
    () => parseConfig(text, 'app.yml', schema),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /^app\.yml:4:5: services\[0\]\.replicas: unknown field "replicas"; expected one of: name, replica/);
      return true;
    },
  );
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
  assert.match(warnings[0] ?? '', /NOPE is not set/);
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
  assert.throws(() => parseDuration(30), /nanoseconds/);
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
  assert.deepEqual(cfg.services, [{ name: 'a', replica: 0 }, { name: 'a', replica: 0 }]);
});
