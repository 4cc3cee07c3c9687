// The metrics endpoint (conf.yml `metrics`): its config errors, and a real master serving
// GET /metrics over HTTPS with client certificates checked against metrics.ca. Certificates are
// made here with openssl. The whole stack's numbers are checked in test/e2e/metrics.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@baetyl/core/config';
import { loadAll, loadMasterConfig } from '../src/workdir/load.js';
import { makeWorkdir, runBaetyl, startMaster } from './helpers.js';
import { freePort, issueCert, makeCa } from '@baetyl/test-support';

let certs: string;

before(() => {
  certs = mkdtempSync(join(tmpdir(), 'baetyl-metrics-certs-'));
  makeCa(certs, 'ca');
  for (const name of ['server', 'prometheus']) issueCert(certs, 'ca', name);
});
after(() => rmSync(certs, { recursive: true, force: true }));

function confDir(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'baetyl-metrics-conf-'));
  execFileSync('mkdir', ['-p', join(dir, 'etc/baetyl')]);
  writeFileSync(join(dir, 'etc/baetyl/conf.yml'), text);
  return dir;
}

test('conf.yml: metrics is off by default; a bad address or key is an error naming the file, the line and the field', () => {
  const off = confDir('mode: native\n');
  assert.equal(loadMasterConfig(off).metrics.address, undefined);
  const ok = confDir('metrics:\n  address: tcp://127.0.0.1:9600\n');
  assert.equal(loadMasterConfig(ok).metrics.address, 'tcp://127.0.0.1:9600');

  const bad = confDir('mode: native\nmetrics:\n  address: 127.0.0.1:9600\n');
  const file = join(bad, 'etc/baetyl/conf.yml');
  assert.throws(
    () => loadMasterConfig(bad),
    (err: Error) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.ok(err.message.includes(`${file}:3`), err.message);
      assert.match(err.message, /metrics\.address/);
      assert.match(err.message, /"127\.0\.0\.1:9600" is not allowed here: write tcp:\/\/127\.0\.0\.1:9600/);
      return true;
    },
  );
  const unix = confDir('metrics:\n  address: unix://var/run/metrics.sock\n');
  assert.throws(() => loadMasterConfig(unix), /metrics\.address: "unix:\/\/var\/run\/metrics\.sock" is not allowed here: .*Prometheus scrapes over TCP only/);
  const typo = confDir('metrics:\n  adress: tcp://127.0.0.1:9600\n');
  // An unknown key is reported, as every unknown key of conf.yml is (Baetyl v1 ignored them).
  const warnings: string[] = [];
  assert.equal(loadMasterConfig(typo, undefined, warnings).metrics.address, undefined);
  assert.ok(
    warnings.some((w) => w.includes('metrics.adress: unknown key "adress" is ignored') && w.includes('did you mean "address"?')),
    warnings.join('\n'),
  );

  const noKey = confDir(`metrics:\n  address: tcp://127.0.0.1:9600\n  cert: ${join(certs, 'server.pem')}\n`);
  assert.throws(() => loadAll(noKey), /conf\.yml: metrics\.key is missing: TLS on the metrics endpoint needs both metrics\.cert and metrics\.key/);
  const missing = confDir(`metrics:\n  address: tcp://127.0.0.1:9600\n  cert: ${join(certs, 'server.pem')}\n  key: ${join(certs, 'nope.key')}\n`);
  assert.throws(() => loadAll(missing), {
    message: `${join(missing, 'etc/baetyl/conf.yml')}: metrics.key: cannot read ${join(certs, 'nope.key')}: no such file`,
  });
  for (const d of [off, ok, bad, unix, typo, noKey, missing]) rmSync(d, { recursive: true, force: true });
});

function get(port: number, path: string, opts: https.RequestOptions): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port, path, ...opts, checkServerIdentity: () => undefined }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('GET /metrics over HTTPS: a client certificate issued by metrics.ca gets every instance, others are refused, other paths are 404', async () => {
  const port = await freePort();
  const wd = makeWorkdir([{ name: 'alpha', replica: 2 }, { name: 'beta' }], {
    metrics: { address: `tcp://127.0.0.1:${port}`, ca: join(certs, 'ca.pem'), cert: join(certs, 'server.pem'), key: join(certs, 'server.key') },
  });
  const m = await startMaster(wd);
  try {
    assert.match(m.log(), new RegExp(`metrics served on https://127\\.0\\.0\\.1:${port}/metrics \\(client certificates checked against metrics\\.ca\\)`));
    const ca = readFileSync(join(certs, 'ca.pem'));
    const client = { ca, cert: readFileSync(join(certs, 'prometheus.pem')), key: readFileSync(join(certs, 'prometheus.key')) };
    const res = await get(port, '/metrics', client);
    assert.equal(res.status, 200);
    assert.match(res.type, /^text\/plain; version=0\.0\.4/);
    for (const [service, instance] of [
      ['alpha', 'alpha'],
      ['alpha', 'alpha.i1'],
      ['beta', 'beta'],
    ]) {
      const labels = `service="${service}",service_instance="${instance}"`;
      assert.ok(res.body.includes(`baetyl_service_up{${labels}} 1\n`), res.body);
      assert.ok(res.body.includes(`baetyl_service_restarts_total{${labels}} 0\n`), res.body);
      const rss = new RegExp(`^baetyl_service_memory_rss_bytes\\{${labels.replace(/\./g, '\\.')}\\} (\\d+)$`, 'm').exec(res.body);
      assert.ok(rss && Number(rss[1]) > 1_000_000, `a node process holds more than 1 MB resident: ${rss?.[0]}`);
      assert.match(res.body, new RegExp(`^baetyl_service_cpu_seconds_total\\{${labels.replace(/\./g, '\\.')}\\} [0-9.e-]+$`, 'm'));
    }
    assert.match(res.body, /^# TYPE baetyl_service_restarts_total counter$/m);
    assert.equal((await get(port, '/v1/system/inspect', client)).status, 404);
    await assert.rejects(get(port, '/metrics', { ca }), 'no client certificate: refused in the handshake');
  } finally {
    await m.stop();
    rmSync(wd.dir, { recursive: true, force: true });
  }
});

test('a metrics.address in use fails the start, naming conf.yml and metrics.address', async () => {
  const busy = createServer();
  await new Promise<void>((r) => busy.listen(0, '127.0.0.1', () => r()));
  const port = (busy.address() as { port: number }).port;
  const wd = makeWorkdir([{ name: 'alpha' }], { metrics: { address: `tcp://127.0.0.1:${port}` } });
  try {
    const r = await runBaetyl(['start', '-w', wd.dir]);
    assert.equal(r.code, 1);
    assert.ok(
      r.stderr.includes(
        `${join(wd.dir, 'etc/baetyl/conf.yml')}: metrics.address: cannot listen on tcp://127.0.0.1:${port}: the port is in use; set another metrics.address`,
      ),
      r.stderr,
    );
  } finally {
    busy.close();
    rmSync(wd.dir, { recursive: true, force: true });
  }
});
