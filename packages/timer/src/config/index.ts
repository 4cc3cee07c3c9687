// @baetyl/timer/config: the timer's config loader, for `baetyl check` and the service itself.
export { loadTimerConfig, parseTimerConfig } from './load.js';
export { timerSchema, UNUSED_KEYS, UNUSED_WHY, type TimerConfig } from './schema.js';
