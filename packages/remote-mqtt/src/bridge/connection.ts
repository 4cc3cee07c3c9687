// One of a rule's two MQTT connections: to the hub or to a remote broker. It connects, retries
// with a doubling wait up to ClientInfo's `interval`, subscribes the rule's topics for its side
// (again only when the broker kept no session), hands each incoming message over with its
// acknowledgement deferred (deferAcks), and publishes the copies coming from the other side.
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import mqtt, { type IConnackPacket, type MqttClient } from 'mqtt';
import type { Logger } from '@baetyl/core/log';
import { backoffReconnects, connectionOf, deferAcks, mqttClientOptions, type ClientInfo, type Delivery, type TopicInfo } from '@baetyl/core/mqtt';
import type { BrokerEchoes } from './echo.js';
import { Echoes } from './echo.js';

/** MQTT 3.1.1's CONNACK return codes. */
const CONNACK: Record<number, string> = {
  1: 'unacceptable protocol version',
  2: 'client id rejected',
  3: 'server unavailable',
  4: 'bad username or password',
  5: 'not authorized',
};

export interface ConnectionSpec {
  /** For log lines: `hub` or `remote "iothub"`. */
  name: string;
  info: ClientInfo;
  clientid: string;
  subscriptions: TopicInfo[];
  /** Where its certificate paths start, and the config block for messages (`remotes[0]`). */
  cwd: string;
  block: string;
  /** The bridge's connections to the same broker (for echoes of its own copies). */
  broker: BrokerEchoes;
}

export class Connection {
  readonly echoes = new Echoes();
  /** Copies published and not yet finished (QoS 1: acknowledged; QoS 0: written). */
  pending = 0;
  /**
   * The connection on which messages were left with the broker unacknowledged: a reconnect makes
   * it send them again. Kept per connection, not as a flag cleared on 'connect': MQTT.js hands
   * over the PUBLISH packets that follow a CONNACK before it emits 'connect', so messages left on
   * a new connection would otherwise be forgotten, and stay with the broker for good.
   */
  private leftOn: Duplex | undefined;
  onMessage: (delivery: Delivery, next: () => void) => void = (d, next) => {
    d.settle();
    next();
  };
  onOnline: () => void = () => undefined;
  private client: MqttClient | undefined;
  private online = false;
  private stopping = false;
  private subscribed = false;

  constructor(
    readonly spec: ConnectionSpec,
    private readonly log: Logger,
  ) {
    spec.broker.add(this.echoes);
  }

  get connected(): boolean {
    return this.client?.connected ?? false;
  }

  /** Messages delivered on the current connection were left with the broker. */
  get leftWithBroker(): boolean {
    return this.leftOn !== undefined && this.client !== undefined && this.leftOn === connectionOf(this.client) && !this.leftOn.destroyed;
  }

  /** A message that came on `connection` was not acknowledged: its broker has it still. */
  markLeft(connection: Duplex): void {
    this.leftOn = connection;
  }

  /** Throws when a certificate file cannot be read (naming the block and key). */
  start(): void {
    const { info } = this.spec;
    const options = mqttClientOptions(info, { clientid: this.spec.clientid, cwd: this.spec.cwd, label: this.spec.block });
    const client = mqtt.connect(info.address!, options);
    this.client = client;
    deferAcks(client, (delivery, next) => this.received(delivery, next), {
      onDuplicate: (p) => this.log.debug(`message ${p.messageId} from the ${this.spec.name} sent again while it is being forwarded; forwarded once`),
    });
    // The wait between attempts doubles up to interval.
    const backoff = backoffReconnects(client, info.interval);
    client.on('connect', (connack: IConnackPacket) => this.connected_(connack));
    client.on('error', (err: Error & { code?: unknown }) => {
      if (this.stopping) return;
      const retry = `retrying in ${backoff.delay} ms`;
      if (typeof err.code === 'number' && CONNACK[err.code]) {
        this.log.error(
          `the ${this.spec.name} refused the connection of client ${this.spec.clientid}: ${CONNACK[err.code]} (CONNACK code ${err.code}); ${retry}`,
        );
      } else if (this.online) {
        this.log.error(`connection to the ${this.spec.name} failed: ${err.message}`);
      } else {
        this.log.error(`cannot connect to the ${this.spec.name} (${info.address}): ${err.message}; ${retry}`);
      }
    });
    client.on('close', () => {
      if (this.online && !this.stopping) this.log.warn(`disconnected from the ${this.spec.name}; reconnecting in ${backoff.delay} ms`);
      this.online = false;
    });
  }

  /** Publishes a copy; resolves when it is acknowledged (QoS 1) or written (QoS 0). */
  publish(topic: string, payload: Buffer, qos: 0 | 1, retain: boolean): Promise<void> {
    const client = this.client!;
    // Recorded first: the broker may send the copy back before publish() returns to the loop.
    this.spec.broker.published(topic, payload);
    this.pending++;
    return new Promise<void>((resolve, reject) => {
      client.publish(topic, payload, { qos, retain }, (err) => {
        this.pending--;
        if (err) reject(err);
        else resolve();
      });
    });
  }

  /** Drops the connection, so that the broker sends again what it delivered and we did not acknowledge. */
  redeliver(): void {
    if (!this.connected || this.stopping) return;
    this.leftOn = undefined;
    this.log.info(`reconnecting to the ${this.spec.name} to fetch the messages left with it`);
    connectionOf(this.client!).destroy();
  }

  async close(): Promise<void> {
    this.stopping = true;
    const client = this.client;
    if (!client) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      // Unacknowledged copies stay with their source broker; nothing here waits for them.
      client.end(!client.connected, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private received(delivery: Delivery, next: () => void): void {
    const { packet } = delivery;
    if (this.echoes.take(packet.topic, packet.payload as Buffer)) {
      this.log.debug(`message on ${packet.topic} is the bridge's own copy coming back from the ${this.spec.name}; not forwarded`);
      delivery.ack();
      next();
      return;
    }
    if (this.stopping) {
      delivery.settle();
      next();
      return;
    }
    this.onMessage(delivery, next);
  }

  private connected_(connack: IConnackPacket): void {
    const client = this.client!;
    this.online = true;
    (connectionOf(client) as Partial<Socket>).setNoDelay?.(true);
    this.log.info(`connected to the ${this.spec.name} (${this.spec.info.address})`, {
      clientid: this.spec.clientid,
      sessionpresent: String(connack.sessionPresent),
    });
    if (connack.sessionPresent) this.echoes.resumed();
    else this.echoes.clear();
    this.onOnline();
    // A kept session keeps the subscriptions; subscribing again would replay retained messages.
    if (this.subscribed && connack.sessionPresent) return;
    const subs = this.spec.subscriptions;
    if (subs.length === 0) return;
    // Echoes are expected from the moment the broker may match them; the SUBACK then narrows this.
    this.echoes.filters = subs.map((s) => s.topic);
    client.subscribe(Object.fromEntries(subs.map((s) => [s.topic, { qos: s.qos }])), (err, granted) => {
      if (err) {
        this.log.error(`cannot subscribe on the ${this.spec.name}: ${err.message}`);
        return;
      }
      const ok = (granted ?? []).filter((g) => g.qos !== 128);
      const refused = (granted ?? []).filter((g) => g.qos === 128);
      this.echoes.filters = ok.map((g) => g.topic);
      for (const g of refused) this.log.error(`the ${this.spec.name} refused the subscription to ${g.topic} (check its permissions for this user)`);
      if (ok.length > 0) this.log.info(`subscribed on the ${this.spec.name} to ${ok.map((g) => `${g.topic} (QoS ${g.qos})`).join(', ')}`);
      if (refused.length > 0 && this.spec.info.validatesubs) {
        this.log.warn(`validatesubs is set: dropping the connection to the ${this.spec.name}`);
        connectionOf(client).destroy();
        return;
      }
      this.subscribed = true;
    });
  }
}
