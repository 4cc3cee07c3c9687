// What the hub's hooks share: the config, the store, who may connect, the routes, the counters,
// and what the hub knows of each connection. startHub builds one and hands it to every hook.
import type { AedesOptions, Client } from 'aedes';
import type { Logger } from '@baetyl/core/log';
import { Principals } from '../auth/principals.js';
import type { HubConfig } from '../config/schema.js';
import type { GuardedConnection, PeerInfo } from '../listeners/guard.js';
import { LogAggregator } from '../logging/aggregate.js';
import { newTrafficCounters, type ConnectRefusal, type TrafficCounters } from '../metrics/stats.js';
import type { Store } from '../persistence/store.js';
import { RenameRoutes } from '../routes/rename.js';
import { ClientStates } from './state.js';

export interface HubContext {
  readonly config: HubConfig;
  readonly logger: Logger;
  readonly store: Store;
  readonly principals: Principals;
  readonly routes: RenameRoutes;
  readonly counters: TrafficCounters;
  readonly clients: ClientStates;
  /**
   * aedes reports a closed connection once per pending write: what it reports of one client's end
   * within a second is one line, with the first reason and a count.
   */
  readonly closings: LogAggregator;
  /** Set by Hub.close(): new connections are refused. */
  stopping: boolean;
  /** Counts a refused CONNECT by reason (metrics). */
  refused(why: ConnectRefusal): void;
}

export function hubContext(config: HubConfig, logger: Logger, store: Store): HubContext {
  const counters = newTrafficCounters();
  return {
    config,
    logger,
    store,
    principals: new Principals(config.principals),
    routes: new RenameRoutes(config.subscriptions),
    counters,
    clients: new ClientStates(),
    closings: new LogAggregator(logger),
    stopping: false,
    refused: (why) => counters.refusedConnects[why]++,
  };
}

/** Every client's connection is the hub's GuardedConnection (hooks/connection.ts hands it to aedes). */
export function peerOf(client: Client): PeerInfo {
  return (client.conn as GuardedConnection).peer;
}

/** Closes a client's connection with a reason (the guard logs nothing; the caller does). */
export function dropConnection(client: Client, why: string): void {
  (client.conn as GuardedConnection).destroy(new Error(why));
}

/** aedes' handlers, as its options take them (hooks/*.ts make them). */
export type PreConnect = NonNullable<AedesOptions['preConnect']>;
export type Authenticate = NonNullable<AedesOptions['authenticate']>;
export type AuthorizePublish = NonNullable<AedesOptions['authorizePublish']>;
export type AuthorizeSubscribe = NonNullable<AedesOptions['authorizeSubscribe']>;

/** What a new connection goes through right after aedes made its client (hooks/connection.ts). */
export type ConnectionStep = (client: Client) => void;
