// Throwaway certificates made with the openssl CLI, for the tests of every package that speaks
// TLS: a CA, and certificates it issues, each as <name>.key and <name>.pem in one directory.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CertOptions {
  /** The subject's common name (default: the file name). */
  cn?: string;
  /** X.509 extensions, as openssl's -extfile reads them (subjectAltName, extendedKeyUsage). */
  ext?: string;
  /** The key type (default: EC P-256). */
  key?: 'ec' | 'rsa';
}

const KEYS = { ec: ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1'], rsa: ['-newkey', 'rsa:2048'] };
const openssl = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

/** A self-signed CA valid for 2 days: <name>.key, <name>.pem. */
export function makeCa(dir: string, name: string, opts: Omit<CertOptions, 'ext'> = {}): string {
  openssl(dir, [
    'req',
    '-x509',
    ...KEYS[opts.key ?? 'ec'],
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${opts.cn ?? name}`,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.pem`,
  ]);
  return join(dir, `${name}.pem`);
}

/** A certificate for 2 days, issued by the CA `ca` made in the same directory: the paths of its files. */
export function issueCert(dir: string, ca: string, name: string, opts: CertOptions = {}): { cert: string; key: string } {
  openssl(dir, ['req', ...KEYS[opts.key ?? 'ec'], '-nodes', '-subj', `/CN=${opts.cn ?? name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`]);
  const ext: string[] = [];
  if (opts.ext) {
    writeFileSync(join(dir, `${name}.ext`), opts.ext);
    ext.push('-extfile', `${name}.ext`);
  }
  openssl(dir, [
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
    ...ext,
    '-out',
    `${name}.pem`,
  ]);
  return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
}

/** The extensions of a server certificate for this host. */
export const SERVER_EXT = 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n';
/** The extensions of a client certificate. */
export const CLIENT_EXT = 'extendedKeyUsage=clientAuth\n';
