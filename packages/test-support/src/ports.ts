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

/** Whether a TCP connection to `port` on `host` is accepted now: the peer listens. */
export function canConnect(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((ok) => {
    const s = connect({ port, host });
    s.once('connect', () => {
      s.destroy();
      ok(true);
    });
    s.once('error', () => ok(false));
  });
}
