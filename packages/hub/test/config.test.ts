// service.yml: Baetyl v1's keys and defaults, and bad files stopping the hub with a message
// that names the field.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { ConfigError } from '@baetyl/core';
import { filterCovers, findRouteCycle, parseHubConfig, type RouteConfig } from '../src/index.js';
import { openConfig, runHubExpectingExit, startHubProcess, stopProcesses, tempDir } from '@baetyl/test-support';

const route = (source: string, target: string): RouteConfig => ({ source: { topic: source, qos: 0 }, target: { topic: target, qos: 0 } });

describe('config', () => {
  after(stopProcesses);

  it('fills Baetyl v1 defaults', () => {
    const c = parseHubConfig('listen: [tcp://0.0.0.0:1883]\n', 'service.yml');
    assert.equal(c.message.length.max, 32 * 1024);
    assert.equal(c.storage.dir, 'var/db/baetyl/data');
    assert.equal(c.metrics.report.interval, 60_000);
    assert.equal(c.shutdown.timeout, 600_000);
    assert.equal(c.message.egress.qos1.retry.interval, 20_000);
    assert.equal(c.message.ingress.qos1.cleanup.retention, 48 * 3_600_000);
    assert.deepEqual(c.principals, []);
  });

  it('has the egress bounds, with their defaults and sizes', () => {
    const d = parseHubConfig('listen: [tcp://0.0.0.0:1883]\n', 'service.yml').message.egress;
    assert.deepEqual(
      { qos0: d.qos0.buffer.size, qos1: d.qos1.buffer.size, batch: d.qos1.batch.max, bytes: d.bytes.max, drain: d.drain.timeout },
      { qos0: 10000, qos1: 100, batch: 50, bytes: 8 * 1024 * 1024, drain: 30_000 },
    );
    const c = parseHubConfig('message: {egress: {bytes: {max: 2m}, drain: {timeout: 5s}}}\n', 'service.yml');
    assert.equal(c.message.egress.bytes.max, 2 * 1024 * 1024);
    assert.throws(() => parseHubConfig('message: {egress: {bytes: {max: lots}}}\n', 'service.yml'), /message\.egress\.bytes\.max/);
  });

  it('accepts every key of Baetyl v1, including the ignored ones', () => {
    const warnings: string[] = [];
    const c = parseHubConfig(
      `listen: [tcp://0.0.0.0:1883, ssl://0.0.0.0:1884, ws://0.0.0.0:8080/mqtt, wss://0.0.0.0:8884/mqtt]
certificate: {ca: ca.pem, cert: s.pem, key: s.key}
message:
  length: {max: 4m}
  ingress:
    qos0: {buffer: {size: 100}}
    qos1: {buffer: {size: 100}, batch: {max: 10}, cleanup: {retention: 1h, interval: 30s}}
  egress:
    qos0: {buffer: {size: 100}}
    qos1: {buffer: {size: 100}, batch: {max: 10}, retry: {interval: 5s}}
  offset: {buffer: {size: 10}, batch: {max: 10}}
storage: {dir: var/db/baetyl/localhub-data}
shutdown: {timeout: 30s}
metrics: {report: {interval: 10s}}
pprof: {port: 8005}
status: {logging: {enable: true, interval: 1m}}
logger: {path: var/log/baetyl/service.log, level: debug, format: json, age: {max: 3}, size: {max: 5}, backup: {max: 2}}
`,
      'service.yml',
      { onWarning: (w) => warnings.push(w) },
    );
    assert.equal(c.message.length.max, 4 * 1024 * 1024);
    // What has nothing to act on here is said, each with its line.
    assert.deepEqual(
      warnings.map((w) => /^service\.yml:(\d+):\d+: ([\w.]+): is not used: /.exec(w)?.slice(1).join(' ')),
      ['15 pprof', '6 message.ingress', '11 message.offset', '10 message.egress.qos1.retry', '16 status'],
    );
    assert.equal(c.listen.length, 4);
  });

  it('finds real route cycles only', () => {
    assert.equal(findRouteCycle([route('t', 't/topic')]), undefined);
    assert.equal(findRouteCycle([route('a/+', 'b'), route('b', 'c')]), undefined);
    assert.deepEqual(findRouteCycle([route('a', 'b'), route('b', 'a')]), [0, 1, 0]);
    assert.deepEqual(findRouteCycle([route('#', 'x')]), [0, 0]);
    assert.deepEqual(findRouteCycle([route('x', 'y'), route('y/#', 'z'), route('z', 'y')]), [1, 2, 1]);
    assert.equal(findRouteCycle([route('s/+', 'x/y'), route('x/+', 's')]), undefined);
  });

  it('covers a subscription only when the permit covers every topic it can match', () => {
    assert.ok(filterCovers('#', 'a/#'));
    assert.ok(filterCovers('a/#', 'a'));
    assert.ok(filterCovers('a/+', 'a/+'));
    assert.ok(filterCovers('a/+/#', 'a/b/c'));
    assert.ok(!filterCovers('a/+', 'a/#'));
    assert.ok(!filterCovers('a/b', 'a/+'));
    assert.ok(!filterCovers('a/b', 'a/b/#'));
    assert.ok(!filterCovers('a/+/#', 'a/#'));
  });

  const bad: Array<[string, string, RegExp]> = [
    ['a wrong type', 'listen: tcp://0.0.0.0:1883\n', /listen: expected array, got "tcp:\/\/0\.0\.0\.0:1883"/],
    ['a bad listener', 'listen: [http://0.0.0.0:1883]\n', /listen\[0\]/],
    [
      'a bad permit',
      'principals:\n  - username: u\n    password: p\n    permissions:\n      - action: sub\n        permit: ["a/#/b"]\n',
      /principals\[0\]\.permissions\[0\]\.permit\[0\]/,
    ],
    ['a bad action', 'principals:\n  - username: u\n    permissions:\n      - action: publish\n', /principals\[0\]\.permissions\[0\]\.action/],
    ['a duplicate username', 'principals:\n  - username: u\n    password: p\n  - username: u\n    password: q\n', /principals\[1\]\.username.*unique/],
    ['a route cycle', 'subscriptions:\n  - source: {topic: a}\n    target: {topic: b}\n  - source: {topic: b}\n    target: {topic: a}\n', /found cycle/],
    ['a wildcard route target', 'subscriptions:\n  - source: {topic: a}\n    target: {topic: "b/#"}\n', /subscriptions\[0\]\.target\.topic/],
    ['route QoS 2', 'subscriptions:\n  - source: {topic: a, qos: 2}\n    target: {topic: b}\n', /subscriptions\[0\]\.source\.qos/],
    ['a bad size', 'message:\n  length:\n    max: 10x\n', /message\.length\.max/],
    ['a bad duration', 'shutdown:\n  timeout: soon\n', /shutdown\.timeout/],
    ['an ssl listener without certificate', 'listen: [ssl://0.0.0.0:1884]\n', /certificate/],
    ['invalid YAML', 'listen: [tcp://0.0.0.0:1883\n', /invalid YAML/],
  ];
  for (const [what, yaml, expected] of bad) {
    it(`refuses ${what}, naming the line and the field`, () => {
      assert.throws(
        () => parseHubConfig(yaml, 'etc/baetyl/service.yml'),
        (err: Error) => {
          assert.ok(err instanceof ConfigError, String(err));
          assert.match(err.message, expected);
          assert.match(err.message, /^etc\/baetyl\/service\.yml:\d+:\d+: /m);
          return true;
        },
      );
    });
  }

  it('takes an unknown key as v1 did (ignored), with a warning naming the line and the closest known key', () => {
    const warnings: string[] = [];
    const c = parseHubConfig('listen: [tcp://0.0.0.0:1883]\nlisen: [tcp://0.0.0.0:1884]\n', 'etc/baetyl/service.yml', { onWarning: (w) => warnings.push(w) });
    assert.deepEqual(c.listen, ['tcp://0.0.0.0:1883']);
    assert.deepEqual(warnings, ['etc/baetyl/service.yml:2:1: lisen: unknown key "lisen" is ignored, as Baetyl v1 ignored it; did you mean "listen"?']);
  });

  it('the hub process runs with an unknown key and logs the warning', async () => {
    const hub = await startHubProcess({ config: openConfig(['tcp://127.0.0.1:0'], 'shutdwon:\n  timeout: 5s\n') });
    try {
      assert.match(
        hub.output(),
        /level=warn msg="[^"]*etc\/baetyl\/service\.yml:\d+:1: shutdwon: unknown key \\"shutdwon\\" is ignored, as Baetyl v1 ignored it; did you mean \\"shutdown\\"\?"/,
      );
    } finally {
      await hub.stop();
    }
  });

  // The process itself: a bad file means exit 1 and the message on stderr (one process per case).
  describe('the hub process', { concurrency: 3 }, () => {
    for (const i of [0, 5]) {
      const [what, yaml, expected] = bad[i]!;
      it(`exits 1 with the message for ${what}`, async () => {
        const { code, output } = await runHubExpectingExit({ config: yaml });
        assert.equal(code, 1, output);
        assert.match(output, expected);
        assert.match(output, /etc\/baetyl\/service\.yml:\d+:\d+/);
      });
    }
  });

  it('exits 1 when the config file is missing, and reads -c', async () => {
    const { code, output } = await runHubExpectingExit({ config: '{}', args: ['-c', 'nowhere.yml'] });
    assert.equal(code, 1);
    assert.match(output, /nowhere\.yml: cannot read the config: file not found/);
  });

  it('exits 1 when a listener port is taken', async () => {
    const blocker = net.createServer();
    await new Promise<void>((ok) => blocker.listen(0, '127.0.0.1', () => ok()));
    const port = (blocker.address() as net.AddressInfo).port;
    const { code, output } = await runHubExpectingExit({ config: openConfig([`tcp://127.0.0.1:${port}`]) });
    blocker.close();
    assert.equal(code, 1);
    assert.match(output, /already in use/);
  });

  it('exits 1 when another hub holds the storage.dir', async () => {
    const dir = tempDir('hub-test-');
    const first = await startHubProcess({ dir, config: openConfig() });
    const { code, output } = await runHubExpectingExit({ dir, config: openConfig() });
    assert.equal(code, 1);
    assert.match(output, /storage\.dir/);
    assert.equal(await first.stop(), 0);
  });
});
