// The hub's etc/baetyl/service.yml, exactly as Baetyl v1 accepts it (reference §2.1), with its
// defaults. Every key v1 knows is listed, even the ones we accept and ignore, because unknown
// keys are errors.
import { type Schema } from '@baetyl/core/config';
import { loggerSchema, type LoggerConfig } from '@baetyl/core/log';

const duration = (def: string): Schema => ({ type: ['string', 'integer'], duration: true, default: def });
const count = (def: number, max?: number): Schema => ({ type: 'integer', minimum: 1, ...(max ? { maximum: max } : {}), default: def });
const obj = (properties: Record<string, Schema>, extra: Schema = {}): Schema => ({
  type: 'object',
  additionalProperties: false,
  default: {},
  properties,
  ...extra,
});
const qos: Schema = { type: 'integer', minimum: 0, maximum: 1, default: 0 };

export const LISTEN_PATTERN = '^(tcp|ssl|tls|ws|wss)://[^\\s]*$';

export const hubConfigSchema: Schema = obj({
  listen: {
    type: 'array',
    default: [],
    items: {
      type: 'string',
      pattern: LISTEN_PATTERN,
      'x-hint': 'write a listener as tcp://host:port, ssl://host:port, ws://host:port/path or wss://host:port/path',
    },
  },
  certificate: obj({
    ca: { type: 'string' },
    key: { type: 'string' },
    cert: { type: 'string' },
    insecure: { type: 'boolean', default: false },
  }),
  principals: {
    type: 'array',
    default: [],
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['username'],
      properties: {
        username: { type: 'string', minLength: 1 },
        password: { type: 'string', default: '' },
        permissions: {
          type: 'array',
          default: [],
          items: {
            type: 'object',
            additionalProperties: false,
            required: ['action'],
            properties: {
              action: { type: 'string', enum: ['pub', 'sub'] },
              permit: { type: 'array', default: [], items: { type: 'string' } },
            },
          },
        },
      },
    },
  },
  subscriptions: {
    type: 'array',
    default: [],
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['source', 'target'],
      properties: {
        source: obj({ topic: { type: 'string' }, qos }, { required: ['topic'] }),
        target: obj({ topic: { type: 'string' }, qos }, { required: ['topic'] }),
      },
    },
  },
  message: obj({
    length: obj({ max: { type: ['string', 'integer'], size: true, default: '32k' } }),
    ingress: obj({
      qos0: obj({ buffer: obj({ size: count(10000) }) }),
      qos1: obj({
        buffer: obj({ size: count(100) }),
        batch: obj({ max: count(50) }),
        cleanup: obj({ retention: duration('48h'), interval: duration('1m') }),
      }),
    }),
    egress: obj({
      qos0: obj({ buffer: obj({ size: count(10000) }) }),
      qos1: obj({
        buffer: obj({ size: count(100, 65535) }),
        batch: obj({ max: count(50, 10000) }),
        retry: obj({ interval: duration('20s') }),
      }),
      // Not in Baetyl v1: how long a client may leave the hub's writes unread before it is
      // disconnected, so that one frozen consumer cannot hold up delivery to the others.
      drain: obj({ timeout: duration('30s') }),
      // Not in Baetyl v1: the most bytes of messages waiting in memory for one client. QoS 0
      // beyond it is dropped; a clean session's QoS 1 beyond it disconnects the client.
      bytes: obj({ max: { type: ['string', 'integer'], size: true, default: '8m' } }),
    }),
    offset: obj({ buffer: obj({ size: count(10000) }), batch: obj({ max: count(100) }) }),
  }),
  storage: obj({ dir: { type: 'string', minLength: 1, default: 'var/db/baetyl/data' } }),
  shutdown: obj({ timeout: duration('10m') }),
  metrics: obj({ report: obj({ interval: duration('1m') }) }),
  // stable/1 opened Go's pprof on this port; there is nothing like it here, so it is accepted and ignored.
  pprof: {},
  // Documented by Baetyl v1 but never read by its code; accepted and ignored.
  status: obj({ logging: obj({ enable: { type: 'boolean', default: false }, interval: duration('1m') }) }),
  logger: loggerSchema(),
});

export interface Permission {
  action: 'pub' | 'sub';
  permit: string[];
}

export interface Principal {
  username: string;
  /** Empty: a certificate principal (TLS client certificate instead of a password). */
  password: string;
  permissions: Permission[];
}

export interface RouteEnd {
  topic: string;
  qos: 0 | 1;
}

export interface RouteConfig {
  source: RouteEnd;
  target: RouteEnd;
}

/** The validated service.yml; durations are milliseconds and sizes bytes. */
export interface HubConfig {
  listen: string[];
  certificate: { ca?: string; key?: string; cert?: string; insecure: boolean };
  principals: Principal[];
  subscriptions: RouteConfig[];
  message: {
    length: { max: number };
    ingress: {
      qos0: { buffer: { size: number } };
      qos1: { buffer: { size: number }; batch: { max: number }; cleanup: { retention: number; interval: number } };
    };
    egress: {
      qos0: { buffer: { size: number } };
      qos1: { buffer: { size: number }; batch: { max: number }; retry: { interval: number } };
      drain: { timeout: number };
      bytes: { max: number };
    };
    offset: { buffer: { size: number }; batch: { max: number } };
  };
  storage: { dir: string };
  shutdown: { timeout: number };
  metrics: { report: { interval: number } };
  pprof?: unknown;
  status: { logging: { enable: boolean; interval: number } };
  logger: LoggerConfig;
}

/** MQTT's largest packet: 1 byte of type, 4 of length, 268435455 of content. */
export const MAX_MQTT_PACKET = 268435455;
