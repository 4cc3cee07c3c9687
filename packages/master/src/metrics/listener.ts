// The metrics endpoint (conf.yml `metrics`): GET /metrics in Prometheus' text format, over HTTP or
// HTTPS with the same TLS options as the API (api/tls.ts). Anything else is a 404.
import type http from 'node:http';
import { parseApiAddress } from '@baetyl/core/api';
import { EXPOSITION_CONTENT_TYPE } from '@baetyl/core/metrics';
import type { Logger } from '@baetyl/core/log';
import { closeHttpServer, createHttpServer, type ApiTls } from '../api/tls.js';

export class MetricsListener {
  private server?: http.Server;
  /** Where it listens, as a URL Prometheus can scrape (the bound port). */
  url = '';

  constructor(
    private readonly exposition: () => Promise<string>,
    private readonly log: Logger,
  ) {}

  /** Listens on metrics.address; throws naming conf.yml and the field when it cannot. */
  async listen(address: string, tls: ApiTls | undefined, confFile: string): Promise<void> {
    const target = parseApiAddress(address);
    if (target.kind !== 'tcp') throw new Error(`${confFile}: metrics.address: ${address} is not a TCP address; write tcp://127.0.0.1:9600`);
    const server = createHttpServer(tls, (req, res) => void this.handle(req, res));
    if (tls) server.on('tlsClientError', (err: Error) => this.log.warn(`metrics: refused a TLS connection: ${err.message}`));
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err: NodeJS.ErrnoException) => {
        const why =
          err.code === 'EADDRINUSE' ? 'the port is in use; set another metrics.address' : err.code === 'EADDRNOTAVAIL' ? 'no such local address' : err.message;
        reject(new Error(`${confFile}: metrics.address: cannot listen on ${address}: ${why}`));
      });
      server.listen({ host: target.host.replace(/^\[(.*)\]$/, '$1'), port: target.port }, () => resolve());
    });
    const bound = server.address();
    const port = typeof bound === 'object' && bound ? bound.port : target.port;
    this.url = `${tls ? 'https' : 'http'}://${target.host}:${port}/metrics`;
    this.server = server;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' });
      res.end('not found: metrics are at GET /metrics\n');
      return;
    }
    try {
      const text = await this.exposition();
      res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE });
      res.end(req.method === 'HEAD' ? undefined : text);
    } catch (err) {
      this.log.warn(`metrics: cannot answer a scrape: ${(err as Error).message}`);
      res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${(err as Error).message}\n`);
    }
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await closeHttpServer(server);
  }
}
