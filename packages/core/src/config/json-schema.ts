// A loader schema as a standard JSON Schema (draft-07, the draft VS Code's YAML extension and
// other editors validate fully), so an editor checks a config file as it is typed. The loader's
// own keywords become standard ones that accept the same values, and its hints become the
// messages editors show.
import type { Schema } from './load.js';
import { DURATION_OR_OFF_PATTERN, DURATION_PATTERN, SIZE_PATTERN } from './units.js';

export const JSON_SCHEMA_DRAFT = 'http://json-schema.org/draft-07/schema#';

/**
 * Keywords beyond the standard that the generated schemas use: VS Code's JSON and YAML language
 * servers read them (hover text, the message of a pattern that fails, a warning on a key that is
 * not used). A strict validator has to be told about them.
 */
export const EDITOR_KEYWORDS = ['markdownDescription', 'patternErrorMessage', 'deprecationMessage'] as const;

/** A key accepted so that Baetyl v1 files load, and reported as unused when a file sets it. */
export interface UnusedKey {
  /** Property names from the top of the file (`*`: every item of a list); the key must be in the schema. */
  path: readonly string[];
  /** Why it is not used (the loader's own words). */
  why: string;
}

export interface JsonSchemaMeta {
  /** The schema's `$id`. */
  id: string;
  title: string;
  description: string;
  unused?: readonly UnusedKey[];
}

export type JsonSchema = Record<string, unknown>;

const DURATION_NOTE = 'A duration: a string like `30s`, `1m30s` or `500ms` (units ns, us, ms, s, m, h), or an integer of nanoseconds (as in Baetyl v1).';
const OFF_NOTE = 'A negative value (`-1`) turns it off.';
const SIZE_NOTE = 'A size: a string like `32k`, `8m` or `1g` (binary units: 1k = 1024 bytes), or a number of bytes.';

/** Subschema keywords whose value is one schema, a list of schemas, or a map of them. */
const ONE = ['additionalProperties', 'items', 'propertyNames', 'not', 'if', 'then', 'else', 'contains', 'additionalItems'];
const LIST = ['anyOf', 'oneOf', 'allOf'];
const MAP = ['properties', 'patternProperties', 'definitions', 'dependencies'];
/** The loader's own keywords, replaced here by standard ones. */
const LOADER_KEYWORDS = new Set(['duration', 'size', 'x-hint']);
/** Draft-07's keywords; any other in a loader schema would reach editors unexplained, so it stops the generation. */
const STANDARD = new Set([
  ...[...ONE, ...LIST, ...MAP],
  ...['$schema', '$id', '$ref', '$comment', 'title', 'description', 'default', 'readOnly', 'writeOnly', 'examples', 'type', 'enum', 'const', 'format'],
  ...['multipleOf', 'maximum', 'exclusiveMaximum', 'minimum', 'exclusiveMinimum', 'maxLength', 'minLength', 'pattern', 'maxItems', 'minItems', 'uniqueItems'],
  ...['maxProperties', 'minProperties', 'required', 'contentMediaType', 'contentEncoding'],
]);

/** The JSON Schema of one config file, from the schema its loader validates it with. */
export function toJsonSchema(schema: Schema, meta: JsonSchemaMeta): JsonSchema {
  const root = convert(schema, '#');
  for (const key of meta.unused ?? []) markUnused(root, key);
  return { $schema: JSON_SCHEMA_DRAFT, $id: meta.id, title: meta.title, ...describe(root, meta.description), ...withoutDescription(root) };
}

function convert(node: Schema, at: string): JsonSchema {
  const out: JsonSchema = {};
  for (const [k, v] of Object.entries(node)) {
    if (LOADER_KEYWORDS.has(k)) continue;
    if (!STANDARD.has(k))
      throw new Error(`${at}: "${k}" is not a JSON Schema draft-07 keyword, nor a loader keyword json-schema.ts converts; convert it there`);
    if (ONE.includes(k) && isSchema(v)) out[k] = convert(v, `${at}/${k}`);
    else if (LIST.includes(k) && Array.isArray(v)) out[k] = v.map((s, i) => (isSchema(s) ? convert(s, `${at}/${k}/${i}`) : s));
    else if (MAP.includes(k) && isSchema(v))
      out[k] = Object.fromEntries(Object.entries(v).map(([name, s]) => [name, isSchema(s) ? convert(s, `${at}/${k}/${name}`) : s]));
    // `default: {}` and `default: []` only say a block is optional; an editor would offer to insert them.
    else if (k === 'default' && isEmptyContainer(v)) continue;
    else out[k] = v;
  }
  const notes: string[] = [];
  if (node.duration === 'or-off') {
    // ajv coerces a number that is not an integer to a string first; a negative one then reads as off.
    delete out.type;
    out.anyOf = [
      { type: 'string', pattern: DURATION_OR_OFF_PATTERN, patternErrorMessage: hintFor('duration') },
      { type: 'integer' },
      { type: 'number', exclusiveMaximum: 0 },
    ];
    notes.push(DURATION_NOTE, OFF_NOTE);
  } else if (node.duration) {
    Object.assign(out, { type: ['string', 'integer'], pattern: DURATION_PATTERN, patternErrorMessage: hintFor('duration'), minimum: 0 });
    notes.push(DURATION_NOTE);
  } else if (node.size) {
    // A number that is not an integer is coerced to a string ("1.5"), which the size pattern takes.
    Object.assign(out, { type: ['string', 'number'], pattern: SIZE_PATTERN, patternErrorMessage: hintFor('size'), minimum: 0 });
    notes.push(SIZE_NOTE);
  } else if (out.type === 'string') {
    widenString(out);
  }
  const hint = node['x-hint'];
  if (typeof hint === 'string') {
    if (typeof out.pattern === 'string') out.patternErrorMessage = `Not allowed here: ${hint}.`;
    notes.push(`${capitalize(hint)}.`);
  }
  if (notes.length === 0 && out.default === undefined) return out;
  return { ...describe(out, notes.join(' ')), ...withoutDescription(out) };
}

/**
 * The loader coerces a number or a boolean written where a string belongs (`password: 123456`),
 * and an empty value to "", so the schema takes them too, where the string has no constraint the
 * coerced text could fail.
 */
function widenString(out: JsonSchema): void {
  if (out.pattern !== undefined || out.enum !== undefined || out.format !== undefined || out.const !== undefined || out.maxLength !== undefined) return;
  const minLength = typeof out.minLength === 'number' ? out.minLength : 0;
  if (minLength > 1) return;
  out.type = minLength === 0 ? ['string', 'number', 'boolean', 'null'] : ['string', 'number', 'boolean'];
}

/** `description` and `markdownDescription`: the node's own text, then `extra`, then its default. */
function describe(node: JsonSchema, extra: string): JsonSchema {
  const own = typeof node.description === 'string' ? node.description : '';
  const parts = [own, extra].filter(Boolean);
  if (node.default === '') parts.push('Default: empty.');
  else if (node.default !== undefined) parts.push(`Default: \`${typeof node.default === 'string' ? node.default : JSON.stringify(node.default)}\`.`);
  if (parts.length === 0) return {};
  const markdown = parts.join(' ');
  return { description: markdown.replace(/`/g, ''), markdownDescription: markdown };
}

function withoutDescription(node: JsonSchema): JsonSchema {
  const { description: _d, markdownDescription: _m, ...rest } = node;
  return rest;
}

function markUnused(root: JsonSchema, key: UnusedKey): void {
  let node: JsonSchema | undefined = root;
  for (const name of key.path) {
    node = name === '*' ? (node?.items as JsonSchema | undefined) : (node?.properties as Record<string, JsonSchema> | undefined)?.[name];
  }
  if (!node) throw new Error(`unused key ${key.path.join('.')} is not in the schema`);
  const message = `Not used: ${key.why}.`;
  node.deprecationMessage = message;
  const own = typeof node.description === 'string' ? ` ${node.description}` : '';
  const ownMarkdown = typeof node.markdownDescription === 'string' ? ` ${node.markdownDescription}` : own;
  node.description = `${message}${own}`;
  node.markdownDescription = `${message}${ownMarkdown}`;
}

function hintFor(kind: 'duration' | 'size'): string {
  return kind === 'duration'
    ? 'Expected a duration like "30s", "1m30s" or "500ms" (units ns, us, ms, s, m, h), or an integer of nanoseconds.'
    : 'Expected a size like "32k", "8m" or "1g" (binary units), or a number of bytes.';
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const isEmptyContainer = (v: unknown): boolean => (Array.isArray(v) && v.length === 0) || (isSchema(v) && Object.keys(v).length === 0);
