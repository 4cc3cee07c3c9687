// The function manager's etc/baetyl/service.yml, exactly as Baetyl v1 reads it (every key it
// accepts, with its defaults). Durations become milliseconds and sizes bytes when loaded.
import { type Schema } from '@baetyl/core/config';
import { loggerSchema, type LoggerConfig } from '@baetyl/core/log';
import { certificateProperties, clientInfoProperties, topicInfoSchema, type ClientInfo, type TopicInfo } from '@baetyl/core/mqtt';

/**
 * How each rule reaches the hub (Baetyl's mqtt.ClientInfo); a rule's clientid overrides hub.clientid.
 * `message.length.max` is ours: the hub's limit on one packet, so that a result over it becomes an
 * error payload instead of a packet the hub answers by closing the connection.
 */
export type HubConfig = ClientInfo & { message: { length: { max?: number } } };
export type { TopicInfo };

export interface RuleConfig {
  clientid?: string;
  subscribe: TopicInfo;
  function: { name: string };
  publish: TopicInfo;
  /** Total attempts for one message (at least one is always made). */
  retry: { max: number };
}

export interface FunctionConfig {
  name: string;
  /** The application service whose instances run this function. */
  service: string;
  instance: {
    min: number;
    max: number;
    /** ms an instance may stay idle before it is stopped; 0 = never. */
    idletime: number;
    /** ms between two eviction checks; 0 = no eviction. */
    evicttime: number;
    /** Baetyl's docs put message.length.max here (its code ignored it); used when the right key is absent. */
    message: { length: { max?: number } };
    /**
     * Our extension: calls sent to one instance at once (Baetyl sent one). The runtime still runs
     * them one at a time per worker process; see docs/function-manager.md. Unset: 8, and deeper
     * for a fast function's batch (pool/batching.ts).
     */
    concurrency?: number;
  };
  /** gRPC message size limit, bytes (default 4m, applied by messageLengthMax()). */
  message: { length: { max?: number } };
  backoff: { max: number };
  /** gRPC dial timeout and per-call deadline, ms. */
  timeout: number;
}

/** The optional gRPC endpoint of Baetyl v1: baetyl.Function/Call by function name (server/function-server.ts). */
export interface ServerConfig {
  /** `host:port`, `tcp://host:port` or `unix://path`; unset = no endpoint. */
  address?: string;
  /** The deadline of one call through the endpoint, ms. */
  timeout: number;
  message: { length: { max: number } };
  concurrent: { max?: number };
  workers: { max?: number };
  ca?: string;
  key?: string;
  cert?: string;
  insecure?: boolean;
}

export interface FunctionManagerConfig {
  hub: HubConfig;
  rules: RuleConfig[];
  functions: FunctionConfig[];
  server: ServerConfig;
  /** Ours, as the hub's: how often the manager reports its metrics to the master, ms (0: never). */
  metrics: { report: { interval: number } };
  logger: LoggerConfig;
}

export const DEFAULT_MESSAGE_LENGTH_MAX = 4 * 1024 * 1024;

/** The gRPC message size limit of a function: `message.length.max`, else `instance.message.length.max`, else 4m. */
export function messageLengthMax(fn: FunctionConfig): number {
  return fn.message.length.max ?? fn.instance.message.length.max ?? DEFAULT_MESSAGE_LENGTH_MAX;
}

/** Calls in flight per instance when functions[].instance.concurrency is not set and the calls are not batched (chosen by measurement, docs/performance.md). */
export const DEFAULT_INSTANCE_CONCURRENCY = 8;
/**
 * Calls one instance of a fast function takes at once when instance.concurrency is not set (the
 * batch's depth, pool/batching.ts). Deeper batches mean fewer wake-ups and writes per call all
 * along the path (docs/performance.md, round 12: the python36 flood at 8, 16, 32 and 64).
 */
export const BATCH_DEPTH = 32;
export const MAX_INSTANCE_CONCURRENCY = 1000;

/** Why keys of v1's server block do nothing in the function manager (said in its log when set). */
export const UNUSED_SERVER_WHY = {
  workers: "calls are limited by each function's instance.max and instance.concurrency",
  insecure: 'it only has a meaning for clients',
} as const;

/** Those keys, for the JSON Schema editors use. */
export const UNUSED_KEYS: ReadonlyArray<readonly [string[], string]> = [
  [['server', 'workers', 'max'], UNUSED_SERVER_WHY.workers],
  [['server', 'insecure'], UNUSED_SERVER_WHY.insecure],
];

const duration = (def?: string): Schema => ({ type: ['string', 'integer'], duration: true, ...(def === undefined ? {} : { default: def }) });
const size = (def?: string): Schema => ({ type: ['string', 'integer'], size: true, ...(def === undefined ? {} : { default: def }) });
const str: Schema = { type: 'string' };

function object(properties: Record<string, Schema>, extra: Schema = {}): Schema {
  return { type: 'object', additionalProperties: false, default: {}, properties, ...extra };
}

const lengthMax = (def?: string): Schema => object({ length: object({ max: size(def) }) });

const topicInfo = topicInfoSchema;
const certificate = certificateProperties;

export const functionManagerSchema: Schema = object({
  // v1's function manager waited 10m between pings, not ClientInfo's usual 1m.
  // message.length.max: the hub's (its service.yml's, default 32k); ours, v1 had no such key here.
  // No default: unset, the manager reads the hub's own config when it can (publish/hub-limit.ts).
  hub: object({ ...clientInfoProperties({ keepalive: '10m' }), message: lengthMax() }),
  rules: {
    type: 'array',
    default: [],
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['subscribe', 'function', 'publish'],
      properties: {
        clientid: str,
        subscribe: topicInfo(),
        function: { type: 'object', additionalProperties: false, required: ['name'], properties: { name: { type: 'string', minLength: 1 } } },
        publish: topicInfo(),
        retry: object({ max: { type: 'integer', minimum: 0, default: 3 } }),
      },
    },
  },
  functions: {
    type: 'array',
    default: [],
    items: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'service'],
      properties: {
        name: { type: 'string', minLength: 1 },
        service: { type: 'string', minLength: 1 },
        instance: object({
          min: { type: 'integer', minimum: 0, maximum: 100, default: 0 },
          max: { type: 'integer', minimum: 1, maximum: 100, default: 1 },
          idletime: duration('10m'),
          evicttime: duration('1m'),
          message: lengthMax(),
          // No default: unset, a fast function's batch may go deeper than DEFAULT_INSTANCE_CONCURRENCY (pool/batching.ts).
          concurrency: {
            type: 'integer',
            minimum: 1,
            maximum: MAX_INSTANCE_CONCURRENCY,
            description: `Calls sent to one instance at once. Unset: ${DEFAULT_INSTANCE_CONCURRENCY}, and up to ${BATCH_DEPTH} for a fast function's batch.`,
          },
        }),
        message: lengthMax(),
        backoff: object({ max: duration('1m') }),
        timeout: duration('30s'),
      },
    },
  },
  server: object({
    address: str,
    timeout: duration('2m'),
    message: lengthMax('4m'),
    concurrent: object({ max: { type: 'integer', minimum: 0 } }),
    workers: object({ max: { type: 'integer', minimum: 0 } }),
    ...certificate,
  }),
  metrics: object({ report: object({ interval: duration('1m') }) }),
  logger: loggerSchema(),
});
