// The `logger` block of every service.yml, apart from the logger itself: a config loader needs
// the schema without loading winston (the runtime loads its config in a thread of its own).
import type { Schema } from '../config/load.js';

/** The `logger` block every Baetyl service.yml accepts. `defaultPath` is the master's only. */
export function loggerSchema(defaultPath?: string): Schema {
  const int1 = { type: 'integer', minimum: 1 };
  return {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      path: defaultPath === undefined ? { type: 'string' } : { type: 'string', default: defaultPath },
      level: { type: 'string', enum: ['debug', 'info', 'warn', 'warning', 'error', 'fatal', 'panic'], default: 'info' },
      format: { type: 'string', enum: ['text', 'json'], default: 'text' },
      encoding: { type: 'string' },
      age: { type: 'object', additionalProperties: false, default: {}, properties: { max: { ...int1, default: 15 } } },
      size: { type: 'object', additionalProperties: false, default: {}, properties: { max: { ...int1, default: 50 } } },
      backup: { type: 'object', additionalProperties: false, default: {}, properties: { max: { ...int1, default: 15 } } },
      backupCount: { type: 'object', additionalProperties: false, properties: { max: int1 } },
    },
  };
}

const ENCODING_UNUSED = 'logger.format sets text or json';

/** The keys of a logger block that do nothing here, and why (for the JSON Schemas editors use). */
export const LOGGER_UNUSED_KEYS: ReadonlyArray<readonly [string[], string]> = [[['encoding'], ENCODING_UNUSED]];

/** What a logger block holds that does nothing here: said in the service's own log. */
export function loggerConfigWarnings(cfg: { encoding?: string }): string[] {
  return cfg.encoding === undefined ? [] : [`logger.encoding ("${cfg.encoding}") is not used: ${ENCODING_UNUSED}`];
}
