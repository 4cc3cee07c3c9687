// baetyl-agent talked to Baidu's cloud, which is gone: a real native master with the hub and an
// agent runs the hub, reports the agent failed with what to use instead, and does not retry it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { runBaetyl, startMaster } from './helpers.js';
import { freePort, waitFor } from '@baetyl/test-support';

function publish(port: number): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'mosquitto_pub',
      ['-h', '127.0.0.1', '-p', String(port), '-u', 'test', '-P', 'hahaha', '-t', 't', '-m', 'hi', '-q', '1'],
      { timeout: 20_000 },
      (err, _out, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }),
    );
  });
}

test('an agent service fails at start with the reason; the hub next to it runs', async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'baetyl-agent-'));
  mkdirSync(join(dir, 'etc/baetyl'), { recursive: true });
  mkdirSync(join(dir, 'var/db/baetyl/localhub-conf'), { recursive: true });
  writeFileSync(join(dir, 'etc/baetyl/conf.yml'), stringify({ mode: 'native', grace: '5s', logger: { level: 'debug' } }));
  writeFileSync(
    join(dir, 'var/db/baetyl/localhub-conf/service.yml'),
    stringify({ listen: [`tcp://127.0.0.1:${port}`], principals: [{ username: 'test', password: 'hahaha', permissions: [{ action: 'pub', permit: ['#'] }] }] }),
  );
  // An agent config of v1's shape (its cloud's address); it is never read, since the agent is refused.
  mkdirSync(join(dir, 'var/db/baetyl/agent-conf'), { recursive: true });
  writeFileSync(join(dir, 'var/db/baetyl/agent-conf/service.yml'), stringify({ remote: { mqtt: { address: 'ssl://cloud.example:1884', clientid: 'c1' } } }));
  const app = {
    version: 'v1',
    services: [
      { name: 'localhub', image: 'baetyl-hub', replica: 1, mounts: [{ name: 'localhub-conf', path: 'etc/baetyl', readonly: true }] },
      { name: 'agent', image: 'hub.baidubce.com/baetyl/baetyl-agent:1.0.0', replica: 1, mounts: [{ name: 'agent-conf', path: 'etc/baetyl', readonly: true }] },
    ],
    volumes: [
      { name: 'localhub-conf', path: 'var/db/baetyl/localhub-conf' },
      { name: 'agent-conf', path: 'var/db/baetyl/agent-conf' },
    ],
  };
  writeFileSync(join(dir, 'var/db/baetyl/application.yml'), stringify(app));
  const wd = { dir, out: dir };

  // check says so as a warning, and passes.
  const check = await runBaetyl(['check', '-w', dir]);
  assert.equal(check.code, 0, check.stderr);
  assert.match(
    check.stderr,
    /warning: service agent \(hub\.baidubce\.com\/baetyl\/baetyl-agent:1\.0\.0\) will fail at start: .*Baidu's cloud \(BIE\), which no longer exists.*remote-mqtt service.*`baetyl update`/,
  );

  const master = await startMaster(wd);
  try {
    assert.match(
      master.log(),
      /failed to start instance: image \\"hub\.baidubce\.com\/baetyl\/baetyl-agent:1\.0\.0\\": Baetyl v1's agent .* no longer exists.*" .*service=agent/,
    );
    // The hub runs: a real client publishes to it at QoS 1.
    let last = { code: -1, stderr: '' };
    await waitFor(`a QoS 1 publish to the hub on port ${port} (last: ${last.stderr})`, async () => (last = await publish(port)).code === 0);
    // The agent failed for good: tried once, listed as failed with the reason, not retried.
    const status = await runBaetyl(['status', '-w', dir]);
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, /^localhub\s+localhub\s+running\b/m);
    assert.match(status.stdout, /^agent\s+agent\s+failed\b/m);
    assert.match(status.stdout, /^agent: failed: failed to start: image "hub\.baidubce\.com\/baetyl\/baetyl-agent:1\.0\.0": Baetyl v1's agent/m);
    assert.equal(master.log().match(/failed to start instance/g)?.length, 1, master.log());
  } finally {
    await master.stop();
  }
});
