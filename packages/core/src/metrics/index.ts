// @baetyl/core/metrics: the services' report to the master, and the Prometheus exposition the
// master merges from the reports (docs/metrics.md).
export * from './exposition.js';
export * from './report.js';
export * from './reporter.js';
