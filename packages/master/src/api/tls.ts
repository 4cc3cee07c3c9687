// TLS for the master API (conf.yml `server.ca/cert/key`). cert and key make the API HTTPS; ca
// also makes it require a client certificate issued by ca. The master's own clients (services,
// the function manager, the baetyl CLI) present server.cert and server.key as their client
// certificate (Baetyl v1's services had no way to present one), so with ca set that certificate
// must be issued by ca and allowed for client use. Everything is checked at start, so a wrong
// file is an error naming conf.yml and the key, not a refused connection later.
// The metrics endpoint (conf.yml `metrics.ca/cert/key`) is served the same way; its clients are
// Prometheus servers, which trust what they are told to, so only the files themselves are checked.
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { resolve } from 'node:path';
import type { MasterConfig } from '../conf/schema.js';

/** The conf.yml blocks that take ca, cert and key. */
type TlsBlock = 'server' | 'metrics';
const WHAT: Record<TlsBlock, string> = { server: 'the master API', metrics: 'the metrics endpoint' };

export interface ApiTls {
  cert: Buffer;
  key: Buffer;
  /** Set: client certificates are required and checked against it. */
  ca?: Buffer;
  /** The files, absolute, for the instances and the CLI. */
  files: { cert: string; key: string; ca?: string };
}

/** The instances' variables naming the files (read by @baetyl/core/context). */
export const TLS_ENV = { ca: 'BAETYL_MASTER_API_CA', cert: 'BAETYL_MASTER_API_CERT', key: 'BAETYL_MASTER_API_KEY' } as const;

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';

function read(confFile: string, workdir: string, block: TlsBlock, key: 'ca' | 'cert' | 'key', path: string): { file: string; data: Buffer } {
  const file = resolve(workdir, path);
  try {
    return { file, data: readFileSync(file) };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied (make it readable by the user running baetyl)' : (err as Error).message;
    throw new Error(`${confFile}: ${block}.${key}: cannot read ${file}: ${why}`);
  }
}

/** A block's cert, key and ca, read and parsed, the key checked against the certificate. */
function loadTlsBlock(
  conf: MasterConfig,
  block: TlsBlock,
  workdir: string,
  confFile: string,
): { tls: ApiTls; x509: X509Certificate; caCert?: X509Certificate } | undefined {
  const { ca, cert, key } = conf[block];
  if (!ca && !cert && !key) return undefined;
  if (!cert || !key) {
    const missing = !cert ? `${block}.cert` : `${block}.key`;
    throw new Error(
      `${confFile}: ${missing} is missing: TLS on ${WHAT[block]} needs both ${block}.cert and ${block}.key${ca ? ` (${block}.ca alone only names who may connect)` : ''}`,
    );
  }
  const c = read(confFile, workdir, block, 'cert', cert);
  const k = read(confFile, workdir, block, 'key', key);
  let x509: X509Certificate;
  try {
    x509 = new X509Certificate(c.data);
  } catch (err) {
    throw new Error(`${confFile}: ${block}.cert: ${c.file} is not a PEM certificate (${(err as Error).message})`);
  }
  try {
    if (!x509.checkPrivateKey(createPrivateKey(k.data))) throw new Error(`it is not the key of ${block}.cert`);
  } catch (err) {
    throw new Error(`${confFile}: ${block}.key: ${k.file}: ${(err as Error).message}`);
  }
  const tls: ApiTls = { cert: c.data, key: k.data, files: { cert: c.file, key: k.file } };
  if (!ca) return { tls, x509 };
  const a = read(confFile, workdir, block, 'ca', ca);
  let caCert: X509Certificate;
  try {
    caCert = new X509Certificate(a.data);
  } catch (err) {
    throw new Error(`${confFile}: ${block}.ca: ${a.file} is not a PEM certificate (${(err as Error).message})`);
  }
  return { tls: { ...tls, ca: a.data, files: { ...tls.files, ca: a.file } }, x509, caCert };
}

/** The API's TLS settings, or undefined when conf.yml sets none; throws naming conf.yml and the key. */
export function loadApiTls(conf: MasterConfig, workdir: string, confFile: string): ApiTls | undefined {
  const loaded = loadTlsBlock(conf, 'server', workdir, confFile);
  if (!loaded) return undefined;
  const { tls, x509, caCert } = loaded;
  const cert = tls.files.cert;
  if (!caCert) {
    // Clients trust the certificate itself, which only works for a self-signed one.
    if (!x509.checkIssued(x509))
      throw new Error(
        `${confFile}: server.cert: ${cert} is not self-signed, so the master's clients cannot trust it alone: set server.ca to the CA that issued it`,
      );
    return tls;
  }
  if (!x509.checkIssued(caCert) || !x509.verify(caCert.publicKey)) {
    throw new Error(
      `${confFile}: server.cert: ${cert} is not issued by server.ca (${tls.files.ca}); services and the baetyl CLI present server.cert as their client certificate, so it must be`,
    );
  }
  const usage = x509.keyUsage;
  if (usage && usage.length && !usage.includes(CLIENT_AUTH)) {
    throw new Error(
      `${confFile}: server.cert: ${cert} allows only ${usage.join(', ')}; services and the baetyl CLI present it as their client certificate: issue it with extendedKeyUsage serverAuth,clientAuth (or none)`,
    );
  }
  return tls;
}

/** The metrics endpoint's TLS settings (conf.yml metrics.ca/cert/key), or undefined for plain HTTP. */
export function loadMetricsTls(conf: MasterConfig, workdir: string, confFile: string): ApiTls | undefined {
  return loadTlsBlock(conf, 'metrics', workdir, confFile)?.tls;
}

/** An HTTP server, or HTTPS with `tls`; with a CA, a client without a certificate issued by it is refused in the handshake. */
export function createHttpServer(tls: ApiTls | undefined, handler: http.RequestListener): http.Server {
  return tls
    ? https.createServer({ cert: tls.cert, key: tls.key, ...(tls.ca ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}) }, handler)
    : http.createServer(handler);
}

/** Stops a server made by createHttpServer: no new connections, and the open ones (keep-alive, a scrape, a follow) ended now. */
export function closeHttpServer(server: http.Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** What the master's own clients (the CLI) present and trust, from conf.yml. */
export function clientTls(conf: MasterConfig, workdir: string, confFile: string): { ca: Buffer; cert?: Buffer; key?: Buffer } | undefined {
  const tls = loadApiTls(conf, workdir, confFile);
  if (!tls) return undefined;
  return tls.ca ? { ca: tls.ca, cert: tls.cert, key: tls.key } : { ca: tls.cert };
}
