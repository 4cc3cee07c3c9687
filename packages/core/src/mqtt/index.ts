// @baetyl/core/mqtt: how services reach a broker (ClientInfo) and acknowledge end to end.
export * from './client-info.js';
export * from './deferred-ack.js';
