// The error texts the rule and the manager's tests import from here; they are shaped in
// @baetyl/core/function/errors, the one module of call failure texts for the manager and the runtimes.
export {
  errorPayload,
  fittingErrorPayload,
  goCodeName,
  goFunctionMessageJson,
  goJsonString,
  grpcFailure,
  plainFailure,
  type CallFailure,
} from '@baetyl/core/function';
