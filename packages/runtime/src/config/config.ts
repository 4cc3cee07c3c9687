// The runtime's etc/baetyl/service.yml (Baetyl v1 §4.2): every key the original python, node and
// sql runtimes read, plus one block of our own, `runtime:`, for settings v1 baked into its images.
import { ConfigError, type ConfigProblem } from '@baetyl/core/config/errors';
import { parseYaml, problemAt, readConfigText, validateConfig, type Schema } from '@baetyl/core/config/load';
import type { LoggerConfig } from '@baetyl/core/log/logger';
import { loggerSchema } from '@baetyl/core/log/schema';
import type { RuntimeKind } from './kinds.js';

export { INSTANCE_NODE_FLAGS, RUNTIMES, type RuntimeKind } from './kinds.js';

export interface FunctionConfig {
  name: string;
  handler: string;
  /** Where the code is, relative to the working directory (python and node only). */
  codedir?: string;
}

export interface ServerConfig {
  address?: string;
  /** Cap on a call's run time in ms, on top of the caller's deadline. */
  timeout?: number;
  /** Worker processes, i.e. calls that run in parallel (python, node). */
  workers: { max?: number };
  /** Calls in flight (running + waiting) before new ones are refused. */
  concurrent: { max?: number };
  message: { length: { max: number } };
  ca?: string;
  key?: string;
  cert?: string;
}

export interface RuntimeConfig {
  name?: string;
  server: ServerConfig;
  functions: FunctionConfig[];
  logger: LoggerConfig;
  /** Our own settings. */
  runtime: {
    /** The Python interpreter for python27/python36 (a path or a command on PATH). */
    python?: string;
    /** How long a spare worker may stay idle before it is stopped (ms). */
    idle?: number;
  };
}

const positiveInt = { type: 'integer', minimum: 1 };

export const runtimeConfigSchema: Schema = {
  type: 'object',
  additionalProperties: false,
  required: ['functions'],
  properties: {
    name: { type: 'string' },
    server: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        address: { type: 'string', minLength: 1 },
        timeout: { type: ['string', 'integer'], duration: true },
        workers: { type: 'object', additionalProperties: false, default: {}, properties: { max: positiveInt } },
        concurrent: { type: 'object', additionalProperties: false, default: {}, properties: { max: positiveInt } },
        message: {
          type: 'object',
          additionalProperties: false,
          default: {},
          properties: {
            length: {
              type: 'object',
              additionalProperties: false,
              default: {},
              properties: { max: { type: ['string', 'integer'], size: true, default: 4 * 1024 * 1024 } },
            },
          },
        },
        ca: { type: 'string' },
        key: { type: 'string' },
        cert: { type: 'string' },
      },
    },
    functions: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'handler'],
        properties: {
          name: { type: 'string', minLength: 1 },
          handler: { type: 'string', minLength: 1 },
          codedir: { type: 'string', minLength: 1 },
        },
      },
    },
    logger: loggerSchema(),
    runtime: {
      type: 'object',
      additionalProperties: false,
      default: {},
      properties: {
        python: { type: 'string', minLength: 1 },
        idle: { type: ['string', 'integer'], duration: true },
      },
    },
  },
};

function pick(env: NodeJS.ProcessEnv, ...names: string[]): string | undefined {
  for (const n of names) {
    const v = env[n];
    if (v !== undefined && v !== '') return v;
  }
  return undefined;
}

/** Loads and checks the config for one runtime kind, applying the instance's env like v1 did. */
export function loadRuntimeConfig(file: string, kind: RuntimeKind, env: NodeJS.ProcessEnv = process.env, onWarning?: (m: string) => void): RuntimeConfig {
  const parsed = parseYaml(readConfigText(file), file, { env, ...(onWarning ? { onWarning } : {}) });
  const cfg = validateConfig<RuntimeConfig>(parsed, file, runtimeConfigSchema);
  const name = pick(env, 'BAETYL_SERVICE_INSTANCE_NAME', 'OPENEDGE_SERVICE_INSTANCE_NAME', 'OPENEDGE_SERVICE_NAME');
  if (name) cfg.name = name;
  const address = pick(env, 'BAETYL_SERVICE_INSTANCE_ADDRESS', 'OPENEDGE_SERVICE_INSTANCE_ADDRESS', 'OPENEDGE_SERVICE_ADDRESS');
  if (address) cfg.server.address = address;
  const problems: ConfigProblem[] = [];
  const at = (path: Array<string | number>, message: string) => problems.push(problemAt(parsed, path, message));
  if (!cfg.server.address) {
    at(
      ['server', 'address'],
      'is not set: set it here (like "127.0.0.1:50051"), or start the runtime with BAETYL_SERVICE_INSTANCE_ADDRESS (the function manager does)',
    );
  }
  const seen = new Set<string>();
  cfg.functions.forEach((f, i) => {
    if (seen.has(f.name)) at(['functions', i, 'name'], `"${f.name}" is declared twice; function names must be unique`);
    seen.add(f.name);
    if (kind !== 'sql' && !f.codedir) {
      at(['functions', i, 'codedir'], `is required by the ${kind} runtime: the folder holding the code, relative to the working directory`);
    }
  });
  if (Boolean(cfg.server.key) !== Boolean(cfg.server.cert)) {
    at(['server'], 'TLS needs both key and cert (and ca to verify callers)');
  }
  if (problems.length) throw new ConfigError(file, problems);
  return cfg;
}
