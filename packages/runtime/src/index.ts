// What other packages (benchmarks, tests, the master's docs) may use from the runtime host
// (docs/functions-runtimes.md, "Using it from code").
export { loadRuntimeConfig } from './config/config.js';
export { WorkerPool } from './host/pool.js';
export { serveFunctions } from './host/server.js';
export { findPython } from './python/interpreter.js';
export { startRuntime } from './runtime.js';
export { compileSql, runSql, SqlExecutor } from './sql/executor.js';
export { decodePayload, evaluate, SqlRuntimeError } from './sql/evaluate.js';
export { marshalGo } from './sql/json.js';
export { SqlSyntaxError, tokenize } from './sql/lexer.js';
export { parseSql } from './sql/parser.js';
