// The order in which QoS 1 messages leave their store writes (src/persistence/publish-order.ts):
// each waits for the ones that entered before it, an error stays with its own message, and a
// message that ends before its write (an earlier error) does not hold the others up.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NOTHING, PublishOrder } from '../src/persistence/publish-order.js';

function deferred() {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((ok, fail) => {
    resolve = ok;
    reject = fail;
  });
  return { promise, resolve, reject };
}

const tick = () => new Promise((r) => setImmediate(r));

test('writes that finish out of order release their messages in the order they entered', async () => {
  const order = new PublishOrder();
  const writes = [deferred(), deferred(), deferred()];
  const released: number[] = [];
  writes.forEach((_, i) => order.enter(i + 1));
  writes.forEach((w, i) => void order.after(i + 1, w.promise).then(() => released.push(i + 1)));
  writes[2]!.resolve();
  writes[1]!.resolve();
  await tick();
  assert.deepEqual(released, [], 'nothing moves while the first write is pending');
  assert.equal(order.waiting, 3);
  writes[0]!.resolve();
  await tick();
  assert.deepEqual(released, [1, 2, 3]);
  assert.equal(order.waiting, 0);
});

test('a failed write rejects its own message only, in its turn', async () => {
  const order = new PublishOrder();
  const [a, b] = [deferred(), deferred()];
  order.enter(1);
  order.enter(2);
  const results: string[] = [];
  void order.after(1, a.promise).then(
    () => results.push('1 ok'),
    (e: Error) => results.push(`1 ${e.message}`),
  );
  void order.after(2, b.promise).then(() => results.push('2 ok'));
  b.resolve();
  a.reject(new Error('disk full'));
  await tick();
  assert.deepEqual(results, ['1 disk full', '2 ok']);
});

test('a message that ends before its write leaves the line; one that never entered passes as is', async () => {
  const order = new PublishOrder();
  order.enter(1);
  order.enter(2);
  const second = deferred();
  let done = false;
  void order.after(2, second.promise).then(() => (done = true));
  second.resolve();
  await tick();
  assert.equal(done, false);
  order.leave(1); // its publish failed before the store write
  await tick();
  assert.equal(done, true);
  let passed = false;
  await order.after(99, Promise.resolve()).then(() => (passed = true));
  assert.equal(passed, true);
  assert.equal(order.waiting, 0);
});

test('a message with nothing to store goes on at once when nothing is ahead of it, and waits when something is', async () => {
  const order = new PublishOrder();
  order.enter(1);
  assert.equal(order.after(1, NOTHING), NOTHING, 'no promise chain for the common case');
  assert.equal(order.waiting, 0);
  const first = deferred();
  order.enter(2);
  order.enter(3);
  const released: number[] = [];
  void order.after(2, first.promise).then(() => released.push(2));
  void order.after(3, NOTHING).then(() => released.push(3));
  await tick();
  assert.deepEqual(released, []);
  first.resolve();
  await tick();
  assert.deepEqual(released, [2, 3]);
});
