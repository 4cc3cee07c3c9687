// One rule: its own MQTT connection to the hub, subscribed to `subscribe.topic`; each message is
// handed to the function's pool and the result is published on `publish.topic`.
//
// Reading and acknowledging are decoupled (deferAcks, @baetyl/core/mqtt). The next message is
// read only once this one has a place in the pool (that is the back-pressure: the socket stops
// being read and the hub holds the messages). A QoS 1 input is acknowledged when its output has
// been acknowledged by the hub (end-to-end QoS 1), on the connection that delivered the input.
//
// No message may wedge a rule (docs/function-manager.md, "Result size and poison messages"):
//   - a result is measured as the PUBLISH the hub would read; one over the hub's
//     message.length.max becomes the error payload (cut to fit), never a packet the hub closes
//     the connection on;
//   - a QoS 1 input the rule is done with but could not acknowledge (its connection went) is
//     remembered: when the hub delivers it again on the next connection it is acknowledged
//     without another call, so no output is published twice;
//   - an output the hub keeps dropping the connection on (e.g. a topic the rule may not publish
//     on) is given up after retry.max connections, and its input acknowledged.
import { createHash, randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import type { Logger } from '@baetyl/core/log';
import type { FunctionMessage } from '@baetyl/core/function';
import { fittingErrorPayload, plainFailure, type CallFailure } from '../call/error-payload.js';
import { HUB_MESSAGE_LENGTH_MAX, largestPayload, publishPacketSize } from '../publish/packet-size.js';
import type { HubConfig, RuleConfig } from '../config/schema.js';
import type { FunctionPool, Reservation } from '../pool/pool.js';
import type { CallMetrics } from '../metrics/registry.js';
import { awaitsAcknowledgement, backoffReconnects, connectionOf, deferAcks, mqttClientOptions, pendingPublishCallback, type Delivery } from '@baetyl/core/mqtt';

export interface RuleStats {
  /** Messages accepted and not yet finished (called, published, acknowledged). */
  processing: number;
  connected: boolean;
}

/** A QoS 1 input this rule has processed, kept until the hub has its PUBACK (see remember()). */
interface Handled {
  /** Its output was published (or it had none): a redelivery is acknowledged, not run again. */
  answered: boolean;
  /** The connection its PUBACK was written on; undefined when that connection was already gone. */
  ackedOn: Duplex | undefined;
  /** When that PUBACK was written (ms). */
  ackedAt: number;
  /** How many times it came and could not be finished. */
  deliveries: number;
}

/** An output given up after retry.max lost connections (see countLosses). */
class GivenUpError extends Error {}

/**
 * A PUBACK written this long before its connection closed may not have reached the hub: the
 * input is remembered across the reconnect. Older ones did, and are forgotten at the close (a
 * hub that reuses the packet id for a new, identical message must not see it swallowed).
 */
const RECENT_ACK_MS = 2000;

/** An output waiting for the hub's PUBACK, and the connections lost under it. */
interface PendingOutput {
  callback: (err?: Error) => void;
  losses: number;
  /** The connection it was last sent on (MQTT.js sends it again on each new one). */
  sentOn: unknown;
  /** Its packet id, once sent (MQTT.js keeps it when it sends the packet again). */
  id?: number;
}

/** How many handled inputs are remembered (a redelivery comes right after the reconnect). */
const HANDLED_KEPT = 1024;

/** The same input on any connection: the hub redelivers it with the same packet id, topic and payload. */
function inputKey(topic: string, id: number, payload: Buffer | Uint8Array | string): string {
  return `${id} ${topic} ${createHash('sha1').update(payload).digest('base64')}`;
}

export class Rule {
  readonly clientid: string | undefined;
  /** The largest packet the hub reads (hub.message.length.max). */
  private readonly maxPacket: number;
  private readonly handled = new Map<string, Handled>();
  /** QoS 1 inputs being processed, by inputKey: a copy redelivered on a new connection waits for it. */
  private readonly running = new Map<string, Promise<void>>();
  /** Outputs waiting for the hub's PUBACK, by the callback MQTT.js holds for them. */
  private readonly outputs = new Map<(err?: Error) => void, PendingOutput>();
  private readonly outputIds = new Map<number, PendingOutput>();
  /** The connection on which a QoS 1 copy on a QoS 0 subscription was last reported (one warning per connection). */
  private replayWarned: Duplex | undefined;
  private client: MqttClient | undefined;
  private readonly processing = new Set<Promise<void>>();
  private stopping = false;
  private subscribedOnce = false;
  private online = false;
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
    /** The hub's message.length.max (publish/hub-limit.ts). */
    maxPacket: number = hub.message?.length?.max ?? HUB_MESSAGE_LENGTH_MAX,
    /** Counts this rule's calls (metrics/registry.ts). */
    private readonly metrics?: CallMetrics,
  ) {
    this.clientid = cfg.clientid || hub.clientid || undefined;
    if (!this.clientid) {
      log.warn(
        'rule has no clientid: it gets a random one and a clean session, so QoS 1 messages sent while it is offline are not kept for it; set rules[].clientid',
      );
    }
    this.options = mqttClientOptions(hub, { clientid: this.clientid, cwd, label: 'hub' });
    this.maxPacket = maxPacket;
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
    // The wait between attempts doubles up to hub.interval.
    const backoff = backoffReconnects(client, this.hub.interval);
    client.on('connect', (connack: IConnackPacket) => {
      // No Nagle: results are small packets, each would wait for the hub's delayed ACK of the last.
      (connectionOf(client) as Partial<Socket>).setNoDelay?.(true);
      this.onConnect(client, connack);
    });
    client.on('reconnect', () => this.log.debug('reconnecting to the hub'));
    client.on('close', () => {
      if (this.online && !this.stopping) this.log.warn(`disconnected from the hub; reconnecting in ${backoff.delay} ms`);
      this.countLosses(client);
      this.forgetDelivered(connectionOf(client));
      this.online = false;
    });
    client.on('error', (err) => this.log.error(`hub connection error: ${err.message}`));
    // Which connection each output went out on. MQTT.js sends the outputs it still holds again
    // before it reports the connection as up, so the hub may close it before 'connect' is seen.
    client.on('packetsend', (p) => {
      if (p.cmd !== 'publish' || !p.qos || p.messageId === undefined) return;
      let out = this.outputIds.get(p.messageId);
      if (!out) {
        // Its first send: MQTT.js holds our callback under the id (on a resend, a wrapper of it).
        const cb = pendingPublishCallback(client, p.messageId) as ((err?: Error) => void) | undefined;
        out = cb && this.outputs.get(cb);
        if (!out) return;
        out.id = p.messageId;
        this.outputIds.set(p.messageId, out);
      }
      out.sentOn = connectionOf(client);
    });
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
    const force = !client.connected || awaitsAcknowledgement(client);
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
    this.log.info(`connected to the hub (${this.hub.address})`, { sessionpresent: String(connack.sessionPresent) });
    // No session kept: nothing will be delivered again.
    if (!connack.sessionPresent) this.handled.clear();
    // A kept session keeps the subscription; subscribing again would replay retained messages.
    if (this.subscribedOnce && connack.sessionPresent) return;
    const { topic, qos } = this.cfg.subscribe;
    client.subscribe(topic, { qos }, (err, granted) => {
      const refused = err ?? (granted ?? []).find((g) => g.qos === 128);
      if (refused) {
        const why = err ? err.message : 'refused by the hub (check its permissions for this user)';
        this.log.error(`failed to subscribe to ${topic}: ${why}`);
        if (this.hub.validatesubs) connectionOf(client).destroy();
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
    if (packet.qos > 0 && this.cfg.subscribe.qos === 0) {
      // A QoS 0 subscription is never owed a QoS 1 delivery (MQTT-3.8.4-6): this is a copy the
      // hub kept in the session, of a message this rule had at QoS 0 already. Running it again
      // would publish its output twice; it is acknowledged so the hub forgets it.
      const say = this.replayWarned === delivery.connection ? 'debug' : 'warn';
      this.replayWarned = delivery.connection;
      this.log[say](
        `the hub delivered message ${packet.messageId} at QoS 1 on this rule's QoS 0 subscription (a copy kept in its session); acknowledged without calling the function`,
      );
      this.acknowledge(delivery, undefined);
      next();
      return;
    }
    const key = packet.qos > 0 ? inputKey(packet.topic, packet.messageId ?? 0, packet.payload) : undefined;
    if (key !== undefined) {
      const first = this.running.get(key);
      if (first) {
        // Redelivered on a new connection while its first copy is still being processed: the
        // first copy's outcome decides (its PUBACK goes on this connection).
        this.log.debug(`message ${packet.messageId} redelivered while its first copy is in progress; not run twice`);
        next();
        void first.then(() => this.onMessage(delivery, () => {}));
        return;
      }
      if (this.settleKnown(delivery, key)) {
        next();
        return;
      }
    }
    const receivedAt = Date.now();
    this.pool.reserve().then(
      (reservation) => {
        // A QoS 1 message whose connection died while it waited comes again on the next one.
        if (this.stopping || (packet.qos > 0 && delivery.stale)) {
          reservation.release();
          delivery.settle();
        } else {
          const work = this.process(delivery, receivedAt, reservation, key).catch((err: Error) => {
            this.log.error(`message on ${packet.topic} not processed: ${err.stack ?? err.message}`);
          });
          this.processing.add(work);
          if (key !== undefined) this.running.set(key, work);
          void work.finally(() => {
            this.processing.delete(work);
            if (key !== undefined && this.running.get(key) === work) this.running.delete(key);
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

  private async process(delivery: Delivery, receivedAt: number, reservation: Reservation, key: string | undefined): Promise<void> {
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
      outcome = await reservation.invoke(msg, this.cfg.retry.max, this.metrics);
    } finally {
      reservation.release();
    }
    if (outcome.kind === 'aborted') return;
    const outQos = Math.min(this.cfg.publish.qos, qos) as 0 | 1;
    let payload: Buffer | undefined;
    if (outcome.kind === 'ok') {
      // An empty result publishes nothing: this is how functions filter messages.
      if (outcome.result.Payload && outcome.result.Payload.length > 0) payload = outcome.result.Payload;
      if (payload && publishPacketSize(this.cfg.publish.topic, payload.length, outQos) > this.maxPacket) {
        const failure = this.oversize(payload.length, outQos);
        this.log.error(`function (${fn}) answered, but its result cannot be published: ${failure.message}; publishing the error payload instead`, {
          invokeid: msg.FunctionInvokeID,
        });
        payload = this.errorPayloadFor(msg, failure, outQos);
      }
    } else {
      this.log.error(`function (${fn}) failed after ${outcome.attempts} attempt(s): ${outcome.failure.message}`, { invokeid: msg.FunctionInvokeID });
      payload = this.errorPayloadFor(msg, outcome.failure, outQos);
    }
    if (payload) {
      try {
        await this.publish(payload, outQos);
      } catch (err) {
        this.log.warn(`result of function (${fn}) not published to ${this.cfg.publish.topic}: ${(err as Error).message}`, { invokeid: msg.FunctionInvokeID });
        if (key !== undefined) {
          this.remember(key, false, undefined);
          // Given up by countLosses: the next copy is acknowledged, not run again.
          if (err instanceof GivenUpError) this.handled.get(key)!.deliveries = Math.max(1, this.cfg.retry.max);
        }
        return;
      }
    }
    if (qos > 0) this.acknowledge(delivery, key);
  }

  /** Why a result of `bytes` cannot be published on the rule's topic (the hub would close the connection). */
  private oversize(bytes: number, qos: 0 | 1): CallFailure {
    const topic = this.cfg.publish.topic;
    const packet = publishPacketSize(topic, bytes, qos);
    return plainFailure(
      `result of ${bytes} bytes is over the limit of ${largestPayload(topic, qos, this.maxPacket)} bytes (message.length.max): ` +
        `published on ${topic} it would be a packet of ${packet} bytes, ${packet - this.maxPacket} more than the hub's message.length.max of ${this.maxPacket}`,
    );
  }

  /** The error payload, cut to fit in one PUBLISH; undefined (and logged) when nothing fits. */
  private errorPayloadFor(msg: FunctionMessage, failure: CallFailure, qos: 0 | 1): Buffer | undefined {
    const room = largestPayload(this.cfg.publish.topic, qos, this.maxPacket);
    const fitted = fittingErrorPayload(msg, failure, room);
    if (!fitted) {
      this.log.error(
        `the error payload of function (${msg.FunctionName}) does not fit in the hub's message.length.max (${this.maxPacket}) even cut short; nothing is published for this message`,
        { invokeid: msg.FunctionInvokeID },
      );
      return undefined;
    }
    if (fitted.trimmed)
      this.log.warn(
        `the error payload of function (${msg.FunctionName}) was cut to ${fitted.payload.length} bytes to fit in the hub's message.length.max (${this.maxPacket})`,
        { invokeid: msg.FunctionInvokeID },
      );
    return fitted.payload;
  }

  /**
   * A QoS 1 input seen before: acknowledged at once when its output was published already, or when
   * it came `retry.max` times and could not be finished (its output makes the hub drop the
   * connection). Returns false when it must be processed (again).
   */
  private settleKnown(delivery: Delivery, key: string): boolean {
    const known = this.handled.get(key);
    if (!known) return false;
    // Acknowledged on this very connection, which is still up: this is a new message that happens
    // to look the same (same id, topic and payload), not a redelivery.
    if (known.ackedOn === delivery.connection) {
      this.handled.delete(key);
      return false;
    }
    const id = delivery.packet.messageId;
    if (known.answered) {
      this.log.debug(`message ${id} redelivered after its output was published; acknowledged without calling the function again`);
    } else if (known.deliveries >= Math.max(1, this.cfg.retry.max)) {
      this.log.error(
        `message ${id} on ${delivery.packet.topic} came ${known.deliveries + 1} times and its output never reached the hub (the hub closed the connection each time; check that this rule may publish on ${this.cfg.publish.topic}); acknowledged without publishing`,
      );
    } else return false;
    this.handled.delete(key);
    this.acknowledge(delivery, key, known);
    return true;
  }

  /** Keeps what became of an input until the hub has its PUBACK (bounded: the oldest go first). */
  private remember(key: string, answered: boolean, ackedOn: Duplex | undefined, before?: Handled): void {
    const prior = before ?? this.handled.get(key);
    this.handled.delete(key);
    this.handled.set(key, { answered: answered || (prior?.answered ?? false), ackedOn, ackedAt: Date.now(), deliveries: (prior?.deliveries ?? 0) + 1 });
    if (this.handled.size > HANDLED_KEPT) this.handled.delete(this.handled.keys().next().value!);
  }

  /**
   * A connection that had been up closed: every output still waiting for its PUBACK (MQTT.js sends
   * it again on the next connection) counts one loss; after retry.max it is given up, so that an
   * output the hub refuses by closing the connection is not sent again forever.
   */
  private countLosses(client: MqttClient): void {
    const max = Math.max(1, this.cfg.retry.max);
    for (const out of this.outputs.values()) {
      if (out.sentOn !== connectionOf(client)) continue;
      out.sentOn = undefined;
      out.losses++;
      if (out.losses < max) continue;
      const id = out.id;
      this.log.error(`an output on ${this.cfg.publish.topic} lost ${out.losses} connections before the hub acknowledged it; it is given up`);
      // MQTT.js calls the callback with its own error; ours says why.
      out.callback(new GivenUpError(`given up after ${out.losses} lost connections`));
      if (id !== undefined) client.removeOutgoingMessage(id);
    }
  }

  /** The connection `stream` closed: inputs acknowledged on it long enough ago are known to the hub. */
  private forgetDelivered(stream: Duplex): void {
    const now = Date.now();
    for (const [key, h] of this.handled) {
      if (h.ackedOn === stream && now - h.ackedAt > RECENT_ACK_MS) this.handled.delete(key);
    }
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
    this.holdWrites(connectionOf(this.client!));
    return new Promise((resolve, reject) => {
      const out: PendingOutput = {
        losses: 0,
        sentOn: undefined,
        callback: (err?: Error) => {
          if (!this.outputs.delete(out.callback)) return;
          if (out.id !== undefined && this.outputIds.get(out.id) === out) this.outputIds.delete(out.id);
          if (err) reject(err);
          else resolve();
        },
      };
      this.outputs.set(out.callback, out);
      // For QoS 1 the callback runs when the hub's PUBACK arrives.
      this.client!.publish(this.cfg.publish.topic, payload, { qos, retain: false }, out.callback);
    });
  }

  /**
   * Sends the input's PUBACK on the connection it came from. When that connection is gone the hub
   * redelivers the input on the next one; it is remembered as answered, so that copy is only acknowledged.
   */
  private acknowledge(delivery: Delivery, key: string | undefined, before?: Handled): void {
    if (delivery.stale) {
      this.log.debug(`message ${delivery.packet.messageId} not acknowledged yet: its connection is gone; the copy the hub sends again will be`);
      if (key !== undefined) this.remember(key, true, undefined, before);
      delivery.settle();
      return;
    }
    this.holdWrites(delivery.connection);
    delivery.ack();
    // Kept until a later connection shows the hub had it (a lost PUBACK means a redelivery).
    if (key !== undefined) this.remember(key, true, delivery.connection, before);
  }
}
