// server.address, read without loading gRPC: the config loader checks it too (for `baetyl check`).
import { isAbsolute, resolve } from 'node:path';

/**
 * server.address as grpc-js binds it: `host:port` (v1's form, what Go's net.Listen took),
 * `tcp://host:port`, or `unix://path` (relative to the service directory, or absolute).
 * Returns undefined for anything else.
 */
export function bindTarget(address: string, cwd: string): { target: string; unix?: string } | undefined {
  const unix = /^unix:\/\/(.+)$/.exec(address);
  if (unix) {
    const path = isAbsolute(unix[1]!) ? unix[1]! : resolve(cwd, unix[1]!);
    return { target: `unix:${path}`, unix: path };
  }
  const hostPort = address.replace(/^tcp:\/\//, '');
  const m = /^(\[[0-9a-fA-F:.]+\]|[^:/\s[\]]*):(\d{1,5})$/.exec(hostPort);
  if (!m || Number(m[2]) > 65535) return undefined;
  return { target: `${m[1] || '0.0.0.0'}:${m[2]}` };
}
