// @baetyl/core/function: baetyl.Function and baetyl.FunctionStream, for the manager and the runtimes.
export * from './proto.js';
export * from './stream.js';
