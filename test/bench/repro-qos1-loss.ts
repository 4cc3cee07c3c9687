// Reproduces the QoS 1 loss seen in the pipelines with the hub alone (docs/performance.md):
// a persistent-session QoS 1 subscriber that acknowledges late (as the function manager's rules
// do) between a publisher and a subscriber. Usage: node test/dist/bench/repro-qos1-loss.js [aedes]
import { HUB_USER, startHub, startPlainAedes } from './support/procs.js';
import { binaryCodec, runLoad } from './load/run.js';
import { RawClient } from './wire/client.js';

const plain = process.argv[2] === 'aedes';
const broker = plain ? await startPlainAedes() : await startHub();
const auth = plain ? {} : HUB_USER;
const persistent = process.argv[3] !== 'clean';
const relay: RawClient = new RawClient({
  port: broker.port,
  clientId: 'rule-like',
  persistent,
  manualAck: true,
  ...auth,
  onMessage: (m) => {
    const payload = Buffer.from(m.payload);
    // Output first, then the input's PUBACK, a few milliseconds later, out of order.
    setTimeout(() => {
      relay.publish('bench/out', payload, 1);
      relay.ack(m.id!);
    }, Math.random() * 20);
  },
});
await relay.connect();
await relay.subscribe('bench/in', 1);
for (let i = 0; i < 2; i++) {
  const r = await runLoad({
    port: broker.port,
    ...auth,
    publishers: 1,
    subscribers: 1,
    pubTopic: 'bench/in',
    subTopic: 'bench/out',
    qos: 1,
    subQos: 1,
    codec: binaryCodec(),
    window: 200,
    warmupMs: 500,
    measureMs: 2000,
  });
  console.log(
    `${plain ? 'plain aedes' : 'our hub'}, ${persistent ? 'persistent' : 'clean'} relay: sent ${r.sent}, lost ${r.lost}, first lost: ${r.lostSample.join(' ')}`,
  );
}
relay.close();
await broker.stop();
