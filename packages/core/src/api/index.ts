// @baetyl/core/api: the master API's address and its client.
export * from './address.js';
export * from './client.js';
