// Assembles the hub: aedes 1.x with the embedded store, Baetyl's principals and ACL, rename
// routes, limits, and one listener per `listen` URL.
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { Aedes, type Client, type PublishPacket, type Subscription } from 'aedes';
import { createLogger, type Logger } from '@baetyl/core/log';
import { topicFilterProblem, topicNameProblem } from '@baetyl/core/topic';
import { SessionAcl } from '../auth/acl.js';
import { CONNACK, Principals } from '../auth/principals.js';
import type { HubConfig } from '../config/schema.js';
import type { Registry } from 'prom-client';
import { GuardedConnection, type PeerInfo } from '../listeners/guard.js';
import { openListener, type OpenListener } from '../listeners/servers.js';
import { hubRegistry } from '../metrics/registry.js';
import { newTrafficCounters, sum, type ConnectRefusal, type HubStats, type TrafficCounters } from '../metrics/stats.js';
import { openStore, type Store } from '../persistence/store.js';
import { RenameRoutes } from '../routes/rename.js';
import { egressOf, shapeDelivery, type DeliveryHooks } from '../egress/delivery.js';
import { LogAggregator } from '../logging/aggregate.js';
import { aedesPacketWriter, nextBrokerCounter, internals } from './internals.js';
import type { ClientState } from './state.js';

export interface HubOptions {
  /** Relative paths in the config (certificates, storage.dir) resolve against this; default process.cwd(). */
  cwd?: string;
  /** Default: a logger from the config's logger block. */
  logger?: Logger;
}

export interface Hub {
  /** The bound address of each listener, in `listen` order (ports resolved when 0 was asked). */
  readonly addresses: string[];
  readonly broker: Aedes;
  readonly logger: Logger;
  stats(): HubStats;
  /** The hub's Prometheus metrics (metrics/registry.ts), read from the same counters as stats(). */
  readonly registry: Registry;
  /** Graceful stop: no new connections, wills discarded (not published), store closed. */
  close(): Promise<void>;
}

type Callback = (err?: Error | null) => void;
type PublishFn = (packet: PublishPacket, client: Client | null, done: Callback) => void;

const CLIENT_ID = /^[0-9A-Za-z_-]{1,128}$/;

function connackError(code: number, message: string): Error & { returnCode: number } {
  return Object.assign(new Error(message), { returnCode: code });
}

export async function startHub(config: HubConfig, opts: HubOptions = {}): Promise<Hub> {
  const cwd = opts.cwd ?? process.cwd();
  const logger = opts.logger ?? createLogger(config.logger, {}, { cwd });
  const tlsListener = config.listen.some((u) => /^(ssl|tls|wss):/.test(u));
  config.principals.forEach((p, i) => {
    if (!p.password && (!config.certificate.ca || !tlsListener)) {
      logger.warn(`principals[${i}] ("${p.username}") has no password, so it needs a client certificate, but ${config.certificate.ca ? 'there is no ssl:// or wss:// listener' : 'certificate.ca is not set'}: nobody can connect as it`);
    }
  });
  const store: Store = await openStore(config.storage.dir, cwd);
  const principals = new Principals(config.principals);
  const routes = new RenameRoutes(config.subscriptions);
  const states = new WeakMap<Client, ClientState>();
  const counters: TrafficCounters = newTrafficCounters();
  const refused = (why: ConnectRefusal) => counters.refusedConnects[why]++;
  const connackRefusal: Record<number, ConnectRefusal> = { [CONNACK.identifierRejected]: 'identifier_rejected', 3: 'server_unavailable', 4: 'bad_username_or_password', 5: 'not_authorized' };
  let stopping = false;
  // QoS 1 PUBLISHes already stored and routed before their PUBACK (see authorizePublish).
  const published = new WeakSet<object>();
  // SUBSCRIBE entries whose filter Baetyl's topic rules refuse; they get 0x80.
  const refusedFilters = new WeakSet<object>();

  const state = (client: Client): ClientState | undefined => states.get(client);
  const who = (client: Client | null) => (client ? { client: state(client)?.sentClientId || client.id } : {});

  aedesPacketWriter().writeToStream.cacheNumbers = false;
  let broker: Aedes;
  try {
    broker = await Aedes.createBroker({
      persistence: store.persistence,
      connectTimeout: 30_000,
      drainTimeout: config.message.egress.drain.timeout,
      // Client ids are checked in authenticate (Baetyl: up to 128 characters of [0-9A-Za-z_-]).
      maxClientsIdLength: 65535,

      preConnect(client, packet, cb) {
        const will = packet.will;
        if (will) {
          const why = topicNameProblem(will.topic);
          // As Baetyl: an invalid will topic closes the connection without CONNACK.
          if (why) {
            logger.warn('connection refused: invalid will topic', { client: packet.clientId, topic: will.topic, reason: why });
            refused('invalid_will_topic');
            return cb(new Error(`invalid will topic: ${why}`), false);
          }
        }
        states.set(client, { sentClientId: packet.clientId });
        cb(null, true);
      },

      authenticate(client, username, password, cb) {
        const st = state(client);
        if (stopping) {
          refused('server_unavailable');
          return cb(connackError(3, 'the hub is stopping'), false);
        }
        const sent = st?.sentClientId ?? '';
        if (sent === '' && !internals(client).clean) {
          // MQTT-3.1.3-8 (Baetyl v1 forced a clean session instead).
          logger.warn('connection refused: an empty client id needs CleanSession 1', { code: CONNACK.identifierRejected });
          refused('identifier_rejected');
          return cb(connackError(CONNACK.identifierRejected, 'an empty client id needs CleanSession 1'), false);
        }
        if (sent !== '' && !CLIENT_ID.test(sent)) {
          logger.warn('connection refused: bad client id', { client: sent.slice(0, 140), code: CONNACK.identifierRejected });
          refused('identifier_rejected');
          return cb(connackError(CONNACK.identifierRejected, 'client id must be 1 to 128 of 0-9 A-Z a-z _ -'), false);
        }
        const peer = (client.conn as GuardedConnection).peer;
        const result = principals.authenticate(username, password, peer);
        if (!result.ok) {
          logger.warn(`connection refused: ${result.reason}`, { client: sent, username: username ?? '', remote: peer.remote, code: result.code });
          refused(connackRefusal[result.code] ?? 'not_authorized');
          return cb(connackError(result.code, result.reason), false);
        }
        const acl = new SessionAcl(result.acl);
        const will = (client as unknown as { _will?: { topic: string } | null })._will;
        if (will && !acl.canPublish(will.topic)) {
          logger.warn('connection refused: will topic not permitted', { client: sent, username, topic: will.topic, code: CONNACK.notAuthorized });
          refused('not_authorized');
          return cb(connackError(CONNACK.notAuthorized, `not permitted to publish the will to ${will.topic}`), false);
        }
        if (st) {
          st.principal = result.principal;
          st.acl = acl;
        }
        logger.debug('client connected', { client: client.id, username, by: result.how, remote: peer.remote });
        cb(null, true);
      },

      authorizePublish(client, packet, cb) {
        if (!client) return cb(null); // the hub's own publishes (routes, wills of a past run)
        const topic = packet.topic;
        const why = topicNameProblem(topic);
        if (why) {
          logger.warn('publish refused, closing the connection: invalid topic', { ...who(client), topic, reason: why });
          counters.refusedPublishes.invalid_topic++;
          return cb(new Error(`invalid topic ${JSON.stringify(topic)}: ${why}`));
        }
        const acl = state(client)?.acl;
        if (!acl || !acl.canPublish(topic)) {
          logger.warn('publish refused, closing the connection: not permitted', { ...who(client), topic });
          counters.refusedPublishes.not_permitted++;
          return cb(new Error(`not permitted to publish to ${topic}`));
        }
        // The incoming DUP says nothing to subscribers; aedes would pass it on [MQTT-3.3.1-3].
        packet.dup = false;
        // aedes sends PUBACK before it stores the message. Store and route it first, so a PUBACK
        // means the message (and its routed copies) is on disk, even if the hub is killed next.
        if ((packet as { cmd?: string }).cmd === 'publish' && packet.qos === 1) {
          publishWithRoutes(packet, client, (err) => {
            if (err) {
              logger.error('cannot store a QoS 1 message; no PUBACK sent', { ...who(client), topic, error: err.message });
              return cb(err);
            }
            published.add(packet);
            cb(null);
          });
          return;
        }
        cb(null);
      },

      authorizeSubscribe(client, sub, cb) {
        if (refusedFilters.has(sub)) return cb(null, null);
        const why = topicFilterProblem(sub.topic);
        if (why) {
          logger.warn('subscription refused: invalid filter', { ...who(client), topic: sub.topic, reason: why });
          counters.refusedSubscribes.invalid_filter++;
          return cb(null, null);
        }
        const acl = state(client)?.acl;
        if (!acl || !acl.canSubscribe(sub.topic)) {
          logger.warn('subscription refused: not permitted', { ...who(client), topic: sub.topic });
          counters.refusedSubscribes.not_permitted++;
          return cb(null, null);
        }
        // A persistent session's subscription is granted only once stored (0x80 if it cannot be).
        store.persistence.storeBeforeGrant(client, sub).then(
          () => cb(null, sub),
          (err: Error) => {
            logger.error('subscription refused: the store cannot keep it', { ...who(client), topic: sub.topic, error: err.message });
            counters.refusedSubscribes.store_failed++;
            cb(null, null);
          },
        );
      },
    });
  } catch (err) {
    await store.close();
    throw err;
  }

  // Every publish (clients, wills, routed copies) goes through here, so routes apply to all.
  const basePublish = broker.publish.bind(broker) as unknown as PublishFn;
  function publishWithRoutes(packet: PublishPacket, client: Client | null, done: Callback): void {
    // Entered before aedes numbers it, so that its store write cannot overtake an earlier one's.
    const counter = packet.qos > 0 && !(packet as { brokerCounter?: number }).brokerCounter ? nextBrokerCounter(broker) : 0;
    if (counter) store.persistence.order.enter(counter);
    basePublish(packet, client, (err) => {
      if (counter) store.persistence.order.leave(counter);
      if (err) return done(err);
      const copies = routes.copiesFor(packet.topic, packet.qos);
      if (copies.length === 0) return done(null);
      let left = copies.length;
      let failed: Error | null = null;
      for (const c of copies) {
        const copy = { cmd: 'publish', topic: c.topic, payload: packet.payload, qos: c.qos, retain: false, dup: false } as PublishPacket;
        publishWithRoutes(copy, null, (e) => {
          if (e && !failed) failed = e;
          if (--left === 0) done(failed);
        });
      }
    });
  }
  (broker as unknown as { publish: (p: PublishPacket, c?: Client | Callback | null, d?: Callback) => void }).publish = (packet, client, done) => {
    const cb: Callback = typeof client === 'function' ? client : (done ?? (() => undefined));
    const from = typeof client === 'function' ? null : (client ?? null);
    if (published.has(packet)) {
      published.delete(packet);
      return cb(null);
    }
    publishWithRoutes(packet, from, cb);
  };

  // aedes reports a closed connection once per pending write: what it reports of one client's end
  // within a second is one line, with the first reason and a count.
  const closings = new LogAggregator(logger);
  broker.on('clientError', (client, err) => closings.log('info', `client closed: ${err.message}`, who(client), `client\u0000${client.id}`));
  broker.on('connectionError', (client, err) => closings.log('info', `connection closed: ${err.message}`, { remote: (client.conn as GuardedConnection).peer?.remote }));
  broker.on('keepaliveTimeout', (client) => logger.info('client timed out: nothing received within 1.5 x keep-alive', who(client)));
  (broker as unknown as NodeJS.EventEmitter).on('error', (err: Error) => logger.error(`broker error: ${err.message}`));

  await replayWills(broker, store, logger);

  const maxPacket = config.message.length.max;
  const egress = config.message.egress;
  // bytes.max is at least message.length.max, so that a message of any accepted size can wait.
  const egressLimits = { qos0Messages: egress.qos0.buffer.size, qos1Messages: egress.qos1.buffer.size, batch: egress.qos1.batch.max, bytes: Math.max(egress.bytes.max, maxPacket) };
  broker.on('clientReady', (client) => egressOf(client)?.pump());
  // Each client's own outgoing queue (src/egress): one set of hooks for all of them.
  const deliveryHooks: DeliveryHooks = {
    brokerId: broker.id,
    store,
    limits: egressLimits,
    dropped: (qos, reason, count = 1) => {
      counters.dropped[reason][Math.min(qos, 2)]! += count;
    },
    overflow: (cl, why) => (cl.conn as GuardedConnection).destroy(new Error(why)),
    spilling: (cl) => closings.log('debug', 'client reads slowly: its QoS 1 messages wait in the session store', who(cl)),
  };

  function accept(stream: Duplex, peer: PeerInfo, req?: IncomingMessage): void {
    if (stopping) {
      stream.destroy();
      return;
    }
    const guarded = new GuardedConnection(stream, peer, maxPacket, counters, (why) => {
      logger.warn(`connection closed: ${why}`, { remote: peer.remote });
    });
    guarded.on('error', () => undefined);
    const client = broker.handle(guarded, req);
    shapeClient(client);
  }

  // Per-client adjustments of aedes' delivery, made right after the client object exists.
  function shapeClient(client: Client): void {
    const c = internals(client);
    // Baetyl answers an invalid filter with 0x80 for that entry; aedes would drop the connection.
    c._parser.prependListener('packet', (packet: { cmd: string; subscriptions?: Subscription[] }) => {
      if (packet.cmd !== 'subscribe' || !packet.subscriptions) return;
      packet.subscriptions.forEach((sub, i) => {
        if (topicFilterProblem(sub.topic)) {
          logger.warn('subscription refused: invalid filter', { ...who(client), topic: sub.topic });
          counters.refusedSubscribes.invalid_filter++;
          sub.topic = `invalid/${i}`;
          refusedFilters.add(sub);
        }
      });
    });
    shapeDelivery(client, deliveryHooks);
  }

  const listeners: OpenListener[] = [];
  try {
    for (const url of config.listen) {
      const l = await openListener(url, config.certificate, cwd, {
        accept,
        maxPacket,
        rejected: (remote, why) => {
          logger.warn(`TLS handshake refused: ${why}`, { remote });
          refused('tls_handshake');
        },
      });
      listeners.push(l);
      logger.info('hub listening', { address: l.address });
    }
  } catch (err) {
    for (const l of listeners) await l.close();
    await new Promise<void>((ok) => broker.close(() => ok()));
    await store.close();
    throw err;
  }

  const subscriptionCount = (): number => {
    let n = 0;
    const clients = (broker as unknown as { clients: Record<string, Client> }).clients;
    for (const id in clients) n += Object.keys(internals(clients[id]!).subscriptions).length;
    return n;
  };
  const stats = (): HubStats => {
    return {
      clients: broker.connectedClients,
      subscriptions: subscriptionCount(),
      messages_in: sum(counters.messagesIn),
      messages_out: sum(counters.messagesOut),
      messages_dropped: sum(Object.values(counters.dropped).flat()),
      bytes_in: counters.bytesIn,
      bytes_out: counters.bytesOut,
      rule_count: routes.size,
    };
  };

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      stopping = true;
      // Wills are for clients that vanish, not for a hub that stops: discard them.
      const clients = (broker as unknown as { clients: Record<string, Client> }).clients;
      const deletions: Array<Promise<unknown>> = [];
      for (const id in clients) {
        const c = internals(clients[id]!);
        if (c.will) {
          c.will = null;
          deletions.push(store.persistence.delWill({ id }).catch(() => undefined));
        }
      }
      await Promise.all(deletions);
      await new Promise<void>((ok) => broker.close(() => ok()));
      await Promise.all(listeners.map((l) => l.close()));
      closings.flush();
      await store.close();
    })();
    return closing;
  };

  const registry = hubRegistry(counters, {
    clients: () => broker.connectedClients,
    subscriptions: subscriptionCount,
    retained: () => store.persistence.countRetained(),
  });

  return { addresses: listeners.map((l) => l.address), broker, logger, stats, registry, close };
}

/** Wills stored by an earlier run that ended without a graceful stop (a crash, kill -9). */
async function replayWills(broker: Aedes, store: Store, logger: Logger): Promise<void> {
  const wills = store.persistence.streamWill({ [broker.id]: Date.now() });
  let n = 0;
  for await (const will of wills as AsyncIterable<{ topic: string; payload: Buffer; qos: number; retain: boolean; clientId: string }>) {
    await new Promise<void>((ok) => {
      broker.publish({ cmd: 'publish', topic: will.topic, payload: Buffer.from(will.payload), qos: will.qos as 0 | 1 | 2, retain: will.retain, dup: false }, (err) => {
        if (err) logger.warn(`cannot publish the will of ${will.clientId}: ${err.message}`);
        ok();
      });
    });
    await store.persistence.delWill({ id: will.clientId });
    n++;
  }
  if (n > 0) logger.info(`published ${n} will(s) of clients connected when the hub last stopped abnormally`);
}
