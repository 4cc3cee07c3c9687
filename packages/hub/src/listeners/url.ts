// Baetyl's listener URLs: tcp://h:p, ssl://h:p (also tls://), ws://h:p/path, wss://h:p/path.
export interface ListenUrl {
  url: string;
  kind: 'tcp' | 'ws';
  tls: boolean;
  host: string;
  port: number;
}

export function parseListenUrl(url: string): ListenUrl {
  const m = /^(tcp|ssl|tls|ws|wss):\/\/(\[[^\]]*\]|[^:/]*):(\d+)(\/.*)?$/.exec(url);
  if (!m)
    throw new Error(
      `${JSON.stringify(url)} is not a listener address; write tcp://0.0.0.0:1883, ssl://0.0.0.0:1884, ws://0.0.0.0:8080/mqtt or wss://0.0.0.0:8884/mqtt`,
    );
  const scheme = m[1]!;
  const port = Number(m[3]);
  if (port > 65535) throw new Error(`${JSON.stringify(url)}: port ${port} is above 65535`);
  if (m[4] && (scheme === 'tcp' || scheme === 'ssl' || scheme === 'tls')) throw new Error(`${JSON.stringify(url)}: a ${scheme}:// listener takes no path`);
  const host = m[2]!.replace(/^\[|\]$/g, '') || '0.0.0.0';
  return { url, kind: scheme.startsWith('ws') ? 'ws' : 'tcp', tls: scheme === 'ssl' || scheme === 'tls' || scheme === 'wss', host, port };
}
