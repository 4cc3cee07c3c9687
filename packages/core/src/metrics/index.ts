// @baetyl/core/metrics: the services' report to the master, and the Prometheus exposition the
// master merges from the reports (docs/metrics.md).
export { EXPOSITION_CONTENT_TYPE, mergeExposition } from './exposition.js';
export { REPORT_KEY, type MetricSource } from './report.js';
export { startReporter } from './reporter.js';
