// What the gRPC server needs from a language: run one call before a deadline. The worker pool
// (python, node) and the in-process SQL engine both implement it.
import { deadlineDetails } from '@baetyl/core/function/errors';
import type { FunctionMessage } from '@baetyl/core/function/message';
import { status, type Status } from '../grpc/status.js';

/** `us`: how long the handler ran, microseconds, when it ran and was measured (the manager's pool reads it). */
export type CallResult = { ok: true; payload: Buffer; us?: number } | { ok: false; code: Status; details: string; us?: number };

export interface Executor {
  /** Loads every handler; throws (LoadError, ConfigError...) with a message for the user. */
  start(): Promise<void>;
  /** Runs one call; `deadline` is an epoch in ms (Infinity for none). Never throws. */
  call(msg: FunctionMessage, deadline: number): Promise<CallResult>;
  /** Stops everything it started. */
  close(): Promise<void>;
}

/** A DEADLINE_EXCEEDED answer; `what` says which deadline layer gave up (deadlines.ts). */
export function deadlineExceeded(what: string): CallResult {
  return { ok: false, code: status.DEADLINE_EXCEEDED, details: deadlineDetails(what) };
}
