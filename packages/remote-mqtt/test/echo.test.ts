// The bookkeeping that keeps the bridge's own copies from being forwarded again (bridge/echo.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BrokerEchoes, ECHO_TTL, Echoes } from '../src/bridge/echo.js';

test('a copy is expected back only by the connections whose subscriptions match it, once per copy', () => {
  const broker = new BrokerEchoes();
  const a = new Echoes();
  const b = new Echoes();
  a.filters = ['a', 'up/#'];
  b.filters = ['down/+'];
  broker.add(a);
  broker.add(b);
  broker.published('a', Buffer.from('x'));
  broker.published('a', Buffer.from('x'));
  assert.equal(a.size, 2);
  assert.equal(b.size, 0);
  assert.equal(a.take('a', Buffer.from('y')), false, 'another payload is not an echo');
  assert.equal(a.take('b', Buffer.from('x')), false, 'another topic is not an echo');
  assert.equal(a.take('a', Buffer.from('x')), true);
  assert.equal(a.take('a', Buffer.from('x')), true);
  // A third identical message is someone else's: it is forwarded.
  assert.equal(a.take('a', Buffer.from('x')), false);
});

test('expected echoes expire, restart their clock when the session resumes, and go with the session', () => {
  let now = 1_000_000;
  const e = new Echoes(() => now);
  e.filters = ['t'];
  const broker = new BrokerEchoes();
  broker.add(e);
  broker.published('t', 'p');
  now += ECHO_TTL + 1;
  assert.equal(e.take('t', 'p'), false, 'too late: forwarded (at worst one duplicate)');
  broker.published('t', 'p');
  now += ECHO_TTL - 1;
  e.resumed();
  now += ECHO_TTL - 1;
  assert.equal(e.take('t', 'p'), true, 'queued by the broker while away, delivered after the reconnect');
  broker.published('t', 'p');
  e.clear();
  assert.equal(e.take('t', 'p'), false, 'a new session: nothing queued comes back');
});
