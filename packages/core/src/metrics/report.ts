// What a service reports of its Prometheus registry, and how the master checks it. No prom-client
// here: the master loads this on every start, the merge (exposition.ts) only with a metrics endpoint.

/** The key of a report's body that carries the registry's JSON. */
export const REPORT_KEY = 'prometheus';
/**
 * The labels the master adds. Not `instance`: Prometheus gives every scraped series an
 * `instance` label of its own (the target, host:port), and would rename ours `exported_instance`.
 */
export const SERVICE_LABEL = 'service';
export const INSTANCE_LABEL = 'service_instance';

export type MetricType = 'counter' | 'gauge' | 'histogram' | 'summary';

/** One series of a family: a histogram's _bucket, _sum and _count series carry their metricName. */
export interface MetricSample {
  value: number;
  labels: Record<string, string | number>;
  metricName?: string;
}

/** One metric family, as prom-client's getMetricsAsJSON() gives it. */
export interface MetricFamily {
  name: string;
  help: string;
  type: MetricType;
  values: MetricSample[];
}

export interface MetricSource {
  /** Added to every series of these families (they replace labels of the same names). */
  labels: Record<string, string>;
  families: MetricFamily[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const TYPES = new Set<string>(['counter', 'gauge', 'histogram', 'summary']);

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A report's `prometheus` value as metric families; throws saying what is wrong and where
 * (`prometheus[2].values[0].value: ...`). A value of null (a NaN the JSON could not carry) is left out.
 */
export function checkMetricFamilies(value: unknown, at = REPORT_KEY): MetricFamily[] {
  if (!Array.isArray(value)) throw new Error(`${at}: must be an array of metric families (prom-client's registry.getMetricsAsJSON())`);
  return value.map((f: unknown, i): MetricFamily => {
    const where = `${at}[${i}]`;
    if (!isObject(f)) throw new Error(`${where}: must be an object with name, help, type and values`);
    if (typeof f.name !== 'string' || !METRIC_NAME.test(f.name))
      throw new Error(`${where}.name: must be a Prometheus metric name, got ${JSON.stringify(f.name)}`);
    if (typeof f.help !== 'string') throw new Error(`${where}.help: must be a string`);
    if (typeof f.type !== 'string' || !TYPES.has(f.type))
      throw new Error(`${where}.type: must be one of ${[...TYPES].join(', ')}, got ${JSON.stringify(f.type)}`);
    if (!Array.isArray(f.values)) throw new Error(`${where}.values: must be an array`);
    const name = f.name;
    const values: MetricSample[] = [];
    f.values.forEach((v: unknown, j) => {
      const vat = `${where}.values[${j}]`;
      if (!isObject(v)) throw new Error(`${vat}: must be an object with value and labels`);
      if (v.value === null) return;
      if (typeof v.value !== 'number') throw new Error(`${vat}.value: must be a number`);
      if (v.metricName !== undefined && (typeof v.metricName !== 'string' || !v.metricName.startsWith(name) || !METRIC_NAME.test(v.metricName))) {
        throw new Error(`${vat}.metricName: must be a metric name that starts with ${name}`);
      }
      const labels: Record<string, string | number> = {};
      if (v.labels !== undefined) {
        if (!isObject(v.labels)) throw new Error(`${vat}.labels: must be an object`);
        for (const [k, l] of Object.entries(v.labels)) {
          if (!LABEL_NAME.test(k) || k.startsWith('__')) throw new Error(`${vat}.labels: ${JSON.stringify(k)} is not a Prometheus label name`);
          if (typeof l !== 'string' && typeof l !== 'number') throw new Error(`${vat}.labels.${k}: must be a string or a number`);
          labels[k] = l;
        }
      }
      values.push({ value: v.value, labels, ...(typeof v.metricName === 'string' ? { metricName: v.metricName } : {}) });
    });
    return { name, help: f.help, type: f.type as MetricType, values };
  });
}
