// @baetyl/timer: Baetyl v1's baetyl-timer service.
export { loadTimerConfig, parseTimerConfig, timerSchema, UNUSED_KEYS, type TimerConfig } from './config/index.js';
export { compileTemplate, TemplateError, TEMPLATE_FUNCTIONS, type PayloadTemplate } from './template/template.js';
export { startTimer, payloadOf, type Timer } from './publisher/timer.js';
