// @baetyl/core/config: the one loader for every config file, its errors, templating and units.
export * from './errors.js';
export * from './load.js';
export * from './template.js';
export * from './units.js';
