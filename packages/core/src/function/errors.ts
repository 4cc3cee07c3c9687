// The texts of a failed function call, for both sides, in one module: what a runtime answers in
// its gRPC status details, how the manager words a failure the way Baetyl v1's Go code printed it,
// and the error payload a rule publishes after the last attempt. Users match on these texts and
// the tests check them byte for byte. The Python runtime (packages/runtime/python/baetyl_runtime)
// writes the runtime side's texts itself, with the same wording.
// Nothing here loads grpc-js: a node85 worker thread imports this module too.
import type * as Grpc from '@grpc/grpc-js';
import type { FunctionMessage } from './message.js';

// ---- what a runtime answers (gRPC status details) ----------------------------------------------

/** v1's Python runtime: grpc's text for an exception raised in the servicer. */
export function applicationError(text: string): string {
  return `Exception calling application: ${text}`;
}

/** A FunctionName the instance does not have (v1's text). */
export const FUNCTION_NOT_FOUND = applicationError('function not found');

/**
 * A handler that raised (UserCodeInvoke) or returned what cannot be encoded (UserCodeReturn), in
 * v1's form: the Python tuple it formatted, `('[UserCodeInvoke]', <error>)`.
 */
export function userCodeError(stage: 'UserCodeInvoke' | 'UserCodeReturn', error: string): string {
  return applicationError(`('[${stage}]', ${error})`);
}

/** A handler's worker ended (process.exit, a crash) while running the call. */
export function workerCrashed(why: string, fn: string): string {
  return applicationError(`${why} while running function "${fn}"; the worker was replaced`);
}

/** A runtime's deadline answer (DEADLINE_EXCEEDED); `what` says which deadline layer gave up (see deadlines.ts). */
export function deadlineDetails(what: string): string {
  return `Deadline Exceeded: ${what}`;
}

/** The call waited for a worker past its deadline (it never ran). */
export const NO_WORKER_IN_TIME = 'no worker became free before the deadline';

/** The call ran past its deadline and its worker was killed. */
export function killedAtDeadline(fn: string): string {
  return `function "${fn}" did not finish in time; its worker was replaced`;
}

/** Calls that arrive while the runtime stops (UNAVAILABLE). */
export const RUNTIME_STOPPING = 'the runtime is stopping';

/** No worker could be started for the waiting calls (UNAVAILABLE). */
export function cannotStartWorker(reason: string): string {
  return `cannot start a worker: ${reason}`;
}

/** Refused at server.concurrent.max (RESOURCE_EXHAUSTED). */
export function tooManyCalls(max: number): string {
  return `too many concurrent calls (server.concurrent.max is ${max})`;
}

/**
 * A result the answer cannot carry (server.message.length.max), named with the limit and the
 * size (RESOURCE_EXHAUSTED). It is the call's answer alone: on the stream, the other calls go on.
 */
export function resultTooLarge(result: number, message: number, limit: number): string {
  const size = result === message ? `${result} bytes` : `${result} bytes (${message} as a gRPC message)`;
  return `result of ${size} is over the limit of ${limit} bytes (message.length.max)`;
}

// gRPC status codes by number (the ones read here), so that this module does not load grpc-js.
const DEADLINE_EXCEEDED = 4;
const RESOURCE_EXHAUSTED = 8;

/**
 * The runtime refused to send this call's result because it is over the gRPC message limit: ours
 * say resultTooLarge() above, grpc's own servers (a v1 runtime) `Sent message larger than max`.
 * Deterministic, so not worth another attempt.
 */
export function isResultTooLarge(code: number, details: string): boolean {
  return code === RESOURCE_EXHAUSTED && /^result of \d+ bytes.* is over the limit of \d+ bytes|^Sent message larger than max/.test(details);
}

// ---- how the manager words a failure (Baetyl v1's Go) ------------------------------------------

/** grpc-js's details for a deadline the client enforced; the manager's call stream says the same. */
export const CLIENT_DEADLINE = 'Deadline exceeded';

/** grpc-go's wording for a deadline the client enforced; other details pass through. */
export function goDetails(code: number, details: string): string {
  if (code === DEADLINE_EXCEEDED && details.startsWith(CLIENT_DEADLINE)) return 'context deadline exceeded';
  return details;
}

/** Why a call failed, as Baetyl reported it. */
export interface CallFailure {
  /** Go's err.Error(), e.g. `rpc error: code = Unknown desc = boom`. */
  message: string;
  /** Go's %T of the error, e.g. `*status.statusError`. */
  type: string;
  /** The gRPC status code, when the failure came from a call. */
  code?: Grpc.status;
  /** The gRPC status details, when the failure came from a call (what the server endpoint passes on). */
  details?: string;
}

/** grpc-go's codes.Code names, as `code = <Name>` prints them. */
const GO_CODE_NAMES = [
  'OK',
  'Canceled',
  'Unknown',
  'InvalidArgument',
  'DeadlineExceeded',
  'NotFound',
  'AlreadyExists',
  'PermissionDenied',
  'ResourceExhausted',
  'FailedPrecondition',
  'Aborted',
  'OutOfRange',
  'Unimplemented',
  'Internal',
  'Unavailable',
  'DataLoss',
  'Unauthenticated',
];

export function goCodeName(code: number): string {
  return GO_CODE_NAMES[code] ?? `Code(${code})`;
}

/** A failed gRPC call as grpc-go reported it: `rpc error: code = <Name> desc = <details>`. */
export function grpcFailure(code: Grpc.status, details: string): CallFailure {
  return { message: `rpc error: code = ${goCodeName(code)} desc = ${details}`, type: '*status.statusError', code, details };
}

/** Any other failure (an instance that could not be started), shaped like a Go errors.New value. */
export function plainFailure(message: string): CallFailure {
  return { message, type: '*errors.errorString' };
}

// ---- the error payload (Go's encoding/json of map{"errorMessage","errorType","functionMessage"}) --
// Byte-exact: map keys sorted, the message's fields in struct order with zero values omitted,
// Payload base64, HTML characters escaped as Go does.

/** A string as Go's encoding/json writes it (HTML-safe, lowercase hex escapes). */
export function goJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    switch (ch) {
      case '"':
        out += '\\"';
        break;
      case '\\':
        out += '\\\\';
        break;
      case '\n':
        out += '\\n';
        break;
      case '\r':
        out += '\\r';
        break;
      case '\t':
        out += '\\t';
        break;
      case '<':
      case '>':
      case '&':
        out += `\\u00${c.toString(16)}`;
        break;
      default:
        if (c < 0x20) out += `\\u00${c.toString(16).padStart(2, '0')}`;
        else if (c === 0x2028 || c === 0x2029) out += `\\u${c.toString(16)}`;
        else if (c >= 0xd800 && c <= 0xdfff)
          out += '\\ufffd'; // a lone surrogate is invalid UTF-8 to Go
        else out += ch;
    }
  }
  return `${out}"`;
}

/** The FunctionMessage as Go marshals the generated struct: struct order, `omitempty` on every field. */
export function goFunctionMessageJson(msg: FunctionMessage): string {
  const parts: string[] = [];
  if (msg.ID) parts.push(`"ID":${msg.ID}`);
  if (msg.QOS) parts.push(`"QOS":${msg.QOS}`);
  if (msg.Topic) parts.push(`"Topic":${goJsonString(msg.Topic)}`);
  if (msg.Payload && msg.Payload.length > 0) parts.push(`"Payload":"${msg.Payload.toString('base64')}"`);
  if (msg.Timestamp) parts.push(`"Timestamp":${msg.Timestamp}`);
  if (msg.FunctionName) parts.push(`"FunctionName":${goJsonString(msg.FunctionName)}`);
  if (msg.FunctionInvokeID) parts.push(`"FunctionInvokeID":${goJsonString(msg.FunctionInvokeID)}`);
  return `{${parts.join(',')}}`;
}

/** The payload published on the rule's output topic after the last failed attempt. */
export function errorPayload(msg: FunctionMessage, failure: CallFailure): Buffer {
  const json =
    `{"errorMessage":${goJsonString(failure.message)},` + `"errorType":${goJsonString(failure.type)},` + `"functionMessage":${goFunctionMessageJson(msg)}}`;
  return Buffer.from(json, 'utf8');
}

/**
 * The error payload, made to fit in `maxBytes` (what one PUBLISH can carry): in full if it fits;
 * else without the input's payload in functionMessage (a huge input echoed back is what makes it
 * too large); else with errorMessage cut short too. Undefined when not even that fits.
 */
export function fittingErrorPayload(msg: FunctionMessage, failure: CallFailure, maxBytes: number): { payload: Buffer; trimmed: boolean } | undefined {
  const full = errorPayload(msg, failure);
  if (full.length <= maxBytes) return { payload: full, trimmed: false };
  const inputBytes = msg.Payload?.length ?? 0;
  const bare: FunctionMessage = { ...msg, Payload: Buffer.alloc(0) };
  const note = inputBytes > 0 ? ` (the input's payload of ${inputBytes} bytes is left out of functionMessage to fit)` : '';
  const noted = errorPayload(bare, { ...failure, message: failure.message + note });
  if (noted.length <= maxBytes) return { payload: noted, trimmed: true };
  // Cut errorMessage, keeping whole characters, until it fits (JSON escapes make bytes uneven).
  const chars = [...failure.message];
  let lo = 0;
  let hi = chars.length;
  let best: Buffer | undefined;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const out = errorPayload(bare, { ...failure, message: `${chars.slice(0, mid).join('')}...` });
    if (out.length <= maxBytes) {
      best = out;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return best ? { payload: best, trimmed: true } : undefined;
}
