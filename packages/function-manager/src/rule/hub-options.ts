// The MQTT client options of one rule's hub connection, from the `hub` block and the rule.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { IClientOptions } from 'mqtt';
import type { HubConfig } from '../config/schema.js';

/** The first reconnect wait; it doubles up to hub.interval, and starts over once connected. */
export const FIRST_RECONNECT_DELAY = 500;

export function hubClientOptions(hub: HubConfig, clientid: string | undefined, cwd: string): IClientOptions {
  const opts: IClientOptions = {
    protocolVersion: 4,
    // Without a client id there is no session to keep: the client gets a random id and a clean session.
    clean: clientid ? hub.cleansession : true,
    keepalive: Math.min(65535, Math.round(hub.keepalive / 1000)),
    connectTimeout: hub.timeout,
    reconnectPeriod: FIRST_RECONNECT_DELAY,
    reconnectOnConnackError: true,
    // Subscriptions are made by the rule on connect (only when the hub kept no session).
    resubscribe: false,
    // mqtt-packet's number cache (a Buffer for each of the 65,536 two-byte values, 6 MB of heap
    // for the life of the process) saves one 2-byte allocation per packet; not worth it here.
    writeCache: false,
  };
  if (clientid) opts.clientId = clientid;
  if (hub.username !== undefined) opts.username = hub.username;
  if (hub.password !== undefined) opts.password = hub.password;
  const file = (key: string, p: string) => {
    const path = isAbsolute(p) ? p : resolve(cwd, p);
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`hub.${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  if (hub.ca) opts.ca = file('ca', hub.ca);
  if (hub.cert) opts.cert = file('cert', hub.cert);
  if (hub.key) opts.key = file('key', hub.key);
  opts.rejectUnauthorized = !hub.insecure;
  return opts;
}
