// gRPC's C core as a second, independent client: support/grpcio_client.py on Debian's
// python3-grpcio, driven with a JSON job. Whether it can run is decided once: when grpcio is
// missing the tests skip with the reason printed, unless BAETYL_REQUIRE_GRPCIO=1 (CI), where
// they fail.
import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FunctionMessage } from '@baetyl/core';

export const GRPCIO_PYTHON = process.env.BAETYL_GRPCIO_PYTHON ?? '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('../../../test/support/grpcio_client.py', import.meta.url));

/** undefined when grpcio can be imported, else why not. */
function probe(): string | undefined {
  const r = spawnSync(GRPCIO_PYTHON, ['-c', 'import grpc; print(grpc.__version__)'], { encoding: 'utf8' });
  if (r.error) return `${GRPCIO_PYTHON} cannot run: ${r.error.message}`;
  if (r.status !== 0) return `${GRPCIO_PYTHON} -c "import grpc" failed: ${r.stderr.trim().split('\n').pop()}`;
  return undefined;
}

const missing = probe();
if (missing && process.env.BAETYL_REQUIRE_GRPCIO === '1') {
  throw new Error(`BAETYL_REQUIRE_GRPCIO=1 but grpcio is not usable: ${missing} (install Debian's python3-grpcio)`);
}
if (missing) console.log(`skipping the grpcio interop tests: ${missing} (install python3-grpcio to run them)`);

/** For test(name, { skip: grpcioSkip }, ...): false, or the reason. */
export const grpcioSkip: string | false = missing ? `grpcio is not installed: ${missing}` : false;

export interface WireMsg {
  ID?: number;
  QOS?: number;
  Topic?: string;
  /** base64 */
  Payload?: string;
  Timestamp?: number;
  FunctionName?: string;
  FunctionInvokeID?: string;
}

export interface UnaryOp {
  kind: 'unary';
  msg: WireMsg;
  /** seconds */
  timeout?: number;
  metadata?: Array<[string, string]>;
  /** Sends the request gzip-compressed (grpc-encoding: gzip). */
  compression?: 'gzip';
}

export interface StreamOp {
  kind: 'stream';
  calls: Array<{ seq: number; timeout?: number; msg: WireMsg }>;
  timeout?: number;
}

export interface UnaryOutcome {
  code: number;
  details: string | null;
  response: Required<WireMsg> | null;
  raw: string | null;
  initial_metadata: Array<[string, string]>;
  trailing_metadata: Array<[string, string]>;
}

export interface StreamOutcome {
  code: number;
  details: string | null;
  results: Array<{ seq: number; code: number; details: string; payload: string }>;
  trailing_metadata: Array<[string, string]>;
}

export interface GrpcioJob {
  target: string;
  tls?: { ca: string; cert?: string; key?: string; name?: string };
  ops: Array<UnaryOp | StreamOp>;
}

export function wireMsg(m: Partial<FunctionMessage>): WireMsg {
  return { ...m, Payload: m.Payload ? m.Payload.toString('base64') : undefined };
}

/** Runs the job in a fresh python3 process (one channel for all its ops). */
export function runGrpcio(job: GrpcioJob): Promise<Array<UnaryOutcome | StreamOutcome>> {
  return new Promise((resolve, reject) => {
    const child = execFile(GRPCIO_PYTHON, [SCRIPT], { maxBuffer: 64 << 20, timeout: 120000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`the grpcio client failed: ${err.message}\n${stderr}`));
      try {
        resolve(JSON.parse(stdout) as Array<UnaryOutcome | StreamOutcome>);
      } catch (e) {
        reject(new Error(`the grpcio client printed no JSON (${(e as Error).message}):\n${stdout}\n${stderr}`));
      }
    });
    child.stdin!.end(JSON.stringify(job));
  });
}
