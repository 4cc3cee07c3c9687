// node85 and sql instances take the config a master checked from BAETYL_RUNTIME_CONFIG and run no
// loader of their own: real processes, called over real gRPC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { RUNTIME_CONFIG_ENV } from '../src/config/pass.js';
import { FILTER_CONF } from './fixtures.js';
import { call, cleanup, failedStart, message, serviceDir, startRuntimeProcess } from './helpers.js';

const HANDLER =
  "exports.handler = (event, context, cb) => cb(null, { got: event, fn: context.functionName, sawConfig: 'BAETYL_RUNTIME_CONFIG' in process.env });\n";
const NODE_CONF = 'functions:\n  - name: hi\n    handler: index.handler\n    codedir: var/db/baetyl/code\n';
const CONF = { sql: FILTER_CONF, node85: NODE_CONF };

for (const kind of ['sql', 'node85'] as const) {
  test(`${kind}: serves from the passed config without reading its service.yml, and logs the warnings the master's check found`, async () => {
    // The instance's own service.yml does not even parse: only the checked copy is read, by the "master".
    const dir = serviceDir({
      'etc/baetyl/service.yml': 'functions: [\n',
      'etc/checked/service.yml': `${CONF[kind]}unknownkey: 1\n`,
      'var/db/baetyl/code/index.js': HANDLER,
    });
    const rt = await startRuntimeProcess(kind, dir, { passConfigFrom: join(dir, 'etc/checked/service.yml') });
    try {
      assert.match(rt.stderr(), /unknownkey/, "the loader's warning is in the instance's log");
      if (kind === 'sql') {
        const { res, err } = await call(rt.client, message('sql-filter', '{"id":1}'));
        assert.equal(err, undefined);
        assert.equal(res!.Payload.toString(), '{"id":1,"qos":0,"topic":"t"}');
      } else {
        const { res, err } = await call(rt.client, message('hi', '{"id":1}'));
        assert.equal(err, undefined);
        // The variable is taken out of the environment before any handler runs.
        assert.deepEqual(JSON.parse(res!.Payload.toString()), { got: { id: 1 }, fn: 'hi', sawConfig: false });
      }
    } finally {
      assert.equal(await rt.stop(), 0);
      cleanup(dir);
    }
  });

  test(`${kind}: a passed config that is not JSON, or is another kind's, stops it at start saying so`, async () => {
    const dir = serviceDir({ 'etc/baetyl/service.yml': CONF[kind], 'var/db/baetyl/code/index.js': HANDLER });
    try {
      const bad = await failedStart(kind, dir, { env: { [RUNTIME_CONFIG_ENV]: '{not json' } });
      assert.equal(bad.code, 1);
      assert.match(bad.stderr, /BAETYL_RUNTIME_CONFIG is not JSON .*unset it to read service.yml/);
      const other = await failedStart(kind, dir, { env: { [RUNTIME_CONFIG_ENV]: JSON.stringify({ kind: 'python36', config: {}, warnings: [] }) } });
      assert.equal(other.code, 1);
      assert.match(other.stderr, new RegExp(`BAETYL_RUNTIME_CONFIG is not a checked ${kind} config`));
    } finally {
      cleanup(dir);
    }
  });
}
