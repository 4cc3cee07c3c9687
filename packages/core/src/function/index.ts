// @baetyl/core/function: baetyl.Function and baetyl.FunctionStream, for the manager and the runtimes.
export * from './deadlines.js';
export * from './errors.js';
export * from './proto.js';
export * from './stream.js';
