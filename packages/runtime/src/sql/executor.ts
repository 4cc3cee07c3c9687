// placeholder replaced below
import { status } from '@grpc/grpc-js';
import type { FunctionMessage, Logger } from '@baetyl/core';
import type { FunctionConfig } from '../config/config.js';
import type { CallResult, Executor } from '../host/executor.js';
export class SqlExecutor implements Executor {
  constructor(_f: FunctionConfig[], _l: Logger) {}
  async start(): Promise<void> {}
  async call(_m: FunctionMessage, _d: number): Promise<CallResult> { return { ok: false, code: status.UNIMPLEMENTED, details: 'todo' }; }
  async close(): Promise<void> {}
}
