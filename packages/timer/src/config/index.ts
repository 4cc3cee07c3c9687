// @baetyl/timer/config: the timer's config loader, for `baetyl check` and the service itself.
export { loadTimerConfig, parseTimerConfig } from './load.js';
export { timerSchema, type TimerConfig } from './schema.js';
