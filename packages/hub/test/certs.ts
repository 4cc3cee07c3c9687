// A throwaway PKI made with the openssl CLI: a CA, a server certificate for 127.0.0.1/localhost,
// client certificates with chosen common names, and one client certificate from another CA.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLIENT_EXT, issueCert, makeCa, SERVER_EXT } from '@baetyl/test-support';

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

export function makePki(dir: string): Pki {
  mkdirSync(dir, { recursive: true });
  makeCa(dir, 'ca');
  makeCa(dir, 'otherca');
  issueCert(dir, 'ca', 'server', { cn: 'localhost', ext: SERVER_EXT });
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  const clients = new Map<string, { key: string; cert: string }>();
  const make = (ca: string, name: string) => {
    const id = `${ca}-${name}`;
    let c = clients.get(id);
    if (!c) {
      issueCert(dir, ca, id, { cn: name, ext: CLIENT_EXT });
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
