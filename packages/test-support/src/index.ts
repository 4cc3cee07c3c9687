// @baetyl/test-support: what tests of several packages share (a dev dependency only).
export { v1Examples } from './v1-examples.js';
export { APP_FILE, serviceConfigs, uncomment } from './workdir-files.js';
