import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { closeLogger, createLogger } from '../src/log/logger.js';
import { writeAged } from '@baetyl/test-support';

test('text logs are logrus key=value lines with sorted extra fields', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'log-'));
  const log = createLogger({ path: join(dir, 'x', 'baetyl.log'), level: 'debug' }, { baetyl: 'master' }, { stderr: false });
  log.info('instance started', { service: 'localhub', instance: 'localhub', engine: 'native' });
  log.debug('plain');
  await closeLogger(log);
  const lines = readFileSync(join(dir, 'x', 'baetyl.log'), 'utf8')
    .trim()
    .split('\n');
  assert.match(lines[0]!, /^time=\S+ level=info msg="instance started" baetyl=master engine=native instance=localhub service=localhub$/);
  assert.match(lines[1]!, /level=debug msg=plain baetyl=master$/);
});

test('json logs carry the same fields', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'log-'));
  const log = createLogger({ path: join(dir, 'a.log'), format: 'json', level: 'info' }, { baetyl: 'master' }, { stderr: false });
  log.warn('careful', { k: 1 });
  log.debug('hidden');
  await closeLogger(log);
  const lines = readFileSync(join(dir, 'a.log'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 1);
  const rec = JSON.parse(lines[0]!);
  assert.equal(rec.level, 'warn');
  assert.equal(rec.message, 'careful');
  assert.equal(rec.baetyl, 'master');
  assert.equal(rec.k, 1);
});

test('lines below the level are dropped before formatting; children and a later level change follow', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'log-'));
  const log = createLogger({ path: join(dir, 'l.log'), level: 'warn' }, { baetyl: 'x' }, { stderr: false });
  const child = log.child({ rule: 'r1' });
  let formatted = 0;
  const fields = {
    get k() {
      formatted++;
      return 'v';
    },
  };
  log.info('dropped', fields);
  child.debug('dropped too', fields);
  assert.equal(formatted, 0, 'a dropped line never reaches the formatter');
  child.error('kept', { n: 1 });
  log.level = 'debug';
  child.debug('now kept');
  await closeLogger(log);
  const lines = readFileSync(join(dir, 'l.log'), 'utf8').trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0]!, /level=error msg=kept baetyl=x n=1 rule=r1$/);
  assert.match(lines[1]!, /level=debug msg="now kept" baetyl=x rule=r1$/);
});

test('logger.age.max: backups last written longer ago are removed at start, never the log itself', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'log-age-'));
  const old = (name: string, days: number) => writeAged(dir, name, days);
  old('service.log', 30);
  old('service1.log', 1);
  old('service2.log.gz', 4);
  old('service3.log', 40);
  old('other1.log', 40);
  const log = createLogger({ path: join(dir, 'service.log'), age: { max: 3 } }, {}, { stderr: false });
  log.info('hello');
  await closeLogger(log);
  assert.deepEqual(readdirSync(dir).sort(), ['other1.log', 'service.log', 'service1.log']);
});

test('logger.encoding does nothing here, and the log says so', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'log-enc-'));
  const log = createLogger({ path: join(dir, 'a.log'), encoding: 'console' }, {}, { stderr: false });
  await closeLogger(log);
  assert.match(readFileSync(join(dir, 'a.log'), 'utf8'), /level=warn msg="logger\.encoding \(\\"console\\"\) is not used: logger\.format sets text or json"/);
});
