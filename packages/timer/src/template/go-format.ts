// How Go prints the values v1's payload template produced: text/template prints with fmt's %v,
// so a float64 is strconv's shortest 'g' form and a time.Time is its String() method.

/** Go's %v of a float64: shortest digits; exponent form when the exponent is < -4 or >= 6 (strconv 'g', -1). */
export function goFloat(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  if (v === 0) return Object.is(v, -0) ? '-0' : '0';
  // JS's toExponential() without an argument gives the shortest round-trip digits, as Go does.
  const [mantissa, expText] = Math.abs(v).toExponential().split('e') as [string, string];
  const exp = Number(expText);
  const digits = mantissa.replace('.', '');
  const sign = v < 0 ? '-' : '';
  if (exp < -4 || exp >= 6) {
    const frac = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const e = Math.abs(exp);
    return `${sign}${digits[0]}${frac}e${exp < 0 ? '-' : '+'}${e < 10 ? `0${e}` : e}`;
  }
  if (exp < 0) return `${sign}0.${'0'.repeat(-exp - 1)}${digits}`;
  const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return frac ? `${sign}${int}.${frac}` : `${sign}${int}`;
}

export interface GoTime {
  /** Nanoseconds since the Unix epoch. */
  unixNano: bigint;
  /** The zone's offset from UTC at that time, in minutes east (+480 for UTC+8). */
  offsetMinutes: number;
  /** The zone's abbreviation (`CST`, `UTC`, `+08`). */
  zone: string;
  /** Go's monotonic clock reading (time since the process started), ns; printed as `m=+…`. */
  monotonicNano: bigint;
}

const pad = (n: number, width = 2): string => String(n).padStart(width, '0');

/**
 * Go's time.Time.String(): `2006-01-02 15:04:05.999999999 -0700 MST m=+0.000000001` (fraction
 * without trailing zeros, none at all when 0; time.Now() carries a monotonic reading, hence `m=`).
 */
export function goTimeString(t: GoTime): string {
  const ms = Number(t.unixNano / 1_000_000n);
  // The wall clock in the zone: shift by the offset and read the UTC fields.
  const local = new Date(ms + t.offsetMinutes * 60_000);
  const nanos = Number(((t.unixNano % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n);
  const fraction = nanos === 0 ? '' : `.${pad(nanos, 9).replace(/0+$/, '')}`;
  const off = Math.abs(t.offsetMinutes);
  const offset = `${t.offsetMinutes < 0 ? '-' : '+'}${pad(Math.floor(off / 60))}${pad(off % 60)}`;
  const date = `${pad(local.getUTCFullYear(), 4)}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())}`;
  const clock = `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}${fraction}`;
  return `${date} ${clock} ${offset} ${t.zone} m=${goMonotonic(t.monotonicNano)}`;
}

/** `+12.000000345`: seconds and nine digits of nanoseconds, signed. */
function goMonotonic(ns: bigint): string {
  const sign = ns < 0n ? '-' : '+';
  const abs = ns < 0n ? -ns : ns;
  return `${sign}${abs / 1_000_000_000n}.${String(abs % 1_000_000_000n).padStart(9, '0')}`;
}

/**
 * Go's encoding/json of a map from YAML: keys sorted, compact, and `<`, `>`, `&`, U+2028 and
 * U+2029 escaped as \u00xx (json.Marshal's HTML-safe default).
 */
export function goJson(value: unknown): string {
  return encode(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

// Written out by hand: a JS object would put integer-like keys ("10", "9") first, Go sorts them as text.
function encode(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => encode(v === undefined ? null : v)).join(',')}]`;
  if (value && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    const keys = Object.keys(obj).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${encode(obj[k])}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}
