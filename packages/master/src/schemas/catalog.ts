// Every config file a workdir holds, with the schema its loader checks it against: the source of
// the JSON Schemas in schemas/ (written by scripts/schemas.mjs), so editors check what we check.
import type { Schema } from '@baetyl/core/config';
import { LOGGER_UNUSED_KEYS } from '@baetyl/core/log/schema';
import { toJsonSchema, type JsonSchema, type UnusedKey } from '@baetyl/core/config/json-schema';
import { hubConfigSchema, UNUSED_KEYS as HUB_UNUSED_KEYS } from '@baetyl/hub';
import { functionManagerSchema, UNUSED_KEYS as FUNCTION_MANAGER_UNUSED_KEYS } from '@baetyl/function-manager';
import { runtimeConfigSchema } from '@baetyl/runtime/config';
import { timerSchema, UNUSED_KEYS as TIMER_UNUSED_KEYS } from '@baetyl/timer';
import { remoteMqttSchema, UNUSED_KEYS as REMOTE_MQTT_UNUSED_KEYS } from '@baetyl/remote-mqtt';
import { masterConfigSchema } from '../conf/schema.js';
import { appComposeSchema, appListSchema } from '../app/schema.js';
import { shortImageName, V1_0_IMAGE_NAMES } from '../app/image-names.js';

export interface ConfigSchemaEntry {
  /** The file under schemas/. */
  file: string;
  title: string;
  description: string;
  schema: Schema;
  unused?: readonly UnusedKey[];
  /** The images (short names, ours) whose etc/baetyl/service.yml this describes; none for the master's files. */
  images: readonly string[];
}

/**
 * application.yml in either shape, told apart as the loader does: `services` as a map is the
 * compose-like shape, anything else the list shape.
 */
const applicationSchema: Schema = {
  if: { type: 'object', required: ['services'], properties: { services: { type: 'object' } } },
  then: appComposeSchema,
  else: appListSchema,
};

type UnusedList = ReadonlyArray<readonly [readonly string[], string]>;
const unused = (keys: UnusedList, under: readonly string[] = []): UnusedKey[] => keys.map(([path, why]) => ({ path: [...under, ...path], why }));
/** Every service.yml has a `logger` block; conf.yml has `otalog` too. */
const logger = (...blocks: string[]): UnusedKey[] => (blocks.length ? blocks : ['logger']).flatMap((b) => unused(LOGGER_UNUSED_KEYS, [b]));

export const CONFIG_SCHEMAS: readonly ConfigSchemaEntry[] = [
  {
    file: 'conf.schema.json',
    title: 'baetyl master: etc/baetyl/conf.yml',
    description: "The master's own configuration: the engine (native or docker), its API server, logs and grace period. See docs/master.md.",
    schema: masterConfigSchema,
    unused: logger('logger', 'otalog'),
    images: [],
  },
  {
    file: 'application.schema.json',
    title: 'baetyl application: var/db/baetyl/application.yml',
    description: 'The services the master runs and the volumes they mount, in the v0 list shape (services: [...]) or the compose-like map shape (services: {name: {...}}). See docs/master.md.',
    schema: applicationSchema,
    images: [],
  },
  {
    file: 'hub.schema.json',
    title: 'baetyl-hub: etc/baetyl/service.yml',
    description: "The MQTT hub's service.yml: listeners, principals and their permissions, routes, message limits, storage. See docs/hub.md.",
    schema: hubConfigSchema,
    unused: [...unused(HUB_UNUSED_KEYS), ...logger()],
    images: ['baetyl-hub'],
  },
  {
    file: 'function-manager.schema.json',
    title: 'baetyl-function-manager: etc/baetyl/service.yml',
    description: "The function manager's service.yml: how it reaches the hub, the rules (topic in, function, topic out) and the functions with their instance pools. See docs/function-manager.md.",
    schema: functionManagerSchema,
    unused: [...unused(FUNCTION_MANAGER_UNUSED_KEYS), ...logger()],
    images: ['baetyl-function-manager'],
  },
  {
    file: 'function-runtime.schema.json',
    title: 'baetyl-function-python27, -python36, -node85, -sql: etc/baetyl/service.yml',
    description:
      "A function runtime's service.yml: its gRPC server and its functions. Every runtime reads the same keys; python27, python36 and node85 also need each function's codedir. See docs/functions-runtimes.md.",
    schema: runtimeConfigSchema,
    unused: logger(),
    images: ['baetyl-function-python27', 'baetyl-function-python36', 'baetyl-function-node85', 'baetyl-function-sql'],
  },
  {
    file: 'timer.schema.json',
    title: 'baetyl-timer: etc/baetyl/service.yml',
    description: "The timer's service.yml: the hub it publishes to, how often, and the topic and payload. See docs/timer.md.",
    schema: timerSchema,
    unused: [...unused(TIMER_UNUSED_KEYS), ...logger()],
    images: ['baetyl-timer'],
  },
  {
    file: 'remote-mqtt.schema.json',
    title: 'baetyl-remote-mqtt: etc/baetyl/service.yml',
    description: "The remote MQTT bridge's service.yml: the hub, the remote brokers and the rules that forward between them. See docs/remote-mqtt.md.",
    schema: remoteMqttSchema,
    unused: [...unused(REMOTE_MQTT_UNUSED_KEYS), ...logger()],
    images: ['baetyl-remote-mqtt'],
  },
];

/** The JSON Schema of each entry, keyed by its file name under schemas/. */
export function generateSchemas(): Map<string, JsonSchema> {
  return new Map(
    CONFIG_SCHEMAS.map((e) => [e.file, toJsonSchema(e.schema, { id: `urn:baetyl-ts:schemas:${e.file}`, title: e.title, description: e.description, ...(e.unused ? { unused: e.unused } : {}) })]),
  );
}

/** A schema as the file in schemas/ holds it: indented, with lists of plain values on one line. */
export function schemaFileText(schema: JsonSchema): string {
  // A newline after "[" only ever appears between JSON tokens, never inside a string.
  const text = JSON.stringify(schema, null, 2).replace(/\[\n\s*([^[\]{}]*?)\n\s*\]/g, (_all, items: string) => `[${items.split(/,\n\s*/).join(', ')}]`);
  return `${text}\n`;
}

/** The schema file of the service.yml an image reads (any registry, tag, OpenEdge or v1.0 name), if we have one. */
export function schemaFileForImage(image: string): string | undefined {
  const short = shortImageName(image);
  const ours = V1_0_IMAGE_NAMES[short] ?? short;
  return CONFIG_SCHEMAS.find((e) => e.images.includes(ours))?.file;
}
