// What the master process loads: in native mode, no Docker client (dockerode brings ssh2,
// grpc-js and protobufjs, a third of an idle master's memory), and none of the services' config
// loaders, which only `baetyl check` needs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeWorkdir, startMaster } from './helpers.js';

const RECORD = fileURLToPath(new URL('../../../core/test/fixtures/record-modules.mjs', import.meta.url));

test('a native master never loads dockerode, nor the config checkers, nor prom-client without metrics', async () => {
  const wd = makeWorkdir([{ name: 'one' }]);
  const records = mkdtempSync(join(tmpdir(), 'modules-'));
  const env = { ...process.env, NODE_OPTIONS: `--import ${RECORD}`, RECORD_MODULES_DIR: records };
  const m = await startMaster(wd, { env });
  await m.stop();
  const master = readdirSync(records)
    .map((f) => JSON.parse(readFileSync(join(records, f), 'utf8')) as { argv: string[]; modules: string[] })
    .find((r) => r.argv.some((a) => a.endsWith('bin/baetyl.js')));
  assert.ok(master, 'the master recorded what it loaded');
  // The record sees the packages the master does use (else the check below proves nothing).
  assert.ok(
    master.modules.some((f) => f.includes('/node_modules/winston/')),
    'winston is in the record',
  );
  assert.deepEqual(
    master.modules.filter((f) => /\/node_modules\/(dockerode|docker-modem|ssh2)\//.test(f)),
    [],
  );
  // Nor prom-client, without a metrics endpoint (conf.yml metrics.address).
  assert.deepEqual(
    master.modules.filter((f) => /\/node_modules\/prom-client\//.test(f)),
    [],
  );
  // Nor the services' config loaders that `baetyl check` uses.
  assert.deepEqual(
    master.modules.filter((f) => /\/packages\/(hub|function-manager)\/|\/packages\/master\/dist\/src\/check\//.test(f)),
    [],
  );
});
