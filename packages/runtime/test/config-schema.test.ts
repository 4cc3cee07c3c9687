// core's loader no longer checks schemas against JSON Schema's meta-schema at run time (it cost
// every instance's cold start); the runtime's schema is checked here instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { runtimeConfigSchema } from '../src/config/config.js';

test('the runtime config schema is valid JSON Schema', () => {
  // ajv is core's dependency: found from core's own folder.
  const require = createRequire(fileURLToPath(import.meta.resolve('@baetyl/core/config/load')));
  const { Ajv } = require('ajv') as typeof import('ajv');
  const ajv = new Ajv({ strict: true, allowUnionTypes: true, useDefaults: true });
  for (const keyword of ['duration', 'size']) ajv.addKeyword({ keyword, schemaType: ['boolean', 'string'] });
  ajv.addKeyword({ keyword: 'x-hint', schemaType: 'string' });
  assert.equal(ajv.validateSchema(runtimeConfigSchema), true, ajv.errorsText(ajv.errors));
  assert.doesNotThrow(() => ajv.compile(runtimeConfigSchema));
  // The check can fail: a misspelt type is refused.
  assert.equal(ajv.validateSchema({ type: 'object', properties: { a: { type: 'strin' } } }), false);
});
