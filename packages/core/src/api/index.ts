// @baetyl/core/api: the master API's address and its client.
export { parseApiAddress } from './address.js';
export { MasterApiError, MasterClient, type Inspect } from './client.js';
