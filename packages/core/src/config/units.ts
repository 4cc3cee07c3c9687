// Durations and sizes as Baetyl v1 writes them in YAML.
// Durations are Go strings ("30s", "1h30m", "500ms"); a bare integer is nanoseconds, as in Go.
// Sizes use binary units ("32k" = 32768, "4m" = 4 MiB); a bare integer is bytes.

const DURATION_UNITS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  µs: 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
};

const DURATION_UNIT = `(${Object.keys(DURATION_UNITS).join('|')})`;
const DURATION_BODY = `(0|\\+?((\\d+(\\.\\d*)?|\\.\\d+)${DURATION_UNIT})+)`;

/**
 * The strings parseDuration accepts, as one ECMA-262 pattern (for JSON Schemas): "0", or numbers
 * with units ("1m30s"), around optional spaces.
 */
export const DURATION_PATTERN = `^\\s*${DURATION_BODY}\\s*$`;

/** DURATION_PATTERN, or what a `duration: 'or-off'` key reads as off: text that starts with a negative number. */
export const DURATION_OR_OFF_PATTERN = `^\\s*-\\d|${DURATION_PATTERN}`;

/** Parses a Go duration string into milliseconds. Throws with a message that says what is expected. */
export function parseDuration(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new Error(`expected a duration like "30s" or "5m", got ${value}`);
    // Bare integers are nanoseconds, as Baetyl v1 read them; the loader warns when one is under a
    // millisecond (surely meant as seconds), but loads it as v1 did.
    return value / 1e6;
  }
  const text = value.trim();
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let pos = 0;
  if (text.startsWith('-')) throw new Error(`expected a positive duration, got "${value}"`);
  if (text.startsWith('+')) pos = 1;
  re.lastIndex = pos;
  if (pos >= text.length) throw new Error(`expected a duration like "30s" or "5m", got "${value}"`);
  while (re.lastIndex < text.length) {
    const start = re.lastIndex;
    const m = re.exec(text);
    if (!m || m.index !== start) {
      throw new Error(`expected a duration like "30s", "1m30s" or "500ms" (units ns, us, ms, s, m, h), got "${value}"`);
    }
    total += Number(m[1]) * (DURATION_UNITS[m[2]!] ?? 0);
  }
  return total;
}

/** Formats milliseconds the way Go prints a duration ("1m30s", "500ms"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 1) return `${Math.round(ms * 1000)}µs`;
  if (ms < 1000) return `${ms}ms`;
  let rest = ms / 1000;
  const h = Math.floor(rest / 3600);
  rest -= h * 3600;
  const m = Math.floor(rest / 60);
  rest -= m * 60;
  const s = Number(rest.toFixed(3));
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`;
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  b: 1,
  k: 1024,
  m: 1024 ** 2,
  g: 1024 ** 3,
  t: 1024 ** 4,
  p: 1024 ** 5,
};

/** The strings parseSize accepts, as one ECMA-262 pattern (no flags: the case of the units is spelled out). */
export const SIZE_PATTERN = '^\\s*\\d+(\\.\\d+)?\\s*[kmgtpbKMGTPB]?([iI]?[bB])?\\s*$';

/** Parses a size ("32k", "4m", "1.5g", "512") into bytes, with binary units as docker's RAMInBytes. */
export function parseSize(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isInteger(value) || value < 0) throw new Error(`expected a size like "32k" or "4m", got ${value}`);
    return value;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmgtpb]?)(?:i?b)?\s*$/i.exec(value);
  if (!m) throw new Error(`expected a size like "32k", "4m" or "1g" (binary units), got "${value}"`);
  return Math.floor(Number(m[1]) * (SIZE_UNITS[m[2]!.toLowerCase()] ?? 1));
}
