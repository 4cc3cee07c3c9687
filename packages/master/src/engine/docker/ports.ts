// Docker's short syntax for ports and devices, as application.yml writes them.
import { PermanentStartError } from '../engine.js';

export interface PortSpec {
  exposed: Record<string, Record<string, never>>;
  bindings: Record<string, Array<{ HostIp: string; HostPort: string }>>;
}

function range(text: string, what: string, entry: string): number[] {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (!m) throw new PermanentStartError(`port "${entry}": ${what} "${text}" is not a port or a range like 8000-8010`);
  const lo = Number(m[1]);
  const hi = m[2] === undefined ? lo : Number(m[2]);
  if (lo < 1 || hi > 65535 || hi < lo) throw new PermanentStartError(`port "${entry}": ${what} "${text}" is out of 1-65535`);
  return Array.from({ length: hi - lo + 1 }, (_, i) => lo + i);
}

/** `[ip:][host:]container[/proto]`, with ranges on both sides. */
export function parsePorts(entries: string[]): PortSpec {
  const out: PortSpec = { exposed: {}, bindings: {} };
  for (const entry of entries) {
    const [addr, proto = 'tcp'] = String(entry).split('/');
    if (!['tcp', 'udp', 'sctp'].includes(proto)) throw new PermanentStartError(`port "${entry}": protocol must be tcp, udp or sctp`);
    // An IPv6 host address comes in brackets: [::1]:1883:1883.
    const v6 = /^\[([^\]]+)\]:(.*)$/.exec(addr!);
    const parts = v6 ? [v6[1]!, ...v6[2]!.split(':')] : addr!.split(':');
    let ip = '';
    let host: string | undefined;
    let container: string;
    if (parts.length === 1) container = parts[0]!;
    else if (parts.length === 2) [host, container] = parts as [string, string];
    else if (parts.length === 3) [ip, host, container] = parts as [string, string, string];
    else throw new PermanentStartError(`port "${entry}" must look like [ip:]host:container[/proto]`);
    const cports = range(container, 'container port', String(entry));
    const hports = host ? range(host, 'host port', String(entry)) : [];
    if (hports.length && hports.length !== cports.length) throw new PermanentStartError(`port "${entry}": the host and container ranges differ in size`);
    cports.forEach((p, i) => {
      const key = `${p}/${proto}`;
      out.exposed[key] = {};
      (out.bindings[key] ??= []).push({ HostIp: ip, HostPort: hports.length ? String(hports[i]) : '' });
    });
  }
  return out;
}

export interface DeviceMapping {
  PathOnHost: string;
  PathInContainer: string;
  CgroupPermissions: string;
}

/** `host[:container[:perms]]`, perms defaulting to mrw as in Baetyl v1. */
export function parseDevices(entries: string[]): DeviceMapping[] {
  return entries.map((entry) => {
    const [host, container, perms] = String(entry).split(':');
    if (!host) throw new PermanentStartError(`device "${entry}" must look like /dev/host[:/dev/container[:rwm]]`);
    if (perms !== undefined && !/^[rwm]+$/.test(perms)) throw new PermanentStartError(`device "${entry}": permissions must be letters of rwm`);
    return { PathOnHost: host, PathInContainer: container || host, CgroupPermissions: perms || 'mrw' };
  });
}
