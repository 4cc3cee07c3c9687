// Addresses in Baetyl's URL form: `unix:///abs/path.sock`, `unix://relative.sock`, `tcp://host:port`.

export type ApiAddress = { kind: 'unix'; path: string } | { kind: 'tcp'; host: string; port: number };

export function parseApiAddress(address: string): ApiAddress {
  if (address.startsWith('unix://')) {
    const path = address.slice('unix://'.length);
    if (!path) throw new Error(`"${address}" names no socket path; write unix:///var/run/baetyl.sock`);
    return { kind: 'unix', path };
  }
  const m = /^(?:tcp|http):\/\/([^:/]*|\[[^\]]+\]):(\d+)\/?$/.exec(address);
  if (m) return { kind: 'tcp', host: m[1] || '127.0.0.1', port: Number(m[2]) };
  throw new Error(`"${address}" is not an API address; use unix:///path/to.sock or tcp://host:port`);
}
