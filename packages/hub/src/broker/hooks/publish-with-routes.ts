// broker.publish, replaced: every message (a client's, a will, a routed copy) goes through here,
// so that routes apply to all, and each message enters the publish order before aedes numbers it.
//
// A QoS 1 PUBLISH is published earlier, from authorizePublish (hooks/authorize-publish.ts calls
// beforeAck): aedes writes the PUBACK before it publishes, and the hub's PUBACK must mean the
// message and its routed copies are on disk. aedes then calls broker.publish with the same packet
// (broker/internals.ts, replacePublish); `publishedBeforeAck` is how that second call is known,
// and this module is the only one that reads or writes it.
import type { Aedes, Client, PublishPacket } from 'aedes';
import type { HubContext } from '../context.js';
import { nextBrokerCounter, replacePublish, type BrokerPublish, type Callback } from '../internals.js';

export class PublishWithRoutes {
  /** QoS 1 PUBLISHes stored and routed before their PUBACK, until aedes publishes them (a no-op then). */
  private readonly publishedBeforeAck = new WeakSet<object>();
  private broker: Aedes | undefined;
  private original: BrokerPublish | undefined;

  constructor(private readonly ctx: HubContext) {}

  /** Takes over the broker's publish (once the broker exists). */
  install(broker: Aedes): void {
    this.broker = broker;
    replacePublish(broker, (original) => {
      this.original = original;
      return (packet, client, done) => {
        if (this.publishedBeforeAck.delete(packet)) return done(null);
        this.publish(packet, client, done);
      };
    });
  }

  /** Publishes a client's QoS 1 message now; aedes' own publish of the same packet, after the PUBACK, does nothing. */
  beforeAck(packet: PublishPacket, client: Client, done: Callback): void {
    this.publish(packet, client, (err) => {
      if (!err) this.publishedBeforeAck.add(packet);
      done(err);
    });
  }

  private publish(packet: PublishPacket, client: Client | null, done: Callback): void {
    const order = this.ctx.store.persistence.order;
    // Entered before aedes numbers it, so that its store write cannot overtake an earlier one's.
    const counter = packet.qos > 0 && !(packet as { brokerCounter?: number }).brokerCounter ? nextBrokerCounter(this.broker!) : 0;
    if (counter) order.enter(counter);
    this.original!(packet, client, (err) => {
      if (counter) order.leave(counter);
      if (err) return done(err);
      const copies = this.ctx.routes.copiesFor(packet.topic, packet.qos);
      if (copies.length === 0) return done(null);
      let left = copies.length;
      let failed: Error | null = null;
      for (const c of copies) {
        const copy = { cmd: 'publish', topic: c.topic, payload: packet.payload, qos: c.qos, retain: false, dup: false } as PublishPacket;
        this.publish(copy, null, (e) => {
          if (e && !failed) failed = e;
          if (--left === 0) done(failed);
        });
      }
    });
  }
}
