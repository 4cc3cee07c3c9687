// The sql runtime: SQL functions evaluated in the host process itself (no worker: evaluation is
// pure and bounded), behind the same Executor interface the worker pools implement.
import { applicationError, FUNCTION_NOT_FOUND } from '@baetyl/core/function/errors';
import { status } from '../grpc/status.js';
import type { FunctionMessage } from '@baetyl/core/function/message';
import type { RuntimeLogger } from '../log/logger.js';
import type { FunctionConfig } from '../config/config.js';
import type { CallResult, Executor } from '../host/executor.js';
import { LoadError } from '../host/thread.js';
import type { Query } from './ast.js';
import { decodePayload, evaluate, SqlRuntimeError } from './evaluate.js';
import { marshalGo } from './json.js';
import { SqlSyntaxError } from './lexer.js';
import { parseSql } from './parser.js';

/** Parses and checks one SQL function; the error names the function. */
export function compileSql(name: string, sql: string): Query {
  try {
    return parseSql(sql);
  } catch (err) {
    if (err instanceof SqlSyntaxError) throw new LoadError(`function "${name}": ${err.message}`);
    throw err;
  }
}

/** Runs a compiled query on one message: the result payload, empty when filtered out. */
export function runSql(query: Query, msg: Pick<FunctionMessage, 'Payload' | 'QOS' | 'Topic'>): Buffer {
  const doc = decodePayload(msg.Payload);
  const out = evaluate(query, doc, { qos: msg.QOS, topic: msg.Topic });
  return out === undefined ? Buffer.alloc(0) : Buffer.from(marshalGo(out), 'utf8');
}

export class SqlExecutor implements Executor {
  private readonly queries = new Map<string, Query>();

  constructor(
    private readonly functions: FunctionConfig[],
    private readonly logger: RuntimeLogger,
  ) {}

  async start(): Promise<void> {
    for (const f of this.functions) {
      this.queries.set(f.name, compileSql(f.name, f.handler));
      if (/\bclientid\s*\(/i.test(f.handler)) {
        this.logger.warn(`function "${f.name}": clientid() is always NULL at the edge (a function message carries no client id)`);
      }
    }
  }

  async call(msg: FunctionMessage, _deadline: number): Promise<CallResult> {
    const query = this.queries.get(msg.FunctionName);
    if (!query) return { ok: false, code: status.UNKNOWN, details: FUNCTION_NOT_FOUND };
    const start = performance.now();
    try {
      const payload = runSql(query, msg);
      return { ok: true, payload, us: Math.max(1, Math.round((performance.now() - start) * 1000)) };
    } catch (err) {
      const reason = err instanceof SqlRuntimeError ? err.message : `internal error: ${String(err)}`;
      this.logger.warn(`function "${msg.FunctionName}" cannot handle a message on "${msg.Topic}": ${reason}`, { invokeid: msg.FunctionInvokeID });
      return { ok: false, code: status.UNKNOWN, details: applicationError(`sql function "${msg.FunctionName}": ${reason}`) };
    }
  }

  async close(): Promise<void> {}
}
