// Rename routes (`subscriptions`): the tutorial's t -> t/topic, QoS rules, chains, several
// routes to one target, and wildcard sources that are not cycles.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { connect, endAll, record, startHubProcess, stopProcesses, subscribe, waitFor, type HubProcess } from '@baetyl/test-support';

// The tutorial's hub config (keys the scraped page lost restored).
const config = `listen:
  - tcp://127.0.0.1:0
principals:
  - username: test
    password: hahaha
    permissions:
      - action: 'pub'
        permit: ['#']
      - action: 'sub'
        permit: ['#']
subscriptions:
  - source:
      topic: 't'
    target:
      topic: 't/topic'
  - source:
      topic: 'q1/in'
      qos: 1
    target:
      topic: 'q1/out'
      qos: 1
  - source:
      topic: 'chain/a'
    target:
      topic: 'chain/b'
  - source:
      topic: 'chain/b'
    target:
      topic: 'chain/c'
  - source:
      topic: 'many/+'
    target:
      topic: 'one'
  - source:
      topic: 'many/#'
    target:
      topic: 'one'
logger:
  path: var/log/baetyl/service.log
  level: "debug"
`;

describe('rename routes', () => {
  let hub: HubProcess;
  before(async () => {
    hub = await startHubProcess({ config });
  });
  after(async () => {
    await endAll();
    await stopProcesses();
  });
  const client = () => connect(hub.url('tcp'), { username: 'test', password: 'hahaha' });

  it('re-publishes t as t/topic, and the publisher sees both (the tutorial)', async () => {
    const c = await client();
    const got = record(c);
    await subscribe(c, '#', 0);
    await c.publishAsync('t', '{"id":1}', { qos: 0 });
    await waitFor('t and t/topic', () => got.length === 2);
    assert.deepEqual(got.map((m) => [m.topic, m.payload]).sort(), [
      ['t', '{"id":1}'],
      ['t/topic', '{"id":1}'],
    ]);
  });

  it('routes with QoS target.qos only when min(message QoS, source.qos) is 1', async () => {
    const c = await client();
    const got = record(c);
    await subscribe(c, ['q1/out', 't/topic'], 1);
    await c.publishAsync('q1/in', 'one', { qos: 1 });
    await waitFor('q1/out', () => got.length === 1);
    assert.equal(got[0]!.qos, 1);
    await c.publishAsync('q1/in', 'zero', { qos: 0 });
    await waitFor('the second q1/out', () => got.length === 2);
    assert.equal(got[1]!.qos, 0);
    // t -> t/topic has source and target QoS 0, so a QoS 1 message comes out at QoS 0.
    await c.publishAsync('t', 'x', { qos: 1 });
    await waitFor('t/topic', () => got.length === 3);
    assert.deepEqual([got[2]!.topic, got[2]!.qos], ['t/topic', 0]);
  });

  it('follows chains of routes', async () => {
    const c = await client();
    const got = record(c);
    await subscribe(c, 'chain/#', 0);
    await c.publishAsync('chain/a', 'go');
    await waitFor('a, b and c', () => got.length === 3);
    assert.deepEqual(got.map((m) => m.topic).sort(), ['chain/a', 'chain/b', 'chain/c']);
  });

  it('sends one copy when several routes share a target', async () => {
    const c = await client();
    const got = record(c);
    await subscribe(c, ['one', 'end'], 0);
    await c.publishAsync('many/x', 'once');
    await c.publishAsync('end', 'end');
    await waitFor('the marker', () => got.some((m) => m.topic === 'end'));
    await waitFor('the routed copy', () => got.some((m) => m.topic === 'one'));
    await c.publishAsync('end', 'end');
    await waitFor('a second marker', () => got.filter((m) => m.topic === 'end').length === 2);
    assert.equal(got.filter((m) => m.topic === 'one').length, 1);
  });

  it('writes its own log at logger.path', () => {
    const log = readFileSync(join(hub.dir, 'var/log/baetyl/service.log'), 'utf8');
    assert.match(log, /level=info msg="hub started"/);
    assert.match(log, /level=debug msg="client connected"/);
  });
});
