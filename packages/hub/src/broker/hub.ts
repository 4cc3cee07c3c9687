// Assembles the hub: aedes 1.x with the embedded store, Baetyl's principals and ACL, rename
// routes, limits, and one listener per `listen` URL. Each aedes hook or step is a file of
// hooks/; every aedes internal they use is in internals.ts.
import { Aedes } from 'aedes';
import type { Registry } from 'prom-client';
import { createLogger, type Logger } from '@baetyl/core/log';
import type { HubConfig } from '../config/schema.js';
import { openListener, type OpenListener } from '../listeners/servers.js';
import { hubRegistry } from '../metrics/registry.js';
import { sum, type HubStats } from '../metrics/stats.js';
import { openStore } from '../persistence/store.js';
import { hubContext, type ConnectionStep, type HubContext } from './context.js';
import { authenticate } from './hooks/authenticate.js';
import { authorizePublish } from './hooks/authorize-publish.js';
import { authorizeSubscribe, refuseInvalidFilters } from './hooks/authorize-subscribe.js';
import { logBrokerEvents } from './hooks/broker-events.js';
import { acceptConnections, type Accept } from './hooks/connection.js';
import { queueDeliveries } from './hooks/delivery.js';
import { preConnect } from './hooks/pre-connect.js';
import { PublishWithRoutes } from './hooks/publish-with-routes.js';
import { discardWills, replayStoredWills } from './hooks/wills.js';
import { aedesPacketWriter, connectedClients, subscriptionsOf } from './internals.js';

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

export async function startHub(config: HubConfig, opts: HubOptions = {}): Promise<Hub> {
  const cwd = opts.cwd ?? process.cwd();
  const logger = opts.logger ?? createLogger(config.logger, {}, { cwd });
  warnUnusablePrincipals(config, logger);
  const store = await openStore(config.storage.dir, cwd);
  const ctx = hubContext(config, logger, store);

  // 1. The broker, with aedes' handlers, in the order a connection meets them.
  const routed = new PublishWithRoutes(ctx);
  aedesPacketWriter().writeToStream.cacheNumbers = false;
  let broker: Aedes;
  try {
    broker = await Aedes.createBroker({
      persistence: store.persistence,
      connectTimeout: 30_000,
      drainTimeout: config.message.egress.drain.timeout,
      // Client ids are checked in authenticate (Baetyl: up to 128 characters of [0-9A-Za-z_-]).
      maxClientsIdLength: 65535,
      preConnect: preConnect(ctx),
      authenticate: authenticate(ctx),
      authorizePublish: authorizePublish(ctx, routed),
      authorizeSubscribe: authorizeSubscribe(ctx),
    });
  } catch (err) {
    await store.close();
    throw err;
  }

  // 2. What the hub changes in the broker, before any client connects.
  routed.install(broker);
  logBrokerEvents(ctx, broker);
  await replayStoredWills(ctx, broker);

  // 3. What each new connection goes through, in order, right after aedes made its client.
  const connectionSteps: ConnectionStep[] = [refuseInvalidFilters(ctx), queueDeliveries(ctx, broker)];

  // 4. The listeners.
  let listeners: OpenListener[];
  try {
    listeners = await openListeners(ctx, acceptConnections(ctx, broker, connectionSteps), cwd);
  } catch (err) {
    await new Promise<void>((ok) => broker.close(() => ok()));
    await store.close();
    throw err;
  }

  const subscriptionCount = (): number => {
    let n = 0;
    for (const client of connectedClients(broker)) n += Object.keys(subscriptionsOf(client)).length;
    return n;
  };
  const { counters, routes } = ctx;
  const stats = (): HubStats => ({
    clients: broker.connectedClients,
    subscriptions: subscriptionCount(),
    messages_in: sum(counters.messagesIn),
    messages_out: sum(counters.messagesOut),
    messages_dropped: sum(Object.values(counters.dropped).flat()),
    bytes_in: counters.bytesIn,
    bytes_out: counters.bytesOut,
    rule_count: routes.size,
  });

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      ctx.stopping = true;
      await discardWills(ctx, broker);
      await new Promise<void>((ok) => broker.close(() => ok()));
      await Promise.all(listeners.map((l) => l.close()));
      ctx.closings.flush();
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

function warnUnusablePrincipals(config: HubConfig, logger: Logger): void {
  const tlsListener = config.listen.some((u) => /^(ssl|tls|wss):/.test(u));
  config.principals.forEach((p, i) => {
    if (!p.password && (!config.certificate.ca || !tlsListener)) {
      logger.warn(
        `principals[${i}] ("${p.username}") has no password, so it needs a client certificate, but ${config.certificate.ca ? 'there is no ssl:// or wss:// listener' : 'certificate.ca is not set'}: nobody can connect as it`,
      );
    }
  });
}

/** One listener per `listen` URL, in order; those opened are closed again if one fails. */
async function openListeners(ctx: HubContext, accept: Accept, cwd: string): Promise<OpenListener[]> {
  const { config, logger } = ctx;
  const listeners: OpenListener[] = [];
  try {
    for (const url of config.listen) {
      const l = await openListener(url, config.certificate, cwd, {
        accept,
        maxPacket: config.message.length.max,
        rejected: (remote, why) => {
          logger.warn(`TLS handshake refused: ${why}`, { remote });
          ctx.refused('tls_handshake');
        },
      });
      listeners.push(l);
      logger.info('hub listening', { address: l.address });
    }
  } catch (err) {
    for (const l of listeners) await l.close();
    throw err;
  }
  return listeners;
}
