// What a rule publishes when a message failed every attempt: the JSON Baetyl v1 built with Go's
// encoding/json from map{"errorMessage","errorType","functionMessage"}. Byte-exact: map keys sorted,
// the message's fields in struct order with zero values omitted, Payload base64, HTML characters
// escaped as Go does, and gRPC errors in grpc-go's text form.
import * as grpc from '@grpc/grpc-js';
import type { FunctionMessage } from '@baetyl/core/function';

/** Why a call failed, as Baetyl reported it. */
export interface CallFailure {
  /** Go's err.Error(), e.g. `rpc error: code = Unknown desc = boom`. */
  message: string;
  /** Go's %T of the error, e.g. `*status.statusError`. */
  type: string;
  /** The gRPC status code, when the failure came from a call. */
  code?: grpc.status;
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
export function grpcFailure(code: grpc.status, details: string): CallFailure {
  return { message: `rpc error: code = ${goCodeName(code)} desc = ${details}`, type: '*status.statusError', code, details };
}

/** Any other failure (an instance that could not be started), shaped like a Go errors.New value. */
export function plainFailure(message: string): CallFailure {
  return { message, type: '*errors.errorString' };
}

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
        else if (c >= 0xd800 && c <= 0xdfff) out += '\\ufffd'; // a lone surrogate is invalid UTF-8 to Go
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
    `{"errorMessage":${goJsonString(failure.message)},` +
    `"errorType":${goJsonString(failure.type)},` +
    `"functionMessage":${goFunctionMessageJson(msg)}}`;
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
