// TLS on the master API (conf.yml server.ca/cert/key on a tcp:// address): HTTPS with client
// certificates checked against ca, used by the CLI and by the function manager, which starts a
// real runtime through it. Certificates are made here with openssl.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exampleWorkdir, functionAnswer, runBaetyl, startMaster, type Workdir } from './helpers.js';
import { freePort, issueCert, makeCa } from '@baetyl/test-support';

let certs: string;

before(() => {
  certs = mkdtempSync(join(tmpdir(), 'baetyl-certs-'));
  for (const ca of ['ca', 'stranger-ca']) makeCa(certs, ca);
  // No extendedKeyUsage: good for server and client use.
  issueCert(certs, 'ca', 'server');
  issueCert(certs, 'stranger-ca', 'stranger');
});

function get(port: number, opts: https.RequestOptions & { plain?: boolean }, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const mod = opts.plain ? http : https;
    const req = mod.request({ host: '127.0.0.1', port, path: '/v1/system/inspect', ...opts, headers, checkServerIdentity: () => undefined }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('the HTTPS API takes a client certificate issued by ca, refuses others, and the CLI and a function instance use it', async () => {
  const [apiPort, hubPort] = [await freePort(), await freePort()];
  const wd = exampleWorkdir(hubPort, {
    address: `tcp://127.0.0.1:${apiPort}`,
    ca: join(certs, 'ca.pem'),
    cert: join(certs, 'server.pem'),
    key: join(certs, 'server.key'),
  });
  const m = await startMaster(wd);
  try {
    assert.match(m.log(), new RegExp(`api: tcp://127\\.0\\.0\\.1:${apiPort} \\(https, client certificates checked against server\\.ca\\)`));
    const ca = readFileSync(join(certs, 'ca.pem'));
    const token = readFileSync(join(wd.dir, 'var/run/baetyl/cli.token'), 'utf8').trim();
    const auth = { 'x-openedge-username': '@cli', 'x-openedge-password': token };
    const mine = { ca, cert: readFileSync(join(certs, 'server.pem')), key: readFileSync(join(certs, 'server.key')) };

    const ok = await get(apiPort, mine, auth);
    assert.equal(ok.status, 200);
    assert.ok(JSON.parse(ok.body).services.some((s: { name: string }) => s.name === 'function-manager'));
    await assert.rejects(get(apiPort, { ca }, auth), 'no client certificate: refused in the handshake');
    await assert.rejects(
      get(apiPort, { ca, cert: readFileSync(join(certs, 'stranger.pem')), key: readFileSync(join(certs, 'stranger.key')) }, auth),
      'a certificate of another CA: refused',
    );
    await assert.rejects(get(apiPort, { plain: true }, auth), 'plain HTTP gets no answer');

    const st = await runBaetyl(['status', '-w', wd.dir]);
    assert.equal(st.code, 0, st.stderr);
    assert.match(st.stdout, /^function-manager\s+function-manager\s+running/m);

    // A message on t: the function manager starts a node runtime through the HTTPS API, and it answers.
    assert.equal(JSON.parse(await functionAnswer(hubPort)).Say, 'Hello Baetyl');
    // The manager got the files; the runtime (a dynamic instance, no token) got none.
    const environ = (pid: number) => readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    const inspect = JSON.parse((await get(apiPort, mine, auth)).body) as { services: Array<{ name: string; instances: Array<{ process: { id: number } }> }> };
    const pidOf = (svc: string) => inspect.services.find((s) => s.name === svc)!.instances[0]!.process.id;
    assert.ok(environ(pidOf('function-manager')).includes(`BAETYL_MASTER_API_KEY=${join(certs, 'server.key')}`));
    assert.ok(!environ(pidOf('function-node85-sayhi')).some((e) => e.startsWith('BAETYL_MASTER_API_KEY=')));
    assert.match(m.log(), /msg="\[PUT\] \/v1\/services\/function-node85-sayhi\/instances\/[^"]+\/start" api=server/);
  } finally {
    await m.stop();
  }
});

test('an unreadable key, or a certificate not issued by ca, fails the start with a message naming conf.yml', async () => {
  const apiPort = await freePort();
  const conf = (wd: Workdir) => join(wd.dir, 'etc/baetyl/conf.yml');
  const missing = exampleWorkdir(1, {
    address: `tcp://127.0.0.1:${apiPort}`,
    ca: join(certs, 'ca.pem'),
    cert: join(certs, 'server.pem'),
    key: join(certs, 'nope.key'),
  });
  const r = await runBaetyl(['start', '-w', missing.dir]);
  assert.equal(r.code, 1);
  assert.ok(r.stderr.includes(`${conf(missing)}: server.key: cannot read ${join(certs, 'nope.key')}: no such file`), r.stderr);

  const wrongCa = exampleWorkdir(1, {
    address: `tcp://127.0.0.1:${apiPort}`,
    ca: join(certs, 'stranger-ca.pem'),
    cert: join(certs, 'server.pem'),
    key: join(certs, 'server.key'),
  });
  const w = await runBaetyl(['start', '-w', wrongCa.dir]);
  assert.equal(w.code, 1);
  assert.ok(w.stderr.includes(`${conf(wrongCa)}: server.cert: ${join(certs, 'server.pem')} is not issued by server.ca`), w.stderr);

  const noKey = exampleWorkdir(1, { address: `tcp://127.0.0.1:${apiPort}`, cert: join(certs, 'server.pem') });
  const n = await runBaetyl(['check', '-w', noKey.dir]);
  assert.equal(n.code, 1);
  assert.match(n.stderr, /server\.key is missing: TLS on the master API needs both server\.cert and server\.key/);
  for (const wd of [missing, wrongCa, noKey]) rmSync(wd.dir, { recursive: true, force: true });
});
