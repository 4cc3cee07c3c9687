// How a service reaches an MQTT broker, as Baetyl v1 configures it (its mqtt.ClientInfo): the
// function manager's and the timer's `hub`, and remote-mqtt's `hub` and `remotes[]`. One schema
// and one translation to MQTT.js options, so every service reads these keys the same way.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { IClientOptions } from 'mqtt';
import type { Schema } from '../config/load.js';

/** A topic and the QoS to use on it (Baetyl's mqtt.TopicInfo). */
export interface TopicInfo {
  topic: string;
  qos: 0 | 1;
}

/** Baetyl's mqtt.ClientInfo, loaded: durations in ms. */
export interface ClientInfo {
  address?: string;
  username?: string;
  password?: string;
  ca?: string;
  key?: string;
  cert?: string;
  insecure: boolean;
  clientid?: string;
  cleansession: boolean;
  /** Connect timeout, ms. */
  timeout: number;
  /** Longest wait between reconnect attempts, ms (the wait starts at FIRST_RECONNECT_DELAY and doubles). */
  interval: number;
  /** MQTT keep-alive, ms; 0 = none (v1's `keepalive: -1`, "no ping/pong"). */
  keepalive: number;
  /** v1's in-flight buffer; accepted for compatibility. */
  buffersize: number;
  /** When true, a refused subscription drops the connection (it is retried after backoff). */
  validatesubs: boolean;
  subscriptions: TopicInfo[];
}

/** The first reconnect wait; it doubles up to `interval`, and starts over once connected. */
export const FIRST_RECONNECT_DELAY = 500;

const str: Schema = { type: 'string' };
const duration = (def: string): Schema => ({ type: ['string', 'integer'], duration: true, default: def });

export function topicInfoSchema(): Schema {
  return {
    type: 'object',
    additionalProperties: false,
    required: ['topic'],
    properties: { topic: { type: 'string', minLength: 1 }, qos: { type: 'integer', enum: [0, 1], default: 0 } },
  };
}

/** The certificate keys of v1's utils.Certificate (inlined into ClientInfo and server blocks). */
export const certificateProperties: Record<string, Schema> = { ca: str, key: str, cert: str, insecure: { type: 'boolean', default: false } };

/** The properties of a ClientInfo block, with v1's defaults (a service may change keepalive's). */
export function clientInfoProperties(defaults: { keepalive?: string } = {}): Record<string, Schema> {
  return {
    address: str,
    username: str,
    password: str,
    ...certificateProperties,
    clientid: str,
    cleansession: { type: 'boolean', default: false },
    timeout: duration('30s'),
    interval: duration('1m'),
    // A negative keep-alive (v1's examples write -1) turns pings off.
    keepalive: { type: ['string', 'integer'], duration: 'or-off', default: defaults.keepalive ?? '1m' },
    buffersize: { type: 'integer', minimum: 0, default: 10 },
    validatesubs: { type: 'boolean', default: false },
    subscriptions: { type: 'array', default: [], items: topicInfoSchema() },
  };
}

export interface ClientOptionsFor {
  /** Overrides info.clientid (a function manager rule's own id). */
  clientid?: string | undefined;
  /** Where relative ca/cert/key paths start (the service's working directory). */
  cwd: string;
  /** The config block, for messages: `hub`, `remotes[0]`. */
  label: string;
}

/**
 * The MQTT.js protocol of each address scheme Baetyl accepts. Given explicitly: MQTT.js 5 refuses
 * `ssl://` and `tcp://` once a client certificate is set ("Unknown protocol for secure connection").
 */
const PROTOCOLS: Record<string, 'mqtt' | 'mqtts' | 'ws' | 'wss'> = {
  tcp: 'mqtt',
  mqtt: 'mqtt',
  ssl: 'mqtts',
  tls: 'mqtts',
  mqtts: 'mqtts',
  ws: 'ws',
  wss: 'wss',
};

/** Whether an address is TLS (ssl://, mqtts://, wss://): only then are ca/cert/key used. */
export function isSecureAddress(address: string | undefined): boolean {
  const p = PROTOCOLS[/^([a-z]+):\/\//.exec(address ?? '')?.[1] ?? ''];
  return p === 'mqtts' || p === 'wss';
}

/** Why `address` is not one a service can dial, or undefined when it is. */
export function brokerAddressProblem(address: string): string | undefined {
  const scheme = /^([a-z]+):\/\/[^/]/.exec(address)?.[1];
  if (scheme && scheme in PROTOCOLS) return undefined;
  return `"${address}" is not a broker address; use tcp://host:port or ssl://host:port (also ws://, wss://)`;
}

/** The certificate keys set on a block whose address is not TLS: they do nothing there, so they are reported. */
export function unusedCertificateKeys(info: Pick<ClientInfo, 'address' | 'ca' | 'cert' | 'key'>): Array<'ca' | 'cert' | 'key'> {
  if (!info.address || isSecureAddress(info.address)) return [];
  return (['ca', 'cert', 'key'] as const).filter((k) => info[k]);
}

/** The warning for a key unusedCertificateKeys found. */
export const unusedCertificateMessage = (address: string) => `is not used: ${address} is not a TLS address; use ssl:// (or wss://) to connect with TLS`;

/** MQTT.js options for a ClientInfo. Throws with the block's key when a certificate file cannot be read. */
export function mqttClientOptions(info: ClientInfo, at: ClientOptionsFor): IClientOptions {
  const clientid = at.clientid ?? info.clientid;
  const protocol = PROTOCOLS[/^([a-z]+):\/\//.exec(info.address ?? '')?.[1] ?? ''];
  const opts: IClientOptions = {
    protocolVersion: 4,
    // Without a client id there is no session to keep: the client gets a random id and a clean session.
    clean: clientid ? info.cleansession : true,
    keepalive: Math.min(65535, Math.round(info.keepalive / 1000)),
    connectTimeout: info.timeout,
    reconnectPeriod: FIRST_RECONNECT_DELAY,
    reconnectOnConnackError: true,
    // Subscriptions are made by the service on connect (only when the broker kept no session).
    resubscribe: false,
    // mqtt-packet's number cache (a Buffer for each of the 65,536 two-byte values, 6 MB of heap
    // for the life of the process) saves one 2-byte allocation per packet; not worth it here.
    writeCache: false,
  };
  if (protocol) opts.protocol = protocol;
  if (clientid) opts.clientId = clientid;
  if (info.username !== undefined) opts.username = info.username;
  if (info.password !== undefined) opts.password = info.password;
  const file = (key: string, p: string) => {
    const path = isAbsolute(p) ? p : resolve(at.cwd, p);
    try {
      return readFileSync(path);
    } catch (err) {
      throw new Error(`${at.label}.${key}: cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  };
  // On a plain address (tcp://, ws://) MQTT.js would turn a client certificate into TLS.
  if (protocol && !isSecureAddress(info.address)) return opts;
  if (info.ca) opts.ca = file('ca', info.ca);
  if (info.cert) opts.cert = file('cert', info.cert);
  if (info.key) opts.key = file('key', info.key);
  opts.rejectUnauthorized = !info.insecure;
  return opts;
}
