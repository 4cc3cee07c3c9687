// A loopback port for a peer that must be told its port before it starts (mosquitto, a
// workdir's hub): the OS picks a free one, which is released for the peer to take.
import { connect, createServer, type AddressInfo } from 'node:net';

/** A loopback TCP port that is free now. */
export function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => ok(port));
    });
  });
}

/**
 * Whether a connection is accepted now (the peer listens): to a port on `host`, or to an
 * address as services are given one: `host:port`, `unix:path` or `unix://path`.
 */
export function canConnect(target: number | string, host = '127.0.0.1'): Promise<boolean> {
  let opts: { port: number; host: string } | { path: string };
  if (typeof target === 'number') opts = { port: target, host };
  else if (target.startsWith('unix:')) opts = { path: target.replace(/^unix:(\/\/)?/, '') };
  else {
    const at = target.lastIndexOf(':');
    opts = { host: target.slice(0, at), port: Number(target.slice(at + 1)) };
  }
  return new Promise((ok) => {
    const s = connect(opts);
    s.once('connect', () => {
      s.destroy();
      ok(true);
    });
    s.once('error', () => ok(false));
  });
}
