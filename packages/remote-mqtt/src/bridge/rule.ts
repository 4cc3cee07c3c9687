// One rule: a connection to the hub and one to a remote broker (each with the client id v1 gave
// it), and a copy of every message either one receives published on the other.
//
// QoS 1 end to end: a message is acknowledged to its source broker only when the other broker
// has acknowledged the copy (deferAcks), so a message the bridge had not finished with when it
// died or lost a connection is sent again by its source broker (persistent sessions).
//
// Reading is never held waiting for the other side: a held read loop would stop this connection
// from reading its own PUBACKs and PINGRESPs (MQTT.js handles packets in order), and two rules
// waiting on each other that way would never move again. While the other side is down, up to its
// `buffersize` copies wait in memory for it; beyond that, messages stay with their source broker
// (QoS 1: not acknowledged; QoS 0 is at most once and is dropped), and once the other side is
// back the source connection reconnects, which makes its broker send them again.
import type { Logger } from '@baetyl/core/log';
import type { ClientInfo, Delivery } from '@baetyl/core/mqtt';
import { ruleClientIds, type RemoteConfig, type RuleConfig } from '../config/load.js';
import { Connection } from './connection.js';
import type { BrokerEchoes } from './echo.js';

export interface RuleContext {
  index: number;
  hub: ClientInfo;
  remote: RemoteConfig;
  remoteIndex: number;
  /** The echo registry of a broker: `hub`, or `remote:<name>`. */
  broker(key: string): BrokerEchoes;
  cwd: string;
  log: Logger;
}

export class BridgeRule {
  readonly hub: Connection;
  readonly remote: Connection;
  private readonly log: Logger;
  /** Sides that are down with a full buffer, for one log line per outage. */
  private readonly full = new Set<Connection>();

  constructor(rule: RuleConfig, ctx: RuleContext) {
    const ids = ruleClientIds(rule, ctx.remote);
    this.log = ctx.log.child({ rule: String(ctx.index), remote: ctx.remote.name });
    this.hub = new Connection(
      { name: 'hub', info: ctx.hub, clientid: ids.hub, subscriptions: rule.hub.subscriptions, cwd: ctx.cwd, block: 'hub', broker: ctx.broker('hub') },
      this.log,
    );
    this.remote = new Connection(
      {
        name: `remote "${ctx.remote.name}"`,
        info: ctx.remote,
        clientid: ids.remote,
        subscriptions: rule.remote.subscriptions,
        cwd: ctx.cwd,
        block: `remotes[${ctx.remoteIndex}]`,
        broker: ctx.broker(`remote:${ctx.remote.name}`),
      },
      this.log,
    );
    this.link(this.hub, this.remote);
    this.link(this.remote, this.hub);
  }

  start(): void {
    this.hub.start();
    this.remote.start();
  }

  async close(): Promise<void> {
    await Promise.all([this.hub.close(), this.remote.close()]);
  }

  private link(from: Connection, to: Connection): void {
    from.onMessage = (delivery, next) => this.forward(from, to, delivery, next);
    to.onOnline = () => {
      this.full.delete(to);
      if (from.leftWithBroker) from.redeliver();
    };
  }

  private forward(from: Connection, to: Connection, delivery: Delivery, next: () => void): void {
    const { packet } = delivery;
    const qos = packet.qos > 0 ? 1 : 0;
    if (!to.connected && to.pending >= Math.max(1, to.spec.info.buffersize)) {
      if (!this.full.has(to)) {
        this.full.add(to);
        this.log.warn(
          `the ${to.spec.name} is down and ${to.pending} message(s) wait for it; until it is back, QoS 1 messages stay with the ${from.spec.name} and QoS 0 ones are dropped`,
        );
      }
      if (qos === 1) from.markLeft(delivery.connection);
      delivery.settle();
      next();
      return;
    }
    to.publish(packet.topic, packet.payload as Buffer, qos, packet.retain).then(
      () => {
        if (!delivery.ack())
          this.log.debug(`message ${packet.messageId} forwarded, but its connection to the ${from.spec.name} is gone: it will be sent again`);
      },
      (err: Error) => {
        delivery.settle();
        this.log.warn(`message on ${packet.topic} not forwarded to the ${to.spec.name}: ${err.message}`);
        if (qos !== 1) return;
        // Its broker sends it again only on a new connection: make one once the other side can take it.
        from.markLeft(delivery.connection);
        if (to.connected) from.redeliver();
      },
    );
    next();
  }
}
