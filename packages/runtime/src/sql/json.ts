// JSON text the way Go's encoding/json marshals a map[string]interface{} (what v1's SQL runtime,
// written in Go, published): keys sorted by their UTF-8 bytes at every level, compact, with
// <, > and & escaped as \u003c \u003e \u0026, and U+2028/U+2029 escaped.
import type { JsonValue } from './ast.js';

const HEX = '0123456789abcdef';

function escapeString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0x22) out += '\\"';
    else if (c === 0x5c) out += '\\\\';
    else if (c === 0x0a) out += '\\n';
    else if (c === 0x0d) out += '\\r';
    else if (c === 0x09) out += '\\t';
    else if (c < 0x20 || c === 0x3c || c === 0x3e || c === 0x26 || c === 0x2028 || c === 0x2029) {
      out += `\\u${HEX[(c >> 12) & 15]}${HEX[(c >> 8) & 15]}${HEX[(c >> 4) & 15]}${HEX[c & 15]}`;
    } else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && s.charCodeAt(i + 1) >= 0xdc00 && s.charCodeAt(i + 1) <= 0xdfff) {
      out += s[i]! + s[i + 1]!;
      i++;
    } else if (c >= 0xd800 && c <= 0xdfff) {
      out += '\ufffd'; // a lone surrogate is not valid UTF-8; Go writes the replacement character
    } else out += s[i]!;
  }
  return `${out}"`;
}

function byteOrder(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function formatNumber(n: number): string {
  if (!Number.isFinite(n)) throw new Error(`the result holds ${n}, which JSON cannot represent`);
  if (Object.is(n, -0)) return '-0';
  // JavaScript and Go agree: shortest round-trip digits, exponent below 1e-6 and from 1e21.
  return String(n);
}

export function marshalGo(v: JsonValue): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return v ? 'true' : 'false';
  if (typeof v === 'number') return formatNumber(v);
  if (typeof v === 'string') return escapeString(v);
  if (Array.isArray(v)) return `[${v.map(marshalGo).join(',')}]`;
  const keys = Object.keys(v).sort(byteOrder);
  return `{${keys.map((k) => `${escapeString(k)}:${marshalGo(v[k]!)}`).join(',')}}`;
}
