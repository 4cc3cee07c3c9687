// A throwaway PKI made with the openssl CLI: a CA, a server certificate for 127.0.0.1/localhost,
// client certificates with chosen common names, and one client certificate from another CA.
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pki {
  dir: string;
  caPath: string;
  serverKeyPath: string;
  serverCertPath: string;
  ca: string;
  client(name: string): { key: string; cert: string };
  /** A client certificate with CN `name` signed by a CA the hub does not trust. */
  stranger(name: string): { key: string; cert: string };
}

function ssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: 'pipe' });
}

function makeCa(dir: string, name: string): void {
  ssl(
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      `/CN=${name}`,
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.pem`,
    ],
    dir,
  );
}

function issue(dir: string, ca: string, name: string, cn: string, ext: string): void {
  ssl(
    ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`],
    dir,
  );
  writeFileSync(join(dir, `${name}.ext`), ext);
  ssl(
    [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      `${ca}.pem`,
      '-CAkey',
      `${ca}.key`,
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      `${name}.ext`,
      '-out',
      `${name}.pem`,
    ],
    dir,
  );
}

export function makePki(dir: string): Pki {
  mkdirSync(dir, { recursive: true });
  makeCa(dir, 'ca');
  makeCa(dir, 'otherca');
  issue(dir, 'ca', 'server', 'localhost', 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  const clients = new Map<string, { key: string; cert: string }>();
  const make = (ca: string, name: string) => {
    const id = `${ca}-${name}`;
    let c = clients.get(id);
    if (!c) {
      issue(dir, ca, id, name, 'extendedKeyUsage=clientAuth\n');
      c = { key: read(`${id}.key`), cert: read(`${id}.pem`) };
      clients.set(id, c);
    }
    return c;
  };
  return {
    dir,
    caPath: join(dir, 'ca.pem'),
    serverKeyPath: join(dir, 'server.key'),
    serverCertPath: join(dir, 'server.pem'),
    ca: read('ca.pem'),
    client: (name) => make('ca', name),
    stranger: (name) => make('otherca', name),
  };
}
