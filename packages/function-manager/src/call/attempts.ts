// The attempts of one message, and the health policy. The pool lends instances and takes them
// back; this module decides what a failed call means: for the message, another attempt (up to the
// rule's retry.max) or none (a result too large is the same every time); for the instance that
// failed it, kept or replaced. Baetyl v1 kept its retries beside the call, in its ruler, too.
import * as grpc from '@grpc/grpc-js';
import { goDetails, grpcFailure, isResultTooLarge, plainFailure, type CallFailure, type FunctionMessage } from '@baetyl/core/function';
import type { Logger } from '@baetyl/core/log';
import type { CallMetrics } from '../metrics/registry.js';
import type { FunctionInstance } from '../pool/instance.js';

export type CallOutcome =
  | { kind: 'ok'; result: FunctionMessage; attempts: number }
  | { kind: 'failed'; failure: CallFailure; attempts: number }
  /** The pool closed (shutdown) before the message got an answer: there is nothing to publish. */
  | { kind: 'aborted' };

/** What the attempts need from a function's pool (FunctionPool). */
export interface InstanceLender {
  readonly functionName: string;
  /** Set once the pool stops: a message still in its attempts is aborted. */
  readonly closed: boolean;
  /** Where the attempts say what failed (the function's log). */
  readonly log: Logger;
  /** The function's call deadline, ms (functions[].timeout; deadlines.ts). */
  readonly callTimeout: number;
  /** An instance with room for one more call; rejects when none can be had. */
  borrow(): Promise<FunctionInstance>;
  /** Takes the instance back after a call; `replaceBecause` retires it. */
  giveBack(inst: FunctionInstance, replaceBecause: string | undefined): void;
}

/** Calls the function, retrying on errors, up to `attempts` calls in all (at least one); `metrics` counts them. */
export async function callWithRetries(pool: InstanceLender, msg: FunctionMessage, attempts: number, metrics?: CallMetrics): Promise<CallOutcome> {
  const { functionName: fn, log } = pool;
  const total = Math.max(1, attempts);
  let failure: CallFailure = plainFailure('no attempt was made');
  for (let attempt = 1; attempt <= total; attempt++) {
    if (pool.closed) return { kind: 'aborted' };
    if (attempt > 1) metrics?.retried();
    let inst: FunctionInstance;
    try {
      inst = await pool.borrow();
    } catch (err) {
      if (pool.closed) return { kind: 'aborted' };
      metrics?.noInstance();
      failure = plainFailure((err as Error).message);
      log.warn(`function (${fn}) attempt ${attempt}/${total} failed: ${failure.message}`, { invokeid: msg.FunctionInvokeID });
      continue;
    }
    const sent = performance.now();
    try {
      // deadline layer: function call (@baetyl/core/function/deadlines.ts).
      const result = await inst.call(msg, pool.callTimeout);
      metrics?.called((performance.now() - sent) / 1000, 'ok');
      inst.timeoutsInARow = 0;
      pool.giveBack(inst, undefined);
      return { kind: 'ok', result, attempts: attempt };
    } catch (err) {
      const e = err as grpc.ServiceError;
      const code = typeof e.code === 'number' ? e.code : grpc.status.UNKNOWN;
      metrics?.called((performance.now() - sent) / 1000, code === grpc.status.DEADLINE_EXCEEDED ? 'timeout' : 'error');
      failure = grpcFailure(code, goDetails(code, e.details ?? e.message));
      pool.giveBack(inst, replaceReason(inst, code));
      if (pool.closed) return { kind: 'aborted' };
      if (isResultTooLarge(code, failure.details ?? '')) {
        // Every attempt would make the same result: it is reported now, and no instance suffers.
        log.warn(`function (${fn}) answered with a result too large for its gRPC limit; not retried: ${failure.message}`, { invokeid: msg.FunctionInvokeID });
        return { kind: 'failed', failure, attempts: attempt };
      }
      log.warn(`function (${fn}) attempt ${attempt}/${total} failed on instance (${inst.name}): ${failure.message}`, { invokeid: msg.FunctionInvokeID });
    }
  }
  return { kind: 'failed', failure, attempts: total };
}

/** The health policy: whether a failed call means the instance should be replaced (and why), or kept. */
export function replaceReason(inst: FunctionInstance, code: grpc.status): string | undefined {
  switch (code) {
    case grpc.status.UNKNOWN:
      // The user's code raised: the runtime answered, so it is healthy. Baetyl restarted it here.
      inst.timeoutsInARow = 0;
      return undefined;
    case grpc.status.DEADLINE_EXCEEDED:
      // The runtime replaces a timed-out worker itself; twice in a row means the whole instance hangs.
      inst.timeoutsInARow++;
      if (inst.timeoutsInARow >= 2) return 'it timed out twice in a row';
      return inst.channelAlive() ? undefined : 'its channel failed';
    case grpc.status.UNAVAILABLE:
      return 'it is unavailable (crashed or stopped listening)';
    default:
      return inst.channelAlive() ? undefined : 'its channel failed';
  }
}

/** The health policy for an idle instance the pool is about to lend: why to replace it instead, if it should be. */
export function idleReplaceReason(inst: FunctionInstance): string | undefined {
  return inst.channelAlive() ? undefined : 'its channel failed while idle';
}
