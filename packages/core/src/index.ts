// The names other packages' tests take from @baetyl/core itself. Services import the subpath that
// holds what they use (package.json "exports": config, log, topic, context, api, function, mqtt,
// service, metrics, pool), so that they load only that. Where a subpath would load more than is
// used (grpc-js, prom-client), the runtime and the master import single modules (function/errors,
// metrics/report, ...): each is an exports entry of its own.
export { ConfigError } from './config/errors.js';
export { createLogger } from './log/logger.js';
export { MasterApiError, MasterClient, type Inspect, type InstanceStats } from './api/client.js';
export { createFunctionClient, loadFunctionProto, type FunctionClient, type FunctionMessage } from './function/proto.js';
export { decodeStreamResult, encodeStreamCall, functionStreamService, openFunctionStream, type StreamCall, type StreamResult } from './function/stream.js';
