// The master API's TLS files reach a container through a read-only bind, and its env names the
// path inside (docker mode's half of InstanceRequest.files; no Docker engine needed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOptions } from '../src/engine/docker/container.js';
import { serviceSpec } from './service-spec.js';

test('InstanceRequest.files become read-only binds, and the env points inside the container', () => {
  const workdir = mkdtempSync(join(tmpdir(), 'baetyl-files-'));
  const service = serviceSpec('function-manager', { image: 'baetyl-function-manager' });
  const plan = createOptions(
    {
      service,
      instance: 'function-manager',
      env: { A: '1' },
      files: [
        { env: 'BAETYL_MASTER_API_CA', hostPath: '/etc/certs/ca.pem' },
        { env: 'BAETYL_MASTER_API_KEY', hostPath: '/etc/certs/server.key' },
      ],
    },
    { workdir, image: 'baetyl-function-manager' },
  );
  const binds = plan.options.HostConfig!.Binds!;
  assert.ok(binds.includes('/etc/certs/ca.pem:/run/baetyl-master-api/baetyl_master_api_ca:ro'), binds.join(' '));
  assert.ok(binds.includes('/etc/certs/server.key:/run/baetyl-master-api/baetyl_master_api_key:ro'));
  assert.ok(plan.options.Env!.includes('BAETYL_MASTER_API_CA=/run/baetyl-master-api/baetyl_master_api_ca'));
  assert.ok(plan.options.Env!.includes('BAETYL_MASTER_API_KEY=/run/baetyl-master-api/baetyl_master_api_key'));
  assert.ok(plan.options.Env!.includes('A=1'));
});
