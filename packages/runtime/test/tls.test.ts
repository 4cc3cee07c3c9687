// server.key/cert (and ca) put the runtime's gRPC server behind TLS, verifying callers with ca.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { createFunctionClient } from '@baetyl/core';
import { FILTER_CONF } from './fixtures.js';
import { call, cleanup, message, serviceDir, startRuntimeProcess } from './helpers.js';
import { issueCert, makeCa } from '@baetyl/test-support';

const SAN = 'subjectAltName=IP:127.0.0.1,DNS:localhost\n';

test('TLS with client verification: a client with a CA-signed cert is served, one without is refused', async () => {
  const dir = serviceDir({
    'etc/baetyl/service.yml': `${FILTER_CONF}server:\n  ca: var/tls/ca.pem\n  key: var/tls/server.key\n  cert: var/tls/server.pem\n`,
    'var/tls/.keep': '',
  });
  const tls = join(dir, 'var/tls');
  makeCa(tls, 'ca', { cn: 'test-ca', key: 'rsa' });
  for (const who of ['server', 'client']) issueCert(tls, 'ca', who, { cn: who === 'server' ? 'localhost' : 'client', ext: SAN, key: 'rsa' });
  const read = (f: string) => readFileSync(join(tls, f));
  const rt = await startRuntimeProcess('sql', dir);
  try {
    const good = createFunctionClient(rt.address, grpc.credentials.createSsl(read('ca.pem'), read('client.key'), read('client.pem')));
    const ok = await call(good, message('sql-filter', '{"id":1}'));
    assert.equal(ok.err, undefined, ok.err?.details);
    assert.equal(ok.res!.Payload.toString(), '{"id":1,"qos":0,"topic":"t"}');
    good.close();
    const anonymous = createFunctionClient(rt.address, grpc.credentials.createSsl(read('ca.pem')));
    const refused = await call(anonymous, message('sql-filter', '{"id":1}'), 5000);
    assert.ok(refused.err, 'a caller without a client certificate must be refused');
    anonymous.close();
  } finally {
    await rt.stop();
    cleanup(dir);
  }
});
