// @baetyl/test-support: what tests of several packages share (a dev dependency only).
export * from './v1-examples.js';
export * from './workdir-files.js';
