// One rule: its own MQTT connection to the hub, subscribed to `subscribe.topic`; each message is
// handed to the function's pool and the result is published on `publish.topic`.
//
// Reading and acknowledging are decoupled (deferAcks, @baetyl/core/mqtt). The next message is
// read only once this one has a place in the pool (that is the back-pressure: the socket stops
// being read and the hub holds the messages). A QoS 1 input is acknowledged when its output has
// been acknowledged by the hub (end-to-end QoS 1), on the connection that delivered the input.
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import type { Logger } from '@baetyl/core/log';
import type { FunctionMessage } from '@baetyl/core/function';
import { errorPayload } from '../call/error-payload.js';
import type { HubConfig, RuleConfig } from '../config/schema.js';
import type { FunctionPool, Reservation } from '../pool/pool.js';
import { deferAcks, FIRST_RECONNECT_DELAY, mqttClientOptions, type Delivery } from '@baetyl/core/mqtt';

export interface RuleStats {
  /** Messages accepted and not yet finished (called, published, acknowledged). */
  processing: number;
  connected: boolean;
}

export class Rule {
  readonly clientid: string | undefined;
  private client: MqttClient | undefined;
  private readonly processing = new Set<Promise<void>>();
  private stopping = false;
  private subscribedOnce = false;
  private online = false;
  private reconnectDelay = FIRST_RECONNECT_DELAY;
  private readonly options: IClientOptions;
  /** The connection corked until the end of this event-loop turn (see holdWrites). */
  private corked: Duplex | undefined;
  private readonly flush = (): void => {
    const stream = this.corked;
    this.corked = undefined;
    stream?.uncork();
  };

  constructor(
    private readonly cfg: RuleConfig,
    private readonly hub: HubConfig,
    private readonly pool: FunctionPool,
    private readonly log: Logger,
    cwd: string,
  ) {
    this.clientid = cfg.clientid || hub.clientid || undefined;
    if (!this.clientid) {
      log.warn('rule has no clientid: it gets a random one and a clean session, so QoS 1 messages sent while it is offline are not kept for it; set rules[].clientid');
    }
    this.options = mqttClientOptions(hub, { clientid: this.clientid, cwd, label: 'hub' });
  }

  get label(): string {
    return this.clientid ?? `${this.cfg.subscribe.topic} -> ${this.cfg.function.name}`;
  }

  stats(): RuleStats {
    return { processing: this.processing.size, connected: this.client?.connected ?? false };
  }

  start(): void {
    const client = mqtt.connect(this.hub.address!, this.options);
    this.client = client;
    // A redelivered copy (DUP) of a message still being processed is not run twice.
    deferAcks(client, (delivery, next) => this.onMessage(delivery, next), {
      onDuplicate: (p) => this.log.debug(`message ${p.messageId} redelivered while in progress; not run twice`),
    });
    client.on('connect', (connack: IConnackPacket) => {
      // No Nagle: results are small packets, each would wait for the hub's delayed ACK of the last.
      (client.stream as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
      this.onConnect(client, connack);
    });
    client.on('reconnect', () => {
      // mqtt.js reads reconnectPeriod each time it schedules a retry: double it for the next one.
      this.reconnectDelay = Math.min(this.reconnectDelay * 2, Math.max(FIRST_RECONNECT_DELAY, this.hub.interval));
      client.options.reconnectPeriod = this.reconnectDelay;
      this.log.debug('reconnecting to the hub');
    });
    client.on('close', () => {
      if (this.online && !this.stopping) this.log.warn(`disconnected from the hub; reconnecting in ${client.options.reconnectPeriod} ms`);
      this.online = false;
    });
    client.on('error', (err) => this.log.error(`hub connection error: ${err.message}`));
  }

  /** Stops taking new messages and waits (up to `grace` ms) for the accepted ones to finish. */
  async drain(grace: number): Promise<void> {
    this.stopping = true;
    if (this.processing.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, grace);
    });
    await Promise.race([Promise.allSettled([...this.processing]), expired]);
    clearTimeout(timer);
    if (this.processing.size > 0) this.log.warn(`${this.processing.size} message(s) abandoned at shutdown; QoS 1 ones are redelivered by the hub`);
  }

  /** Disconnects from the hub. */
  async close(): Promise<void> {
    this.stopping = true;
    const client = this.client;
    if (!client) return;
    // A clean DISCONNECT when nothing waits for the hub; otherwise just drop the connection.
    const force = !client.connected || Object.keys(client.outgoing).length > 0;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, 2000);
      client.end(force, {}, () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private onConnect(client: MqttClient, connack: IConnackPacket): void {
    this.online = true;
    this.reconnectDelay = FIRST_RECONNECT_DELAY;
    client.options.reconnectPeriod = FIRST_RECONNECT_DELAY;
    this.log.info(`connected to the hub (${this.hub.address})`, { sessionpresent: String(connack.sessionPresent) });
    // A kept session keeps the subscription; subscribing again would replay retained messages.
    if (this.subscribedOnce && connack.sessionPresent) return;
    const { topic, qos } = this.cfg.subscribe;
    client.subscribe(topic, { qos }, (err, granted) => {
      const refused = err ?? (granted ?? []).find((g) => g.qos === 128);
      if (refused) {
        const why = err ? err.message : 'refused by the hub (check its permissions for this user)';
        this.log.error(`failed to subscribe to ${topic}: ${why}`);
        if (this.hub.validatesubs) (client.stream as Duplex).destroy();
        return;
      }
      this.subscribedOnce = true;
      this.log.info(`subscribed to ${topic} (QoS ${qos})`);
    });
  }

  private onMessage(delivery: Delivery, next: () => void): void {
    if (this.stopping) {
      // Not processed and not acknowledged: the hub keeps QoS 1 messages for the next session.
      delivery.settle();
      next();
      return;
    }
    const { packet } = delivery;
    const receivedAt = Date.now();
    this.pool.reserve().then(
      (reservation) => {
        // A QoS 1 message whose connection died while it waited comes again on the next one.
        if (this.stopping || (packet.qos > 0 && delivery.stale)) {
          reservation.release();
          delivery.settle();
        } else {
          const work = this.process(delivery, receivedAt, reservation).catch((err: Error) => {
            this.log.error(`message on ${packet.topic} not processed: ${err.stack ?? err.message}`);
          });
          this.processing.add(work);
          void work.finally(() => {
            this.processing.delete(work);
            delivery.settle();
          });
        }
        next();
      },
      () => {
        delivery.settle();
        next();
      },
    );
  }

  private async process(delivery: Delivery, receivedAt: number, reservation: Reservation): Promise<void> {
    const { packet } = delivery;
    const fn = this.cfg.function.name;
    const qos = packet.qos > 0 ? 1 : 0;
    const msg: FunctionMessage = {
      ID: qos > 0 ? (packet.messageId ?? 0) : 0,
      QOS: qos,
      Topic: packet.topic,
      Payload: Buffer.from(packet.payload),
      Timestamp: Math.floor(receivedAt / 1000),
      FunctionName: fn,
      FunctionInvokeID: randomUUID(),
    };
    let outcome;
    try {
      outcome = await reservation.invoke(msg, this.cfg.retry.max);
    } finally {
      reservation.release();
    }
    if (outcome.kind === 'aborted') return;
    let payload: Buffer | undefined;
    if (outcome.kind === 'ok') {
      // An empty result publishes nothing: this is how functions filter messages.
      if (outcome.result.Payload && outcome.result.Payload.length > 0) payload = outcome.result.Payload;
    } else {
      this.log.error(`function (${fn}) failed after ${outcome.attempts} attempt(s): ${outcome.failure.message}`, { invokeid: msg.FunctionInvokeID });
      payload = errorPayload(msg, outcome.failure);
    }
    if (payload) {
      const outQos = Math.min(this.cfg.publish.qos, qos) as 0 | 1;
      try {
        await this.publish(payload, outQos);
      } catch (err) {
        this.log.warn(`result of function (${fn}) not published to ${this.cfg.publish.topic}: ${(err as Error).message}`, { invokeid: msg.FunctionInvokeID });
        return;
      }
    }
    if (qos > 0) this.acknowledge(delivery);
  }

  /**
   * Results and PUBACKs written in one event-loop turn leave in one socket write, as the hub does
   * (its listeners/guard.ts): results come back from the runtimes one by one, and the socket has
   * Nagle off, so each would otherwise cost a syscall and a TCP segment of its own.
   */
  private holdWrites(stream: Duplex): void {
    if (this.corked) return;
    this.corked = stream;
    stream.cork();
    setImmediate(this.flush);
  }

  private publish(payload: Buffer, qos: 0 | 1): Promise<void> {
    this.holdWrites(this.client!.stream as Duplex);
    return new Promise((resolve, reject) => {
      // For QoS 1 the callback runs when the hub's PUBACK arrives.
      this.client!.publish(this.cfg.publish.topic, payload, { qos, retain: false }, (err) => (err ? reject(err) : resolve()));
    });
  }

  /** Sends the input's PUBACK on the connection it came from; after a reconnect the hub redelivers instead. */
  private acknowledge(delivery: Delivery): void {
    if (delivery.stale) {
      this.log.debug(`message ${delivery.packet.messageId} not acknowledged: its connection is gone, the hub will redeliver it`);
      delivery.settle();
      return;
    }
    this.holdWrites(delivery.connection);
    delivery.ack();
  }
}
