// remote-mqtt's service.yml: Baetyl v1's example loads as v1 read it; problems name the file,
// line and path, at load (as `baetyl check` calls it) and when the service starts.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '@baetyl/core/config';
import { loadRemoteMqttConfig, parseRemoteMqttConfig, ruleClientIds } from '../src/config/load.js';
import { cleanUp, startBridge, tempDir } from './fixtures/procs.js';

after(cleanUp);

// var/db/baetyl/remote-iothub-conf/service.yml of v1's example/native (branch stable/1).
const V1_EXAMPLE = `hub:
  address: tcp://0.0.0.0:1883
  username: test
  password: hahaha
remotes:
  - name: iothub
    address: 'ssl://sandbox.mqtt.iot.bj.baidubce.com:8884'
    clientid: 11dd7422353c46fc8851ef8fb7114533
    username: xxxe1e0/test
    ca: var/db/baetyl/cert/ca.pem
    cert: var/db/baetyl/cert/client.pem
    key: var/db/baetyl/cert/client.key
rules:
  - hub:
      subscriptions:
        - topic: t
    remote:
      name: iothub
      subscriptions:
        - topic: t/remote
          qos: 1
logger:
  path: var/log/baetyl/service.log
  level: "debug"
`;

const FILE = '/svc/etc/baetyl/service.yml';
const problems = (text: string) => {
  try {
    parseRemoteMqttConfig(text, FILE);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('expected a ConfigError');
};

test("v1's example loads with v1's defaults and client ids", () => {
  const warnings: string[] = [];
  const cfg = parseRemoteMqttConfig(V1_EXAMPLE, FILE, { onWarning: (w) => warnings.push(w) });
  assert.deepEqual(warnings, []);
  const remote = cfg.remotes[0]!;
  assert.equal(remote.name, 'iothub');
  assert.equal(remote.clientid, '11dd7422353c46fc8851ef8fb7114533');
  assert.deepEqual(
    { k: remote.keepalive, i: remote.interval, t: remote.timeout, c: remote.cleansession, b: remote.buffersize },
    { k: 60_000, i: 60_000, t: 30_000, c: false, b: 10 },
  );
  const rule = cfg.rules[0]!;
  assert.deepEqual(rule.hub.subscriptions, [{ topic: 't', qos: 0 }]);
  assert.deepEqual(rule.remote.subscriptions, [{ topic: 't/remote', qos: 1 }]);
  // v1: the remote connection uses remotes[].clientid, and the hub one the remote's id.
  assert.deepEqual(ruleClientIds(rule, remote), { hub: '11dd7422353c46fc8851ef8fb7114533', remote: '11dd7422353c46fc8851ef8fb7114533' });
  assert.deepEqual(ruleClientIds({ ...rule, hub: { ...rule.hub, clientid: 'h' }, remote: { ...rule.remote, clientid: 'r' } }, remote), {
    hub: 'h',
    remote: 'r',
  });
  assert.deepEqual(ruleClientIds(rule, { ...remote, clientid: undefined }), { hub: 'iothub', remote: 'iothub' });
});

test('a rule naming an unknown remote is an error naming file, line and path, and the known remotes', () => {
  const msg = problems(V1_EXAMPLE.replace('      name: iothub', '      name: iohub'));
  assert.match(
    msg,
    /^\/svc\/etc\/baetyl\/service\.yml:18:13: rules\[0\]\.remote\.name: names remote "iohub", which is not defined in remotes; defined remotes: iothub$/m,
  );
});

test('a bad address scheme, a missing address, a bad topic filter, a duplicate remote: each named', () => {
  const msg = problems(
    V1_EXAMPLE.replace("'ssl://sandbox.mqtt.iot.bj.baidubce.com:8884'", 'http://cloud:80')
      .replace('        - topic: t\n', '        - topic: t/#/x\n')
      .replace('rules:', '  - name: iothub\n    address: tcp://b:1883\n  - name: other\nrules:'),
  );
  assert.match(msg, /service\.yml:7:14: remotes\[0\]\.address: "http:\/\/cloud:80" is not a broker address; use tcp:\/\/host:port or ssl:\/\/host:port/);
  assert.match(msg, /service\.yml:13:11: remotes\[1\]\.name: remote "iothub" is already defined at remotes\[0\]/);
  assert.match(msg, /service\.yml:15:5: remotes\[2\]: remote "other" needs an address/);
  assert.match(msg, /service\.yml:\d+:\d+: rules\[0\]\.hub\.subscriptions\[0\]\.topic: "t\/#\/x" is not a valid topic filter/);
});

test('two rules with one client id on a broker are an error; keys v1 never used are warnings with their line', () => {
  const twice = V1_EXAMPLE.replace('logger:', `  - remote:\n      name: iothub\n      subscriptions:\n        - topic: x\nlogger:`);
  assert.match(
    problems(twice),
    /service\.yml:22:5: rules\[1\]: the hub connection's client id "11dd7422353c46fc8851ef8fb7114533" is already used by rules\[0\]/,
  );
  assert.match(problems(twice), /rules\[1\]\.remote: the client id "11dd7422353c46fc8851ef8fb7114533" on remote "iothub" is already used by rules\[0\]/);
  const warnings: string[] = [];
  parseRemoteMqttConfig(V1_EXAMPLE.replace('  username: test\n', '  username: test\n  clientid: mine\n').replace("'ssl://sandbox", "'tcp://sandbox"), FILE, {
    onWarning: (w) => warnings.push(w),
  });
  assert.equal(warnings.length, 4, warnings.join('\n'));
  assert.match(warnings[0]!, /service\.yml:4:13: hub\.clientid: is not used: each rule's hub connection has its own id/);
  assert.match(warnings[1]!, /service\.yml:11:9: remotes\[0\]\.ca: is not used: tcp:\/\/sandbox\.mqtt\.iot\.bj\.baidubce\.com:8884 is not a TLS address/);
});

test('the service refuses a bad config at start: exit 1, the message names file, line and path', async () => {
  const dir = tempDir('rm-badcfg-');
  const bridge = startBridge(dir, V1_EXAMPLE.replace('      name: iothub', '      name: iohub'));
  const { code } = await bridge.exited;
  assert.equal(code, 1);
  assert.match(bridge.output(), /baetyl-remote-mqtt: bad config:\n.*etc\/baetyl\/service\.yml:18:13: rules\[0\]\.remote\.name: names remote "iohub"/);
  assert.throws(() => loadRemoteMqttConfig(`${dir}/nope.yml`), /nope\.yml: cannot read the config: file not found/);
});
