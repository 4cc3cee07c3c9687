// What other packages (benchmarks, tests, the master's docs) may use from the runtime host.
export * from './config/config.js';
export * from './host/executor.js';
export * from './host/pool.js';
export * from './host/protocol.js';
export * from './host/server.js';
export * from './host/thread.js';
export * from './python/interpreter.js';
export * from './runtime.js';
export * from './sql/ast.js';
export { compileSql, runSql, SqlExecutor } from './sql/executor.js';
export { decodePayload, evaluate, SqlRuntimeError } from './sql/evaluate.js';
export { marshalGo } from './sql/json.js';
export { SqlSyntaxError, tokenize } from './sql/lexer.js';
export { parseSql } from './sql/parser.js';
