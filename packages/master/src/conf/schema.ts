// etc/baetyl/conf.yml: the master's own configuration (Baetyl v1 §1.2).
import { type Schema } from '@baetyl/core/config';
import { loggerSchema, type LoggerConfig } from '@baetyl/core/log';

export interface MasterConfig {
  mode: 'native' | 'docker';
  server: { address: string; timeout: number; ca?: string; key?: string; cert?: string };
  /** The Prometheus endpoint (docs/metrics.md); off without an address. */
  metrics: { address?: string; ca?: string; key?: string; cert?: string };
  logger: LoggerConfig;
  otalog: LoggerConfig;
  /** Stop timeout for instances, in milliseconds. */
  grace: number;
  snfile?: string;
  docker: { api_version?: string };
}

const duration = (def: string) => ({ type: ['string', 'integer'], duration: true, default: def });

export const masterConfigSchema: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    // Baetyl v1 defaults to docker; we default to native, which needs nothing but Node.
    mode: { type: 'string', enum: ['native', 'docker'], default: 'native' },
    server: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        // Relative to the workdir, so two masters on two workdirs never share a socket.
        address: {
          type: 'string',
          default: 'unix://var/run/baetyl.sock',
          pattern: '^(unix|tcp)://.+',
          'x-hint': 'write unix:///path/to/baetyl.sock, unix://relative/to/workdir.sock or tcp://127.0.0.1:50050',
        },
        timeout: duration('5m'),
        ca: { type: 'string' },
        key: { type: 'string' },
        cert: { type: 'string' },
      },
    },
    // Ours: GET /metrics for Prometheus, off unless an address is set; TLS as for server.
    metrics: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        address: {
          type: 'string',
          pattern: '^tcp://([^:/\\[\\]]*|\\[[0-9a-fA-F:.]+\\]):[0-9]{1,5}/?$',
          'x-hint': 'write tcp://127.0.0.1:9600 (tcp://0.0.0.0:9600 to be scraped from other hosts); Prometheus scrapes over TCP only',
        },
        ca: { type: 'string' },
        key: { type: 'string' },
        cert: { type: 'string' },
      },
    },
    logger: loggerSchema('var/log/baetyl/baetyl.log'),
    otalog: { ...loggerSchema('var/db/baetyl/ota.log'), default: { path: 'var/db/baetyl/ota.log', format: 'json' } },
    grace: duration('30s'),
    snfile: { type: 'string' },
    docker: {
      type: 'object',
      additionalProperties: false,
      default: {},
      // Accepted for compatibility. We never pin the API version unless told: pinning it was
      // the most common Docker error in Baetyl v1.
      properties: { api_version: { type: 'string' } },
    },
  },
};
