// The master API (Baetyl v1 §1.5): HTTP over a unix socket or TCP. Every route is served with
// and without the /v1 prefix, and every request carries x-openedge-username/password: a service
// name and that service's token, or `@cli` and the token the master wrote for the local CLI.
import { createServer as createNetServer, connect, type Server as NetServer } from 'node:net';
import http from 'node:http';
import { existsSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { type Logger } from '@baetyl/core/log';
import { parseApiAddress } from '@baetyl/core/api';
import type { UpdateReport, UpdateRequest } from '../update/apply.js';
import { PID_FILE } from '../workdir/paths.js';
import { closeHttpServer, createHttpServer, type ApiTls } from './tls.js';

export const CLI_USER = '@cli';

export const MST_REFUSED =
  'type MST (replacing the master program) is not supported: this master is a Node.js program, not one binary to swap. ' +
  'Upgrade it as it was installed (deploy/systemd/install.sh again, or your package), then restart it (sudo systemctl restart baetyl); ' +
  'the workdir and its application are kept.';

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** What the API serves, from the master. */
export interface ApiHandlers {
  /** The secret `@cli` presents (the master wrote it for the local CLI). */
  readonly cliSecret: string;
  /** The token a service's instances present; undefined for an unknown service. */
  tokenOf(service: string): string | undefined;
  inspect(): Promise<Record<string, unknown>>;
  startDynamic(service: string, instance: string, env: Record<string, string>): Promise<void>;
  stopDynamic(service: string, instance: string): Promise<void>;
  report(service: string, instance: string, body: Record<string, unknown>): void;
  /** Throws at once (not through the promise) when no update can start now. */
  update(req: UpdateRequest): Promise<UpdateReport>;
  /** `PUT /system/stop` was answered: whoever runs the master decides how it stops. */
  stopRequested(): void;
}

type Handler = (params: Record<string, string>, body: Buffer, caller: string) => Promise<unknown>;

interface Route {
  method: string;
  pattern: RegExp;
  keys: string[];
  handler: Handler;
  cliOnly?: boolean;
}

export class ApiServer {
  private server?: http.Server;
  private socketPath?: string;
  private readonly routes: Route[] = [];

  constructor(
    private readonly handlers: ApiHandlers,
    private readonly log: Logger,
  ) {
    this.route('GET', '/system/inspect', async () => this.handlers.inspect());
    this.route('GET', '/ports/available', async () => ({ port: String(await freePort()) }));
    this.route('PUT', '/services/:service/instances/:instance/start', async (p, body) => {
      const env = parseEnvBody(body);
      await this.handlers.startDynamic(p.service!, p.instance!, env);
    });
    this.route('PUT', '/services/:service/instances/:instance/stop', async (p) => {
      await this.handlers.stopDynamic(p.service!, p.instance!);
    });
    this.route('PUT', '/services/:service/instances/:instance/report', async (p, body) => {
      const stats = parseJson(body);
      if (!stats || typeof stats !== 'object' || Array.isArray(stats)) throw new HttpError(400, 'the report must be a JSON object');
      this.handlers.report(p.service!, p.instance!, stats as Record<string, unknown>);
    });
    this.route('PUT', '/system/update', async (_p, body) => this.update(body));
    this.route(
      'PUT',
      '/system/stop',
      async () => {
        // Answer first, then stop.
        setImmediate(() => this.handlers.stopRequested());
      },
      true,
    );
  }

  /**
   * Baetyl v1's body: {"type": "APP"|"MST", "path": "...", "trace": "..."} (`file` for `path`
   * from agents before 0.1.4). v1 answered at once and ran the update behind; so do we, unless the
   * body asks `"wait": true` (the CLI does): then the answer is the update's report, 200 when
   * it was applied and 400 when it was refused or rolled back.
   */
  private async update(body: Buffer): Promise<unknown> {
    const args = parseJson(body.length ? body : Buffer.from('{}'));
    if (!args || typeof args !== 'object' || Array.isArray(args))
      throw new HttpError(400, 'the body must be a JSON object: {"type": "APP", "path": "...", "trace": "..."}');
    const a = args as Record<string, unknown>;
    const type = a.type ?? 'APP';
    if (type === 'MST') throw new HttpError(400, MST_REFUSED);
    if (type !== 'APP') throw new HttpError(400, `unknown update type ${JSON.stringify(type)}: use "APP"`);
    const path = a.path ?? a.file;
    if (path !== undefined && typeof path !== 'string') throw new HttpError(400, 'path must be a string: a file or directory relative to the workdir');
    const trace = typeof a.trace === 'string' ? a.trace : '';
    const req = { ...(path ? { path } : {}), trace };
    if (a.wait === true || a.wait === 'true') {
      const report = await this.handlers.update(req);
      if (report.outcome !== 'updated') throw new HttpError(400, JSON.stringify(report));
      return report;
    }
    // Throws now (answered 400) when an update is already running or the master is stopping.
    this.handlers.update(req).catch((err: Error) => this.log.error(`failed to update system: ${err.message}`));
    return undefined;
  }

  private route(method: string, path: string, handler: Handler, cliOnly = false) {
    const keys: string[] = [];
    const source = path.replace(/:([a-z]+)/g, (_m, k: string) => {
      keys.push(k);
      return '([^/]+)';
    });
    this.routes.push({ method, pattern: new RegExp(`^(?:/v1)?${source}/?$`), keys, handler, cliOnly });
  }

  /** Listens on `address`; a unix socket another master answers on is an error, a stale one is removed. */
  async listen(address: string, timeoutMs: number, workdir: string, tls?: ApiTls): Promise<void> {
    const target = parseApiAddress(address);
    const handler = (req: http.IncomingMessage, res: http.ServerResponse) => void this.handle(req, res);
    const server = createHttpServer(tls, handler);
    if (tls) server.on('tlsClientError', (err: Error) => this.log.warn(`refused a TLS connection: ${err.message}`));
    server.requestTimeout = timeoutMs;
    server.keepAliveTimeout = 60_000;
    if (target.kind === 'unix') {
      const path = resolve(workdir, target.path);
      mkdirSync(dirname(path), { recursive: true });
      if (existsSync(path)) {
        if (await answers(path)) {
          const pidFile = join(workdir, PID_FILE);
          const pid = existsSync(pidFile) ? readFileSync(pidFile, 'utf8').trim() : '?';
          throw new Error(
            `the API socket ${path} is in use by another master (pid ${pid}); stop it with "baetyl stop -w ${workdir}" or set another server.address in conf.yml`,
          );
        }
        rmSync(path, { force: true });
      }
      this.socketPath = path;
      // Listen through a relative path when the absolute one is too long for a socket address.
      const listenPath = Buffer.byteLength(path) > 100 && path.startsWith(workdir) ? path.slice(workdir.length + 1) : path;
      await listenOn(server, { path: listenPath }, address);
    } else {
      await listenOn(server, { host: target.host, port: target.port }, address);
    }
    this.server = server;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeHttpServer(server);
    if (this.socketPath) rmSync(this.socketPath, { force: true });
  }

  private callerOf(req: http.IncomingMessage): string | undefined {
    const user = header(req, 'x-openedge-username') ?? header(req, 'x-baetyl-username');
    const pass = header(req, 'x-openedge-password') ?? header(req, 'x-baetyl-password');
    if (!user || !pass) return undefined;
    if (user === CLI_USER) return pass === this.handlers.cliSecret ? CLI_USER : undefined;
    const token = this.handlers.tokenOf(user);
    return token && token === pass ? user : undefined;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = (req.url ?? '/').split('?')[0]!;
    const method = req.method ?? 'GET';
    this.log.info(`[${method}] ${url}`);
    const body = await readBody(req);
    const send = (status: number, payload?: unknown) => {
      const text = payload === undefined ? '' : typeof payload === 'string' ? payload : JSON.stringify(payload);
      res.writeHead(status, { 'content-type': typeof payload === 'object' ? 'application/json' : 'text/plain; charset=utf-8' });
      res.end(text);
    };
    const caller = this.callerOf(req);
    if (!caller) return send(401, 'account unauthorized');
    const route = this.routes.find((r) => r.method === method && r.pattern.test(url));
    if (!route) return send(404, `no such API: ${method} ${url}`);
    if (route.cliOnly && caller !== CLI_USER) return send(401, 'account unauthorized');
    const m = route.pattern.exec(url)!;
    const params = Object.fromEntries(route.keys.map((k, i) => [k, decodeURIComponent(m[i + 1]!)]));
    try {
      const out = await route.handler(params, body, caller);
      send(200, out);
    } catch (err) {
      const status = err instanceof HttpError ? err.status : 400;
      this.log.warn(`[${method}] ${url} failed: ${(err as Error).message}`);
      send(status, (err as Error).message);
    }
  }
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'the body must be JSON');
  }
}

function parseEnvBody(body: Buffer): Record<string, string> {
  if (body.length === 0) throw new HttpError(400, 'the body must be a JSON object of environment variables (it may be {})');
  const v = parseJson(body);
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw new HttpError(400, 'the body must be a JSON object of environment variables');
  const env: Record<string, string> = {};
  for (const [k, val] of Object.entries(v)) {
    if (typeof val !== 'string') throw new HttpError(400, `environment variable ${k} must be a string`);
    env[k] = val;
  }
  return env;
}

function listenOn(server: http.Server, opts: { path: string } | { host: string; port: number }, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE')
        reject(new Error(`the API address ${address} is in use (another master?); stop it or set another server.address in conf.yml`));
      else reject(new Error(`cannot listen on ${address}: ${err.message}`));
    };
    server.once('error', onError);
    server.listen(opts, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ path });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** A port free right now on 127.0.0.1, as Baetyl's /ports/available. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s: NetServer = createNetServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}
