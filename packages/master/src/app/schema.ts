// The two shapes of var/db/baetyl/application.yml (Baetyl v1 §1.3): the v0 list shape every doc
// uses, and the compose-like map shape of stable/1.
import type { Schema } from '@baetyl/core/config';

const NAME = {
  type: 'string',
  pattern: '^[a-zA-Z0-9][a-zA-Z0-9_-]{0,63}$',
  'x-hint': 'names start with a letter or digit and hold up to 64 letters, digits, "_" or "-"',
};
const duration = (def?: string) => (def ? { type: ['string', 'integer'], duration: true, default: def } : { type: ['string', 'integer'], duration: true });
const size = { type: ['string', 'integer'], size: true };
const strings = { type: 'array', items: { type: 'string' }, default: [] };
const stringMap = { type: 'object', additionalProperties: { type: 'string' }, default: {} };

export const restartSchema: Schema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    policy: { type: 'string', enum: ['always', 'on-failure', 'no'], default: 'always' },
    retry: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: { max: { type: 'integer', minimum: 0, default: 0 } },
    },
    backoff: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        min: duration('1s'),
        max: duration('5m'),
        factor: { type: 'number', minimum: 1, default: 2 },
        // Ours: a run this long counts as healthy, and the next crash starts the backoff again at min.
        reset: duration('1m'),
      },
    },
  },
};

export const resourcesSchema: Schema = {
  type: 'object',
  additionalProperties: false,
  default: {},
  properties: {
    cpu: { type: 'object', additionalProperties: false, properties: { cpus: { type: 'number', exclusiveMinimum: 0 }, setcpus: { type: 'string' } } },
    memory: { type: 'object', additionalProperties: false, properties: { limit: size, swap: size } },
    pids: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1 } } },
  },
};

const networksOfService = {
  anyOf: [
    { type: 'array', items: { type: 'string' } },
    {
      type: 'object',
      additionalProperties: {
        type: ['object', 'null'],
        additionalProperties: false,
        properties: { aliases: { type: 'array', items: { type: 'string' } }, ipv4_address: { type: 'string' } },
      },
    },
  ],
};

const networkDefs = {
  type: 'object',
  default: {},
  additionalProperties: {
    type: ['object', 'null'],
    additionalProperties: false,
    properties: {
      driver: { type: 'string', default: 'bridge' },
      driver_opts: stringMap,
      labels: stringMap,
    },
  },
};

const networkMode = { type: 'string', pattern: '^(bridge|host|none)?$', 'x-hint': 'use bridge, host or none' };

/** The v0 list shape: `services: [...]`, `volumes: [...]`. */
export const appListSchema: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    version: { type: 'string', default: '' },
    services: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'image'],
        properties: {
          name: NAME,
          image: { type: 'string', minLength: 1 },
          replica: { type: 'integer', minimum: 0, default: 0 },
          mounts: {
            type: 'array',
            default: [],
            items: {
              type: 'object',
              additionalProperties: false,
              required: ['name', 'path'],
              properties: { name: NAME, path: { type: 'string', minLength: 1 }, readonly: { type: 'boolean', default: false } },
            },
          },
          ports: strings,
          devices: strings,
          args: strings,
          entrypoint: strings,
          hostname: { type: 'string' },
          env: stringMap,
          restart: restartSchema,
          resources: resourcesSchema,
          network_mode: networkMode,
          networks: networksOfService,
          runtime: { type: 'string' },
        },
      },
    },
    volumes: {
      type: 'array',
      default: [],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'path'],
        properties: {
          name: NAME,
          path: { type: 'string', minLength: 1 },
          meta: {
            type: 'object',
            additionalProperties: false,
            properties: { url: { type: 'string' }, md5: { type: 'string' }, version: { type: 'string' } },
          },
        },
      },
    },
    networks: networkDefs,
  },
};

const composeVolume = {
  anyOf: [
    { type: 'string', minLength: 1 },
    {
      type: 'object',
      additionalProperties: false,
      required: ['source', 'target'],
      properties: {
        type: { type: 'string', enum: ['volume', 'bind'], default: 'volume' },
        source: { type: 'string' },
        target: { type: 'string' },
        read_only: { type: 'boolean', default: false },
      },
    },
  ],
};

/** The compose-like map shape: `services: {name: {...}}`, `volumes: {name: {...}}`. */
export const appComposeSchema: Schema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    version: { type: 'string', default: '' },
    name: { type: 'string' },
    app_version: { type: 'string' },
    services: {
      type: 'object',
      default: {},
      propertyNames: NAME,
      additionalProperties: {
        type: 'object',
        additionalProperties: false,
        required: ['image'],
        properties: {
          container_name: { type: 'string' },
          hostname: { type: 'string' },
          image: { type: 'string', minLength: 1 },
          replica: { type: 'integer', minimum: 0, default: 0 },
          volumes: { type: 'array', default: [], items: composeVolume },
          network_mode: networkMode,
          networks: networksOfService,
          ports: strings,
          devices: strings,
          depends_on: strings,
          command: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
          entrypoint: { anyOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
          environment: { anyOf: [stringMap, { type: 'array', items: { type: 'string' } }] },
          restart: restartSchema,
          resources: resourcesSchema,
          runtime: { type: 'string' },
        },
      },
    },
    volumes: {
      type: 'object',
      default: {},
      propertyNames: NAME,
      additionalProperties: {
        type: ['object', 'null'],
        additionalProperties: false,
        properties: {
          driver: { type: 'string', default: 'local' },
          driver_opts: stringMap,
          labels: stringMap,
          // Ours, for native mode: where the named volume lives under the workdir.
          path: { type: 'string' },
        },
      },
    },
    networks: networkDefs,
  },
};
