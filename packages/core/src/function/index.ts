// @baetyl/core/function: baetyl.Function and baetyl.FunctionStream, for the manager and the runtimes.
export { DEADLINE_LAYERS, MIN_START_TIMEOUT } from './deadlines.js';
export {
  CLIENT_DEADLINE,
  errorPayload,
  fittingErrorPayload,
  goCodeName,
  goDetails,
  goFunctionMessageJson,
  goJsonString,
  grpcFailure,
  isResultTooLarge,
  plainFailure,
  type CallFailure,
} from './errors.js';
export { createFunctionClient, loadFunctionProto, type FunctionClient, type FunctionMessage } from './proto.js';
export { openFunctionStream, type StreamCall, type StreamResult } from './stream.js';
