// The clock behind .Time.*: wall time in nanoseconds, the local zone's abbreviation as Go prints
// it (read from the same tzdata file Go reads: $TZ or /etc/localtime), and Go's monotonic reading.
import { readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { GoTime } from './go-format.js';

export interface Clock {
  now(): GoTime;
}

/**
 * Date.now() has milliseconds only; Go's time.Now() has nanoseconds. The high-resolution timer
 * gives the digits below the millisecond, anchored to the wall clock and re-anchored when the two
 * drift apart by a millisecond (an NTP step, a suspend).
 */
export function systemClock(): Clock {
  const zones = loadZone();
  let anchorWall = BigInt(Date.now()) * 1_000_000n;
  let anchorHr = process.hrtime.bigint();
  return {
    now(): GoTime {
      const wallMs = Date.now();
      let ns = anchorWall + (process.hrtime.bigint() - anchorHr);
      const drift = ns - BigInt(wallMs) * 1_000_000n;
      if (drift > 1_000_000n || drift < -1_000_000n) {
        anchorWall = BigInt(wallMs) * 1_000_000n;
        anchorHr = process.hrtime.bigint();
        ns = anchorWall;
      }
      const ms = Number(ns / 1_000_000n);
      const offsetMinutes = -new Date(ms).getTimezoneOffset();
      return {
        unixNano: ns,
        offsetMinutes,
        zone: zones.abbreviation(ms / 1000, offsetMinutes * 60),
        monotonicNano: BigInt(Math.round(performance.now() * 1e6)),
      };
    },
  };
}

export interface Zone {
  /** The abbreviation in force at `unix` seconds, whose offset (seconds east) is `offset`. */
  abbreviation(unix: number, offset: number): string;
}

/** Go's name for a zone without letters in tzdata, and for a missing zone file: `+08`, `-0330`, `UTC`. */
function numericName(offset: number): string {
  if (offset === 0) return 'UTC';
  const abs = Math.abs(offset);
  const h = String(Math.floor(abs / 3600)).padStart(2, '0');
  const m = Math.floor((abs % 3600) / 60);
  return `${offset < 0 ? '-' : '+'}${h}${m ? String(m).padStart(2, '0') : ''}`;
}

/** Where Go finds the local zone: $TZ unset = /etc/localtime; "" or UTC = UTC; else a zoneinfo name or path. */
function zoneFile(env: NodeJS.ProcessEnv): string | undefined {
  const tz = env.TZ;
  if (tz === undefined) return '/etc/localtime';
  const name = tz.startsWith(':') ? tz.slice(1) : tz;
  if (name === '' || name === 'UTC') return undefined;
  return isAbsolute(name) ? name : join(env.ZONEINFO ?? '/usr/share/zoneinfo', name);
}

export function loadZone(env: NodeJS.ProcessEnv = process.env): Zone {
  const file = zoneFile(env);
  let data: Buffer | undefined;
  try {
    if (file) data = readFileSync(file);
  } catch {
    data = undefined;
  }
  const tz = data ? parseTzif(data) : undefined;
  if (!tz) return { abbreviation: (_unix, offset) => numericName(offset) };
  return {
    abbreviation(unix, offset) {
      const last = tz.transitions.length ? tz.transitions[tz.transitions.length - 1]! : -Infinity;
      // After the last transition the footer's POSIX rule decides: standard or daylight name.
      if (unix >= last && tz.footer) return offset === tz.footer.stdOffset ? tz.footer.std : (tz.footer.dst ?? tz.footer.std);
      let type = tz.types[0];
      for (let i = tz.transitions.length - 1; i >= 0; i--) {
        if (tz.transitions[i]! <= unix) {
          type = tz.types[tz.typeOf[i]!];
          break;
        }
      }
      if (type && type.offset === offset) return type.abbr;
      return tz.types.find((t) => t.offset === offset)?.abbr ?? numericName(offset);
    },
  };
}

interface Tzif {
  transitions: number[];
  typeOf: number[];
  types: Array<{ offset: number; abbr: string }>;
  footer?: { std: string; stdOffset: number; dst?: string };
}

/** Reads a TZif file (RFC 8536): the 64-bit block when there is one, and its footer. */
function parseTzif(buf: Buffer): Tzif | undefined {
  if (buf.length < 44 || buf.toString('latin1', 0, 4) !== 'TZif') return undefined;
  const version = buf[4]!;
  const counts = (at: number) => ({
    isut: buf.readUInt32BE(at + 20),
    isstd: buf.readUInt32BE(at + 24),
    leap: buf.readUInt32BE(at + 28),
    time: buf.readUInt32BE(at + 32),
    type: buf.readUInt32BE(at + 36),
    char: buf.readUInt32BE(at + 40),
  });
  let at = 0;
  let c = counts(0);
  let timeSize = 4;
  if (version >= 0x32) {
    // Skip the 32-bit block to the second header.
    at = 44 + c.time * 5 + c.type * 6 + c.char + c.leap * 8 + c.isstd + c.isut;
    if (buf.length < at + 44) return undefined;
    c = counts(at);
    timeSize = 8;
  }
  let p = at + 44;
  const transitions: number[] = [];
  for (let i = 0; i < c.time; i++, p += timeSize) transitions.push(timeSize === 8 ? Number(buf.readBigInt64BE(p)) : buf.readInt32BE(p));
  const typeOf: number[] = [];
  for (let i = 0; i < c.time; i++, p++) typeOf.push(buf[p]!);
  const raw: Array<{ offset: number; abbrAt: number }> = [];
  for (let i = 0; i < c.type; i++, p += 6) raw.push({ offset: buf.readInt32BE(p), abbrAt: buf[p + 5]! });
  const chars = buf.toString('latin1', p, p + c.char);
  p += c.char + c.leap * (timeSize + 4) + c.isstd + c.isut;
  const abbrAt = (i: number) => {
    const end = chars.indexOf('\0', i);
    return chars.slice(i, end < 0 ? undefined : end);
  };
  const types = raw.map((t) => ({ offset: t.offset, abbr: abbrAt(t.abbrAt) }));
  const tz: Tzif = { transitions, typeOf, types };
  if (timeSize === 8 && buf[p] === 0x0a) {
    const end = buf.indexOf(0x0a, p + 1);
    const footer = parsePosixTz(buf.toString('latin1', p + 1, end < 0 ? buf.length : end));
    if (footer) tz.footer = footer;
  }
  return tz;
}

/** The names and the standard offset of a POSIX TZ string like `CST-8` or `EST5EDT,M3.2.0,M11.1.0`. */
function parsePosixTz(s: string): Tzif['footer'] {
  const m = /^(<[^>]+>|[A-Za-z]{3,})([+-]?\d{1,2}(?::\d{2}){0,2})(<[^>]+>|[A-Za-z]{3,})?/.exec(s);
  if (!m) return undefined;
  const name = (n: string) => n.replace(/^<|>$/g, '');
  const [h = '0', min = '0', sec = '0'] = m[2]!.replace(/^[+-]/, '').split(':');
  const west = (Number(h) * 3600 + Number(min) * 60 + Number(sec)) * (m[2]!.startsWith('-') ? -1 : 1);
  const footer: NonNullable<Tzif['footer']> = { std: name(m[1]!), stdOffset: -west };
  if (m[3]) footer.dst = name(m[3]);
  return footer;
}
