// A gRPC server on node:http2 (nghttp2, built into node): just what a function runtime serves,
// methods by path, unary or streaming, plain or TLS. It replaces @grpc/grpc-js on the server side
// of the runtimes, which costs an instance about 12 MB and its start-up time for features
// (channelz, compression, reflection of service definitions) the runtime never uses.
import { createSecureServer, createServer, type Http2Server, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { ServerCall } from './call.js';
import { encodeGrpcMessage } from './metadata.js';
import { status } from './status.js';

/** A method: given a new call, returns what receives each of its messages as it arrives. */
export interface Method {
  onCall: (call: ServerCall) => (message: Buffer) => void;
}

export interface GrpcServerOptions {
  /** Largest message received or sent, in bytes. */
  maxMessageLength: number;
  /** PEM contents; `ca` also makes the server require and verify client certificates. */
  tls?: { ca?: Buffer; key: Buffer; cert: Buffer };
}

export interface ListeningServer {
  /** The bound TCP port (0 for a unix socket). */
  port: number;
  /** Stops accepting connections, lets open calls finish for up to graceMs, then cuts them. */
  close(graceMs: number): Promise<void>;
}

/** `host:port`, `[v6]:port` or `unix:path` -> what net.Server#listen takes. */
function listenTarget(address: string): { path: string } | { host: string; port: number } {
  if (address.startsWith('unix:')) return { path: address.slice('unix:'.length) };
  const at = address.lastIndexOf(':');
  if (at < 0) throw new Error(`"${address}" is not host:port`);
  const host = address.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  const port = Number(address.slice(at + 1));
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`"${address}" has no valid port`);
  return { host: host || '0.0.0.0', port };
}

/** Answers a call the server cannot route, before any handler sees it. */
function refuse(stream: ServerHttp2Stream, code: number, details: string): void {
  stream.on('error', () => undefined);
  stream.respond(
    { ':status': 200, 'content-type': 'application/grpc+proto', 'grpc-status': String(code), 'grpc-message': encodeGrpcMessage(details) },
    { endStream: true },
  );
}

export async function listenGrpc(address: string, methods: Record<string, Method>, opts: GrpcServerOptions): Promise<ListeningServer> {
  // Flow control: the default 64 KB stream window would make a 4 MB message take 64 round trips.
  const settings = { initialWindowSize: 1 << 20, maxHeaderListSize: 16 << 10 };
  // node refuses new streams (ENHANCE_YOUR_CALM) past 10 MB of a session's buffers by default;
  // message.length.max and server.concurrent.max are the limits here, as with grpc-js.
  const common = { settings, maxSessionMemory: Number.MAX_SAFE_INTEGER };
  const server: Http2Server = opts.tls
    ? (createSecureServer({
        key: opts.tls.key,
        cert: opts.tls.cert,
        ...(opts.tls.ca ? { ca: opts.tls.ca, requestCert: true, rejectUnauthorized: true } : {}),
        ...common,
      }) as unknown as Http2Server)
    : createServer(common);
  const sessions = new Set<Http2Session>();
  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.on('close', () => sessions.delete(session));
    session.on('error', () => undefined);
  });
  // A TLS handshake that fails (a caller without a valid certificate) only ends that connection.
  server.on('tlsClientError', () => undefined);
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    const path = headers[':path'];
    const method = typeof path === 'string' ? methods[path] : undefined;
    if (headers[':method'] !== 'POST') {
      refuse(stream, status.UNIMPLEMENTED, `gRPC calls are POST requests, not ${String(headers[':method'])}`);
      return;
    }
    if (!method) {
      refuse(stream, status.UNIMPLEMENTED, `The server does not implement the method ${String(path)}`);
      return;
    }
    let onMessage: (m: Buffer) => void = () => undefined;
    const call = new ServerCall(stream, headers, opts.maxMessageLength, (m) => onMessage(m));
    onMessage = method.onCall(call);
  });
  const target = listenTarget(address);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    const ready = () => {
      server.off('error', reject);
      resolve();
    };
    if ('path' in target) server.listen(target.path, ready);
    else server.listen(target.port, target.host, ready);
  });
  // After listening, a server error (EMFILE on accept) must not take the instance down.
  server.on('error', () => undefined);
  const bound = server.address();
  return {
    port: typeof bound === 'object' && bound ? bound.port : 0,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        server.close();
        // GOAWAY: no new calls; open ones finish.
        for (const s of sessions) s.close();
        const timer = setTimeout(() => {
          for (const s of sessions) s.destroy();
        }, graceMs);
        timer.unref();
        const check = () => {
          if (sessions.size > 0) return;
          clearTimeout(timer);
          resolve();
        };
        for (const s of sessions) s.once('close', check);
        check();
      }),
  };
}
