// What `baetyl logs` reads from a log line: its time (to merge several instances' lines in time
// order) and the service and instance it names (to tell apart the instances sharing one file).
// Lines are in the forms every service writes (packages/core/src/log): logrus text
// `time=... level=info msg="..." instance=x service=y`, or JSON with `timestamp`.

/** The key=value pairs of a logrus text line; a quoted value is a JSON string. */
export function logfmtFields(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < line.length) {
    while (line[i] === ' ') i++;
    const eq = line.indexOf('=', i);
    if (eq < 0) break;
    const key = line.slice(i, eq);
    if (!/^[A-Za-z0-9_.-]+$/.test(key)) break;
    i = eq + 1;
    if (line[i] === '"') {
      let j = i + 1;
      while (j < line.length && line[j] !== '"') j += line[j] === '\\' ? 2 : 1;
      try {
        out[key] = JSON.parse(line.slice(i, j + 1)) as string;
      } catch {
        out[key] = line.slice(i + 1, j);
      }
      i = j + 1;
    } else {
      const sp = line.indexOf(' ', i);
      const end = sp < 0 ? line.length : sp;
      out[key] = line.slice(i, end);
      i = end;
    }
  }
  return out;
}

/** The fields of a line in either form (none for a line in neither, like a stack trace). */
export function lineFields(line: string): Record<string, string> {
  if (line.startsWith('{')) {
    try {
      const v = JSON.parse(line) as Record<string, unknown>;
      const out: Record<string, string> = {};
      for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
      if (out.timestamp && !out.time) out.time = out.timestamp;
      return out;
    } catch {
      return {};
    }
  }
  return line.startsWith('time=') ? logfmtFields(line) : {};
}

/** A line's time in ms, if it carries one. */
export function timeOf(line: string): number | undefined {
  const t = lineFields(line).time;
  const ms = t ? Date.parse(t) : NaN;
  return Number.isNaN(ms) ? undefined : ms;
}

export interface LabelledLine {
  /** The instance it came from ('' for the master's own log). */
  label: string;
  text: string;
  /** Milliseconds, when known; a line without one keeps its place after the line before it. */
  time?: number;
}

/**
 * Lines of several sources in time order. Each source's lines are in order already; a line with
 * no time of its own sorts with the line before it (a stack trace stays under its message).
 */
export function mergeByTime(sources: LabelledLine[][]): LabelledLine[] {
  const keyed: Array<{ line: LabelledLine; key: number; source: number; index: number }> = [];
  sources.forEach((lines, source) => {
    let last = -Infinity;
    lines.forEach((line, index) => {
      if (line.time !== undefined) last = line.time;
      keyed.push({ line, key: last, source, index });
    });
  });
  keyed.sort((a, b) => a.key - b.key || a.source - b.source || a.index - b.index);
  return keyed.map((k) => k.line);
}

export function render(line: LabelledLine): string {
  return line.label ? `${line.label} | ${line.text}` : line.text;
}
