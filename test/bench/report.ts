// Figures, their medians and spreads, the targets they are held to, and the table and JSON output.
export interface Figure {
  group: string;
  name: string;
  unit: string;
  runs: number[];
  median: number;
  min: number;
  max: number;
  target?: { op: '>=' | '<='; value: number; text: string };
  met?: boolean;
  note?: string;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export class Report {
  readonly figures: Figure[] = [];

  add(group: string, name: string, unit: string, runs: number[], extra: Partial<Pick<Figure, 'target' | 'note'>> = {}): Figure {
    const f: Figure = { group, name, unit, runs, median: median(runs), min: Math.min(...runs), max: Math.max(...runs), ...extra };
    if (f.target) f.met = f.target.op === '>=' ? f.median >= f.target.value : f.median <= f.target.value;
    this.figures.push(f);
    return f;
  }

  table(): string {
    const fmt = (n: number, unit: string) => {
      if (!Number.isFinite(n)) return '-';
      if (unit === 'x') return n.toFixed(2);
      if (unit === 'ms') return n < 10 ? n.toFixed(2) : n.toFixed(0);
      if (unit === 'MB') return n.toFixed(1);
      if (unit === 'us') return n.toFixed(0);
      return Math.round(n).toLocaleString('en-US');
    };
    const rows = [['group', 'figure', 'median', 'spread (min-max)', 'unit', 'target', '']];
    for (const f of this.figures) {
      rows.push([
        f.group,
        f.name,
        fmt(f.median, f.unit),
        f.runs.length > 1 ? `${fmt(f.min, f.unit)} - ${fmt(f.max, f.unit)}` : '',
        f.unit,
        f.target?.text ?? '',
        f.met === undefined ? '' : f.met ? 'met' : 'MISSED',
      ]);
    }
    const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
    const line = (r: string[]) => `| ${r.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
    return [line(rows[0]!), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.slice(1).map(line)].join('\n');
  }
}
