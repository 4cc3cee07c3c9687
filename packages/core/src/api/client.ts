// The client of the master's HTTP API, as services use it (the function manager starts runtime
// instances with it). Auth is Baetyl's x-openedge-username/password header pair.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { parseApiAddress, type ApiAddress } from './address.js';
import { readServiceContext } from '../context/env.js';

export interface InstanceStats {
  name: string;
  status: string;
  start_time?: string;
  process?: { id: number; name: string };
  container?: { id: string; name: string };
  restarts?: number;
  /** Why the instance does not run (a failed start, its last exit), while it does not. */
  error?: string;
  /** When the supervisor starts it again, while its status is `restarting`. */
  next_start?: string;
  [key: string]: unknown;
}

export interface Inspect {
  error?: string;
  time: string;
  software: Record<string, string>;
  hardware: Record<string, unknown>;
  services: Array<{ name: string; instances: InstanceStats[] }>;
}

export class MasterApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The answer's body as the master sent it. */
    readonly body = '',
  ) {
    super(message);
    this.name = 'MasterApiError';
  }
}

export interface MasterClientOptions {
  address: string;
  username: string;
  password: string;
  version?: string;
  /** Per-request timeout in milliseconds (default 30 s). */
  timeout?: number;
  /**
   * HTTPS: the CA that issued the master's certificate, and the client certificate and key to
   * present when the master asks for one (PEM). The master is checked against `ca` only, not
   * against a host name: instances reach it as 127.0.0.1, host.docker.internal or a socket.
   */
  tls?: { ca: string | Buffer; cert?: string | Buffer; key?: string | Buffer };
}

export class MasterClient {
  private readonly target: ApiAddress;
  private readonly agent: http.Agent;

  constructor(private readonly opts: MasterClientOptions) {
    this.target = parseApiAddress(opts.address);
    const tls = opts.tls;
    this.agent = tls
      ? new https.Agent({
          keepAlive: true,
          ca: tls.ca,
          ...(tls.cert ? { cert: tls.cert } : {}),
          ...(tls.key ? { key: tls.key } : {}),
          checkServerIdentity: () => undefined,
        })
      : new http.Agent({ keepAlive: true });
  }

  /** A client for the current service, from its BAETYL_* environment. */
  static fromEnv(env: NodeJS.ProcessEnv = process.env): MasterClient {
    const ctx = readServiceContext(env);
    if (!ctx.masterApiAddress) throw new Error('BAETYL_MASTER_API_ADDRESS is not set: is this service started by the baetyl master?');
    const opts: MasterClientOptions = { address: ctx.masterApiAddress, username: ctx.serviceName, password: ctx.token, version: ctx.masterApiVersion };
    const files = ctx.masterApiTls;
    if (files) {
      const read = (name: string, file: string) => {
        try {
          return readFileSync(file);
        } catch (err) {
          throw new Error(`cannot read the master API's ${name} ${file} (from the BAETYL_MASTER_API_* environment): ${(err as Error).message}`);
        }
      };
      opts.tls = {
        ca: read('CA', files.ca),
        ...(files.cert ? { cert: read('certificate', files.cert) } : {}),
        ...(files.key ? { key: read('key', files.key) } : {}),
      };
    }
    return new MasterClient(opts);
  }

  inspect(): Promise<Inspect> {
    return this.request<Inspect>('GET', '/system/inspect');
  }

  async availablePort(): Promise<number> {
    const res = await this.request<{ port: string }>('GET', '/ports/available');
    return Number(res.port);
  }

  startInstance(service: string, instance: string, env: Record<string, string>): Promise<void> {
    return this.request<void>('PUT', `/services/${encodeURIComponent(service)}/instances/${encodeURIComponent(instance)}/start`, env);
  }

  stopInstance(service: string, instance: string): Promise<void> {
    return this.request<void>('PUT', `/services/${encodeURIComponent(service)}/instances/${encodeURIComponent(instance)}/stop`);
  }

  reportInstance(service: string, instance: string, stats: Record<string, unknown>): Promise<void> {
    return this.request<void>('PUT', `/services/${encodeURIComponent(service)}/instances/${encodeURIComponent(instance)}/report`, stats);
  }

  updateSystem(body: { type?: 'APP' | 'MST'; path?: string; trace?: string }): Promise<void> {
    return this.request<void>('PUT', '/system/update', body);
  }

  close(): void {
    this.agent.destroy();
  }

  /** `timeoutMs` overrides the client's timeout for this request. */
  request<T>(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<T> {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const base = `/${this.opts.version ?? 'v1'}`;
    const options: http.RequestOptions = {
      method,
      path: base + path,
      agent: this.agent,
      timeout: timeoutMs ?? this.opts.timeout ?? 30_000,
      headers: {
        host: 'baetyl',
        'x-openedge-username': this.opts.username,
        'x-openedge-password': this.opts.password,
        ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
      },
    };
    if (this.target.kind === 'unix') options.socketPath = this.target.path;
    else {
      options.host = this.target.host;
      options.port = this.target.port;
    }
    return new Promise<T>((resolve, reject) => {
      const req = (this.opts.tls ? https : http).request(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          if (res.statusCode !== 200) {
            reject(new MasterApiError(res.statusCode ?? 0, `master API ${method} ${path}: ${res.statusCode} ${text.trim()}`, text));
            return;
          }
          if (!text) return resolve(undefined as T);
          try {
            resolve(JSON.parse(text) as T);
          } catch {
            resolve(text as T);
          }
        });
        res.on('error', reject);
      });
      req.on('timeout', () => req.destroy(new Error(`master API ${method} ${path}: no answer in ${options.timeout} ms`)));
      req.on('error', (err) => reject(new Error(`master API ${method} ${path}: ${err.message}`)));
      if (payload) req.write(payload);
      req.end();
    });
  }
}
