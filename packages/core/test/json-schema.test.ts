// The JSON Schema of a loader schema accepts exactly what the loader accepts: its own keywords
// (durations, sizes, off), ajv's coercions, and its hints as the messages editors show.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv } from 'ajv';
import { ConfigError, parseConfig, type Schema } from '../src/config/index.js';
import { EDITOR_KEYWORDS, JSON_SCHEMA_DRAFT, toJsonSchema, type JsonSchema } from '../src/config/json-schema.js';

/** A strict validator, told about the editors' keywords (and nothing else beyond the standard). */
function strictAjv(): Ajv {
  const ajv = new Ajv({ strict: true, allowUnionTypes: true, allErrors: true });
  ajv.addVocabulary([...EDITOR_KEYWORDS]);
  return ajv;
}

const meta = { id: 'urn:test:schema', title: 'test', description: 'a test schema' };
const wrap = (node: Schema): Schema => ({ type: 'object', additionalProperties: false, properties: { v: node } });

function loaderTakes(schema: Schema, value: unknown): boolean {
  try {
    parseConfig(JSON.stringify({ v: value }), 'x.yml', schema, { onWarning: () => undefined });
    return true;
  } catch (err) {
    if (err instanceof ConfigError) return false;
    throw err;
  }
}

const VALUES: Record<string, { node: Schema; values: unknown[] }> = {
  duration: {
    node: { type: ['string', 'integer'], duration: true },
    values: [
      '30s',
      '1m30s',
      '500ms',
      '1.5h',
      '.5s',
      '1.s',
      '0',
      '0s',
      '+5s',
      ' 5s ',
      '1µs',
      '2us',
      '3ns',
      '1h2m3s4ms',
      0,
      30,
      1e9,
      '',
      '5',
      '5 s',
      '-5s',
      '-1',
      'abc',
      '1d',
      '1.5',
      '1m-30s',
      '++1s',
      '+',
      '+0',
      '00',
      '1S',
      's',
      1.5,
      -5,
      -1.5,
      true,
      false,
      null,
      [],
      {},
    ],
  },
  'duration or off': {
    node: { type: ['string', 'integer'], duration: 'or-off' },
    values: ['1m', '0', ' -1', '-1', '-1s', '-1garbage', '-s', '-', 'x', 10, 0, -1, -1.5, 1.5, true, null, {}],
  },
  size: {
    node: { type: ['string', 'integer'], size: true },
    values: [
      '32k',
      '8m',
      '1g',
      '1.5g',
      '512',
      '4kb',
      '4KiB',
      '4 MB',
      ' 7 ',
      '2t',
      '1P',
      'k',
      '-1k',
      '1e3',
      '',
      '1.k',
      '10x',
      'abc',
      0,
      512,
      1.5,
      0.5,
      -1,
      -1.5,
      true,
      false,
      null,
      [],
    ],
  },
  string: { node: { type: 'string' }, values: ['a', '', 123, 1.5, true, false, null, [], {}] },
  'string with minLength 1': { node: { type: 'string', minLength: 1 }, values: ['a', '', 123, 0, true, false, null, []] },
  'string with enum': { node: { type: 'string', enum: ['native', 'docker'] }, values: ['native', 'x', '', 1, true, null] },
  'string with pattern': {
    node: { type: 'string', pattern: '^(unix|tcp)://.+', 'x-hint': 'write tcp://host:port' },
    values: ['tcp://a:1', 'udp://a', '', 5, true, null],
  },
  boolean: { node: { type: 'boolean' }, values: [true, false, 'yes', 2, []] },
  integer: { node: { type: 'integer', minimum: 1 }, values: [1, 5, 0, -1, 1.5, [], {}] },
};

describe('the JSON Schema accepts what the loader accepts', () => {
  const ajv = strictAjv();
  for (const [kind, { node, values }] of Object.entries(VALUES)) {
    test(kind, () => {
      const loaderSchema = wrap(node);
      const validate = ajv.compile(toJsonSchema(loaderSchema, { ...meta, id: `urn:test:${kind.replace(/ /g, '-')}` }));
      // Both verdicts occur, so a harness that refuses everything cannot pass.
      assert.ok(
        values.some((v) => loaderTakes(loaderSchema, v)) && values.some((v) => !loaderTakes(loaderSchema, v)),
        `${kind}: the values cover both verdicts`,
      );
      const differ = values.filter((v) => loaderTakes(loaderSchema, v) !== validate({ v: structuredClone(v) }));
      assert.deepEqual(
        differ.map((v) => `${JSON.stringify(v)}: the loader ${loaderTakes(loaderSchema, v) ? 'takes' : 'refuses'} it, the JSON Schema does not`),
        [],
      );
    });
  }
});

test('the loader keywords become standard ones: a strict ajv compiles the result, anywhere in the tree', () => {
  const d = { type: ['string', 'integer'], duration: true, default: '1m' };
  const loaderSchema: Schema = {
    type: 'object',
    additionalProperties: false,
    default: {},
    properties: {
      list: { type: 'array', default: [], items: { type: 'object', additionalProperties: false, properties: { every: d } } },
      map: {
        type: 'object',
        additionalProperties: {
          anyOf: [
            { type: 'string', size: true },
            { type: 'object', properties: { t: d } },
          ],
        },
      },
      pick: { if: { type: 'object', required: ['a'], properties: { a: {} } }, then: { type: 'object', properties: { a: d } }, else: { type: 'object' } },
    },
  };
  const out = toJsonSchema(loaderSchema, meta);
  assert.doesNotMatch(JSON.stringify(out), /"duration"|"size":|"x-hint"/);
  const validate = strictAjv().compile(out);
  assert.equal(validate({ list: [{ every: '5s' }], map: { a: '4k', b: { t: '1h' } }, pick: { a: '2m' } }), true);
  for (const bad of [{ list: [{ every: '5 minutes' }] }, { map: { a: '4 kilo' } }, { map: { b: { t: 'soon' } } }, { pick: { a: 'later' } }]) {
    assert.equal(validate(bad), false, JSON.stringify(bad));
  }
  assert.equal(out.$schema, JSON_SCHEMA_DRAFT);
  assert.equal(out.$id, meta.id);
  assert.equal(out.title, meta.title);
  assert.equal(out.description, meta.description);
  // `default: {}` and `default: []` only mean "optional": an editor would insert them on completion.
  assert.equal(out.default, undefined);
  assert.equal((out.properties as Record<string, JsonSchema>).list!.default, undefined);
});

test('a keyword it does not know stops the generation, naming where it is', () => {
  assert.throws(
    () => toJsonSchema(wrap({ type: 'string', 'x-secret': true }), meta),
    /^Error: #\/properties\/v: "x-secret" is not a JSON Schema draft-07 keyword/,
  );
});

test('hints, defaults and units are what an editor shows: description, markdownDescription, patternErrorMessage', () => {
  const out = toJsonSchema(
    wrap({ type: 'string', pattern: '^(tcp|ssl)://', 'x-hint': 'write a listener as tcp://host:port', default: 'tcp://0.0.0.0:1883' }),
    meta,
  );
  const v = (out.properties as Record<string, JsonSchema>).v!;
  assert.equal(v.patternErrorMessage, 'Not allowed here: write a listener as tcp://host:port.');
  assert.equal(v.description, 'Write a listener as tcp://host:port. Default: tcp://0.0.0.0:1883.');
  assert.equal(v.markdownDescription, 'Write a listener as tcp://host:port. Default: `tcp://0.0.0.0:1883`.');

  const d = (toJsonSchema(wrap({ type: ['string', 'integer'], duration: true, default: '30s' }), meta).properties as Record<string, JsonSchema>).v!;
  assert.match(String(d.markdownDescription), /^A duration: a string like `30s`.*nanoseconds.*Default: `30s`\.$/);
  assert.match(String(d.patternErrorMessage), /^Expected a duration like "30s"/);
  const s = (toJsonSchema(wrap({ type: ['string', 'integer'], size: true }), meta).properties as Record<string, JsonSchema>).v!;
  assert.match(String(s.description), /^A size: a string like 32k, 8m or 1g \(binary units/);
  const off = (toJsonSchema(wrap({ type: ['string', 'integer'], duration: 'or-off' }), meta).properties as Record<string, JsonSchema>).v!;
  assert.match(String(off.description), /A negative value \(-1\) turns it off\.$/);
});

test('a key the loader reports as unused is accepted, with a deprecation message', () => {
  const loaderSchema: Schema = {
    type: 'object',
    additionalProperties: false,
    properties: {
      old: { type: 'object', properties: { knob: { type: 'integer' } } },
      pprof: {},
      list: { type: 'array', items: { type: 'object', properties: { subs: { type: 'array' } } } },
    },
  };
  const out = toJsonSchema(loaderSchema, {
    ...meta,
    unused: [
      { path: ['old', 'knob'], why: 'nothing reads it here' },
      { path: ['pprof'], why: 'there is no profiler' },
      { path: ['list', '*', 'subs'], why: 'each item ignores it' },
    ],
  });
  const props = out.properties as Record<string, JsonSchema>;
  const knob = (props.old!.properties as Record<string, JsonSchema>).knob!;
  assert.equal(knob.deprecationMessage, 'Not used: nothing reads it here.');
  assert.equal(knob.description, 'Not used: nothing reads it here.');
  assert.equal(props.pprof!.deprecationMessage, 'Not used: there is no profiler.');
  const item = (props.list!.items as JsonSchema).properties as Record<string, JsonSchema>;
  assert.equal(item.subs!.deprecationMessage, 'Not used: each item ignores it.');
  assert.equal(strictAjv().compile(out)({ old: { knob: 3 }, pprof: { port: 6060 } }), true);
  assert.throws(() => toJsonSchema(loaderSchema, { ...meta, unused: [{ path: ['old', 'gone'], why: 'x' }] }), /unused key old\.gone is not in the schema/);
});

test('stricter than the loader on purpose: a quoted number for an integer, a quoted true for a boolean', () => {
  // ajv coerces them, but no Baetyl v1 file writes them (Go's YAML refused them), and an editor
  // that asks for `replica: 1` instead of `replica: "1"` helps more than it hinders.
  const ajv = strictAjv();
  for (const [node, value] of [
    [{ type: 'integer', minimum: 0 }, '1'],
    [{ type: 'boolean' }, 'true'],
  ] as const) {
    const loaderSchema = wrap(node);
    assert.equal(loaderTakes(loaderSchema, value), true);
    assert.equal(ajv.compile(toJsonSchema(loaderSchema, { ...meta, id: `urn:test:strict-${typeof value}-${node.type}` }))({ v: value }), false);
  }
});
