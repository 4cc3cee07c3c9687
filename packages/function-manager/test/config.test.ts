import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@baetyl/core';
import { removeTempDirs, serviceDir, startNodeService, waitFor } from '@baetyl/test-support';
import { loadFunctionManagerConfig, parseFunctionManagerConfig } from '../src/config/load.js';
import { messageLengthMax } from '../src/config/schema.js';
import { MANAGER_MAIN } from './fixtures/harness.js';

// The tutorial's function manager service.yml, with the keys its scrape lost put back.
const TUTORIAL = `
hub:
  address: tcp://localhub:1883
  username: test
  password: hahaha
rules:
  - clientid: func-python27-sayhi-1
    subscribe:
      topic: t
    function:
      name: python27-sayhi
    publish:
      topic: t/py2hi
  - clientid: func-sql-filter-1
    subscribe:
      topic: t
      qos: 1
    function:
      name: sql-filter
    publish:
      topic: t/sqlfilter
      qos: 1
functions:
  - name: python27-sayhi
    service: function-python27-sayhi
    instance:
      min: 0
      max: 10
  - name: sql-filter
    service: function-sql-filter
logger:
  path: var/log/baetyl/service.log
  level: "debug"
`;

function problem(text: string): string {
  try {
    parseFunctionManagerConfig(text, 'service.yml');
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.message;
  }
  assert.fail('the config was accepted');
}

test('the tutorial config loads with Baetyl defaults', () => {
  const cfg = parseFunctionManagerConfig(TUTORIAL, 'service.yml');
  assert.equal(cfg.hub.cleansession, false);
  assert.equal(cfg.hub.timeout, 30_000);
  assert.equal(cfg.hub.interval, 60_000);
  assert.equal(cfg.hub.keepalive, 600_000);
  assert.equal(cfg.hub.buffersize, 10);
  assert.equal(cfg.hub.validatesubs, false);
  const [py, sql] = cfg.rules;
  assert.deepEqual(py!.subscribe, { topic: 't', qos: 0 });
  assert.deepEqual(py!.publish, { topic: 't/py2hi', qos: 0 });
  assert.equal(py!.retry.max, 3);
  assert.deepEqual(sql!.subscribe, { topic: 't', qos: 1 });
  assert.deepEqual(sql!.publish, { topic: 't/sqlfilter', qos: 1 });
  const [f1, f2] = cfg.functions;
  assert.deepEqual({ min: f1!.instance.min, max: f1!.instance.max }, { min: 0, max: 10 });
  assert.deepEqual(
    { min: f2!.instance.min, max: f2!.instance.max, idle: f2!.instance.idletime, evict: f2!.instance.evicttime },
    { min: 0, max: 1, idle: 600_000, evict: 60_000 },
  );
  assert.equal(f2!.timeout, 30_000);
  assert.equal(f2!.backoff.max, 60_000);
  assert.equal(messageLengthMax(f2!), 4 * 1024 * 1024);
  assert.equal(cfg.logger.level, 'debug');
});

test('every key Baetyl v1 accepts is accepted, including server and instance.message', () => {
  const text = `
hub:
  address: ssl://localhub:1884
  username: u
  password: p
  ca: var/db/baetyl/cert/ca.pem
  key: var/db/baetyl/cert/client.key
  cert: var/db/baetyl/cert/client.pem
  insecure: true
  clientid: ignored
  cleansession: true
  timeout: 10s
  interval: 2m
  keepalive: 30s
  buffersize: 20
  validatesubs: true
  subscriptions: [{topic: x, qos: 1}]
rules:
  - clientid: r1
    subscribe: {topic: 'a/+/c', qos: 1}
    function: {name: f}
    publish: {topic: out, qos: 1}
    retry: {max: 5}
functions:
  - name: f
    service: svc
    instance: {min: 1, max: 3, idletime: 1s, evicttime: 500ms, message: {length: {max: 1m}}}
    backoff: {max: 5s}
    timeout: 2s
server:
  address: 0.0.0.0:50051
  timeout: 1m
  message: {length: {max: 8m}}
  concurrent: {max: 10}
  workers: {max: 4}
  ca: a
  key: b
  cert: c
logger:
  path: var/log/baetyl/service.log
  level: info
`;
  const cfg = parseFunctionManagerConfig(text, 'service.yml');
  assert.equal(cfg.rules[0]!.retry.max, 5);
  assert.equal(cfg.functions[0]!.instance.idletime, 1000);
  // Baetyl's docs put message.length.max under instance; it is honoured when the right key is absent.
  assert.equal(messageLengthMax(cfg.functions[0]!), 1024 * 1024);
  assert.equal(cfg.server.message.length.max, 8 * 1024 * 1024);
  assert.equal(cfg.hub.keepalive, 30_000);
});

test('a rule naming an unknown function is an error naming the rule and the function', () => {
  const text = TUTORIAL.replace('name: sql-filter\n    publish', 'name: sql-filtre\n    publish');
  const msg = problem(text);
  assert.match(
    msg,
    /service\.yml:\d+:\d+: rules\[1\]\.function\.name: rule "func-sql-filter-1" names function "sql-filtre", which is not defined in functions; defined functions: python27-sayhi, sql-filter/,
  );
});

test('bad topics are errors that say why', () => {
  const text = TUTORIAL.replace('topic: t/py2hi', "topic: 't/+/x'").replace(
    'subscribe:\n      topic: t\n      qos: 1',
    "subscribe:\n      topic: 't/#/x'\n      qos: 1",
  );
  const msg = problem(text);
  assert.match(
    msg,
    /rules\[0\]\.publish\.topic: rule "func-python27-sayhi-1": "t\/\+\/x" is not a valid topic to publish on: a topic name cannot contain the wildcards/,
  );
  assert.match(msg, /rules\[1\]\.subscribe\.topic: rule "func-sql-filter-1": "t\/#\/x" is not a valid topic filter: # must be a whole level, and the last one/);
  assert.match(problem(TUTORIAL.replace('topic: t/py2hi', 'topic: $SYS/x')), /topics starting with \$ are reserved/);
  assert.match(problem(TUTORIAL.replace('topic: t/py2hi', `topic: ${'a/'.repeat(9)}b`)), /at most 9 levels/);
});

test('QoS 2, min above max and a missing hub address are refused', () => {
  assert.match(problem(TUTORIAL.replace('qos: 1\n    function', 'qos: 2\n    function')), /rules\[1\]\.subscribe\.qos: expected one of 0, 1, got number 2/);
  assert.match(problem(TUTORIAL.replace('min: 0', 'min: 20')), /functions\[0\]\.instance\.min: min \(20\) is more than max \(10\)/);
  assert.match(problem(TUTORIAL.replace('address: tcp://localhub:1883', 'clientid: x')), /hub: hub\.address is required when there are rules/);
  assert.match(problem(TUTORIAL.replace('tcp://localhub:1883', 'localhub:1883')), /hub\.address: "localhub:1883" is not a broker address/);
  assert.match(
    problem(TUTORIAL.replace('func-sql-filter-1', 'func-python27-sayhi-1')),
    /rules\[1\]\.clientid: clientid "func-python27-sayhi-1" is already used by rules\[0\]/,
  );
  assert.match(
    problem(TUTORIAL.replace('- name: sql-filter', '- name: python27-sayhi')),
    /functions\[1\]\.name: function "python27-sayhi" is already defined at functions\[0\]/,
  );
  const shared = TUTORIAL.replace('password: hahaha', 'password: hahaha\n  clientid: fm')
    .replace('- clientid: func-python27-sayhi-1\n   ', '-')
    .replace('- clientid: func-sql-filter-1\n   ', '-');
  assert.match(problem(shared), /rules\[1\]: clientid "fm" \(from hub\.clientid\) is already used by rules\[0\]/);
});

test('server: the address must be host:port, tcp:// or unix://, and TLS needs key and cert together', () => {
  const fn = 'functions:\n  - name: f\n    service: svc\n';
  const ok = (server: string) => parseFunctionManagerConfig(`${fn}server:\n${server}`, 'service.yml').server;
  assert.equal(ok('  address: tcp://0.0.0.0:50050\n').timeout, 120_000);
  assert.equal(ok('  address: unix://var/run/fm.sock\n').address, 'unix://var/run/fm.sock');
  assert.equal(ok('  address: "[::1]:50050"\n').address, '[::1]:50050');
  assert.match(
    problem(`${fn}server:\n  address: http://x:1\n`),
    /service\.yml:5:12: server\.address: "http:\/\/x:1" is not an address to listen on; use host:port \(like 0\.0\.0\.0:50050\), tcp:\/\/host:port or unix:\/\/path/,
  );
  assert.match(problem(`${fn}server:\n  address: x:99999\n`), /server\.address: "x:99999" is not an address/);
  assert.match(problem(`${fn}server:\n  address: x:1\n  key: k\n`), /server: TLS needs both server\.key and server\.cert/);
  assert.match(
    problem(`${fn}server:\n  address: x:1\n  ca: c\n`),
    /server\.ca: server\.ca checks client certificates over TLS, which needs server\.key and server\.cert too/,
  );
  assert.match(problem(`${fn}server:\n  key: k\n  cert: c\n`), /server: server\.ca\/cert\/key are set but server\.address is not/);
  assert.match(problem(`${fn}server:\n  address: x:1\n  timeout: 0s\n`), /server\.timeout: must be more than 0/);
});

test('a missing file is a ConfigError, and main exits 1 with the message on stderr', () => {
  assert.throws(() => loadFunctionManagerConfig('/nonexistent/service.yml'), /cannot read the config: file not found/);
  const dir = mkdtempSync(join(tmpdir(), 'fm-config-'));
  try {
    mkdirSync(join(dir, 'etc/baetyl'), { recursive: true });
    writeFileSync(join(dir, 'etc/baetyl/service.yml'), TUTORIAL.replace('name: sql-filter\n    publish', 'name: nope\n    publish'));
    const res = spawnSync(process.execPath, [MANAGER_MAIN], { cwd: dir, encoding: 'utf8', timeout: 20_000 });
    assert.equal(res.status, 1);
    assert.match(res.stderr, /etc\/baetyl\/service\.yml:\d+:\d+: rules\[1\]\.function\.name: rule "func-sql-filter-1" names function "nope"/);
    // -c picks another file, relative to the working directory.
    writeFileSync(join(dir, 'other.yml'), 'rules: []\nfunctions: []\nhub: {keepalive: soon}\n');
    const res2 = spawnSync(process.execPath, [MANAGER_MAIN, '-c', 'other.yml'], { cwd: dir, encoding: 'utf8', timeout: 20_000 });
    assert.equal(res2.status, 1);
    assert.match(res2.stderr, /other\.yml:3:18: hub\.keepalive: expected a duration like "30s"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('instance.concurrency (our extension) is left unset by default (the pool then takes 8, deeper for a fast batch); a bad value is an error that says what is allowed', () => {
  const cfg = parseFunctionManagerConfig(TUTORIAL, 'service.yml');
  assert.equal(cfg.functions[0]!.instance.concurrency, undefined);
  const one = parseFunctionManagerConfig(TUTORIAL.replace('max: 10', 'max: 10\n      concurrency: 1'), 'service.yml');
  assert.equal(one.functions[0]!.instance.concurrency, 1);
  assert.match(problem(TUTORIAL.replace('max: 10', 'max: 10\n      concurrency: 0')), /functions\[0\]\.instance\.concurrency: must be >= 1, got number 0/);
  assert.match(problem(TUTORIAL.replace('max: 10', 'max: 10\n      concurrency: 2.5')), /functions\[0\]\.instance\.concurrency: expected integer/);
  assert.match(problem(TUTORIAL.replace('max: 10', 'max: 10\n      concurrency: many')), /functions\[0\]\.instance\.concurrency: expected integer, got "many"/);
});

test('a certificate on a plain tcp:// hub address does nothing, so it is a warning naming its line', () => {
  const warnings: string[] = [];
  parseFunctionManagerConfig('hub:\n  address: tcp://localhub:1883\n  ca: var/db/baetyl/cert/ca.pem\n', 'service.yml', { onWarning: (w) => warnings.push(w) });
  assert.deepEqual(warnings, ['service.yml:3:7: hub.ca: is not used: tcp://localhub:1883 is not a TLS address; use ssl:// (or wss://) to connect with TLS']);
});

test('an unknown key is a warning naming the line and the closest known key; the config loads without it', () => {
  const warnings: string[] = [];
  const cfg = parseFunctionManagerConfig(TUTORIAL.replace('max: 10', 'max: 10\n      maxx: 3'), 'service.yml', { onWarning: (w) => warnings.push(w) });
  assert.equal(cfg.functions[0]!.instance.max, 10);
  assert.ok(!('maxx' in cfg.functions[0]!.instance));
  assert.equal(warnings.length, 1);
  assert.match(
    warnings[0]!,
    /^service\.yml:\d+:7: functions\[0\]\.instance\.maxx: unknown key "maxx" is ignored, as Baetyl v1 ignored it; did you mean "max"\?$/,
  );
});

test('the function manager process logs an unknown key as a warning and starts', async () => {
  const dir = serviceDir('rules: []\nfunctions: []\nhub:\n  keepalvie: 10s\n', { prefix: 'fm-warn-' });
  const p = startNodeService(MANAGER_MAIN, dir, { name: 'the function manager' });
  try {
    const warning =
      /level=warn msg="[^"]*etc\/baetyl\/service\.yml:4:3: hub\.keepalvie: unknown key \\"keepalvie\\" is ignored, as Baetyl v1 ignored it; did you mean \\"keepalive\\"\?"/;
    const started = /msg="function manager started: 0 rule\(s\), 0 function\(s\)"/;
    await waitFor('the manager to start or exit', () => started.test(p.output()) || !p.alive(), 30_000, p.output);
    const out = p.output();
    assert.match(out, warning);
    // Started (with no rules it then has nothing to do, and may exit 0 on its own).
    assert.match(out, started);
    assert.ok(out.search(warning) < out.search(started), out);
    assert.notEqual(p.proc.exitCode, 1, out);
  } finally {
    await p.stop();
    removeTempDirs();
  }
});

test("hub.message.length.max (ours) is the hub's limit on a packet: unset unless set (see hub-limit), a size, at least 64 bytes", () => {
  const cfg = parseFunctionManagerConfig(TUTORIAL, 'service.yml');
  assert.equal(cfg.hub.message.length.max, undefined);
  const big = parseFunctionManagerConfig(TUTORIAL.replace('hub:\n', 'hub:\n  message:\n    length:\n      max: 1m\n'), 'service.yml');
  assert.equal(big.hub.message.length.max, 1024 * 1024);
  assert.match(
    problem(TUTORIAL.replace('hub:\n', 'hub:\n  message:\n    length:\n      max: 10\n')),
    /hub\.message\.length\.max: 10 bytes is not a packet size a hub can have; set the hub's message\.length\.max/,
  );
});
