// What the gRPC server needs from a language: run one call before a deadline. The worker pool
// (python, node) and the in-process SQL engine both implement it.
import type { FunctionMessage } from '@baetyl/core/function/message';
import { status, type Status } from '../grpc/status.js';

export type CallResult = { ok: true; payload: Buffer } | { ok: false; code: Status; details: string };

export interface Executor {
  /** Loads every handler; throws (LoadError, ConfigError...) with a message for the user. */
  start(): Promise<void>;
  /** Runs one call; `deadline` is an epoch in ms (Infinity for none). Never throws. */
  call(msg: FunctionMessage, deadline: number): Promise<CallResult>;
  /** Stops everything it started. */
  close(): Promise<void>;
}

/** v1's text for a FunctionName the instance does not have. */
export const NOT_FOUND_DETAILS = 'Exception calling application: function not found';

export function deadlineExceeded(what: string): CallResult {
  return { ok: false, code: status.DEADLINE_EXCEEDED, details: `Deadline Exceeded: ${what}` };
}
