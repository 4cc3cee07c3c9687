// Opens every `listen` URL: plain TCP, TLS (ssl://), WebSocket (ws://) and WebSocket over TLS
// (wss://). Each accepted connection is wrapped in a GuardedConnection and handed to `accept`.
// TLS and WebSocket are loaded only by a listener that uses them: most hubs listen on tcp:// alone.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { resolve } from 'node:path';
import type { Duplex } from 'node:stream';
import type tls from 'node:tls';
import type { WebSocketServer } from 'ws';
import type { PeerCertificate, PeerInfo } from './guard.js';
import { parseListenUrl } from './url.js';

export interface TlsFiles {
  ca?: string;
  key?: string;
  cert?: string;
}

export interface ListenerHooks {
  accept(stream: Duplex, peer: PeerInfo, req?: http.IncomingMessage): void;
  /** A TLS client presented a certificate that does not verify: the handshake is refused. */
  rejected(peer: string, why: string): void;
  maxPacket: number;
}

export interface OpenListener {
  /** The configured URL. */
  url: string;
  /** The URL with the port actually bound (useful with port 0). */
  address: string;
  close(): Promise<void>;
}

function readTls(files: TlsFiles, cwd: string): tls.TlsOptions {
  const read = (what: 'ca' | 'key' | 'cert'): Buffer | undefined => {
    const path = files[what];
    if (!path) return undefined;
    try {
      return readFileSync(resolve(cwd, path));
    } catch (err) {
      throw new Error(`certificate.${what}: cannot read ${path}: ${(err as Error).message}`);
    }
  };
  const ca = read('ca');
  const opts: tls.TlsOptions = { key: read('key'), cert: read('cert'), ca, rejectUnauthorized: false, requestCert: Boolean(ca) };
  return opts;
}

/** What a verified-or-not client certificate says about its holder; undefined when none was sent. */
export function peerCertificate(socket: tls.TLSSocket): PeerCertificate | undefined {
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return undefined;
  const cn = cert.subject?.CN;
  const altNames = (cert.subjectaltname ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((s) => s.slice(s.indexOf(':') + 1));
  const out: PeerCertificate = { verified: socket.authorized, altNames };
  if (typeof cn === 'string') out.commonName = cn;
  else if (Array.isArray(cn) && cn.length > 0) out.commonName = String(cn[0]);
  return out;
}

function remoteOf(socket: net.Socket): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
}

/** Checks a TLS socket's client certificate: Baetyl verifies one when it is given. */
function tlsPeer(socket: tls.TLSSocket, transport: 'ssl' | 'wss', hooks: ListenerHooks): PeerInfo | undefined {
  const peer: PeerInfo = { transport, remote: remoteOf(socket) };
  const cert = peerCertificate(socket);
  if (cert) {
    if (!cert.verified) {
      hooks.rejected(peer.remote, String(socket.authorizationError ?? 'certificate not verified'));
      socket.destroy();
      return undefined;
    }
    peer.certificate = cert;
  }
  return peer;
}

async function listenOn(server: net.Server, host: string, port: number, url: string): Promise<number> {
  await new Promise<void>((ok, fail) => {
    const onError = (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'the address is already in use' : err.code === 'EACCES' ? 'permission denied' : err.message;
      fail(new Error(`cannot listen on ${url}: ${why}`));
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      ok();
    });
  });
  return (server.address() as net.AddressInfo).port;
}

function closeServer(server: net.Server): Promise<void> {
  return new Promise((ok) => server.close(() => ok()));
}

export async function openListener(url: string, files: TlsFiles, cwd: string, hooks: ListenerHooks): Promise<OpenListener> {
  const where = parseListenUrl(url);
  const scheme = url.slice(0, url.indexOf(':'));
  const tlsOptions = where.tls ? readTls(files, cwd) : undefined;
  let server: net.Server;
  let wss: WebSocketServer | undefined;
  if (where.kind === 'tcp') {
    if (tlsOptions) {
      const { createServer } = await import('node:tls');
      const s = createServer(tlsOptions, (socket) => {
        const peer = tlsPeer(socket, 'ssl', hooks);
        if (peer) hooks.accept(socket, peer);
      });
      // A client that fails the handshake affects only itself.
      s.on('tlsClientError', (err, socket) => {
        hooks.rejected(`${socket.remoteAddress ?? '?'}`, err.message);
        socket.destroy();
      });
      server = s;
    } else {
      server = net.createServer((socket) => hooks.accept(socket, { transport: 'tcp', remote: remoteOf(socket) }));
    }
  } else {
    const { WebSocketServer, createWebSocketStream } = await import('ws');
    const web = tlsOptions ? (await import('node:https')).createServer(tlsOptions) : http.createServer();
    web.on('request', (_req, res) => {
      res.writeHead(426, { 'content-type': 'text/plain' });
      res.end('this is an MQTT over WebSocket endpoint\n');
    });
    if (tlsOptions) {
      web.on('tlsClientError', (err: Error, socket: tls.TLSSocket) => {
        hooks.rejected(`${socket.remoteAddress ?? '?'}`, err.message);
        socket.destroy();
      });
    }
    // Any path and any Origin are accepted, as in Baetyl; the subprotocol mqtt or mqttv3.1 is echoed.
    wss = new WebSocketServer({
      server: web,
      maxPayload: hooks.maxPacket + 8,
      handleProtocols: (protocols) => {
        for (const p of ['mqtt', 'mqttv3.1']) if (protocols.has(p)) return p;
        return false;
      },
    });
    wss.on('connection', (ws, req) => {
      let peer: PeerInfo | undefined;
      if (tlsOptions) peer = tlsPeer(req.socket as tls.TLSSocket, 'wss', hooks);
      else peer = { transport: 'ws', remote: remoteOf(req.socket) };
      if (!peer) {
        ws.terminate();
        return;
      }
      const stream = createWebSocketStream(ws);
      // MQTT travels in binary frames only: a text frame closes the connection before its bytes
      // reach the broker [MQTT-6.0.0-1].
      ws.prependListener('message', (_data, isBinary) => {
        if (!isBinary) stream.destroy();
      });
      stream.on('error', () => stream.destroy());
      hooks.accept(stream, peer, req);
    });
    wss.on('error', () => undefined);
    server = web;
  }
  const port = await listenOn(server, where.host, where.port, url);
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    // No Nagle (as Go, Baetyl's language, sets by default): a small packet written while the
    // peer's ACK of the previous one is delayed would otherwise wait for it, up to 40 ms.
    s.setNoDelay(true);
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const hostPart = where.host.includes(':') ? `[${where.host}]` : where.host;
  const path = where.kind === 'ws' ? (/^[a-z]+:\/\/[^/]*(\/.*)?$/.exec(url)?.[1] ?? '') : '';
  return {
    url,
    address: `${scheme}://${hostPart}:${port}${path}`,
    async close() {
      const closing = closeServer(server);
      wss?.close();
      for (const s of sockets) s.destroy();
      await closing;
    },
  };
}
