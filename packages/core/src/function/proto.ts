// Loads protos/function.proto for both sides of a function call (the manager's client and the
// runtime's server), so they agree on options: original field names, longs as numbers, bytes as Buffers.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as Grpc from '@grpc/grpc-js';
import type * as ProtoLoader from '@grpc/proto-loader';

// gRPC is loaded on first use: the master and the hub import this package too, and loading
// grpc-js and proto-loader costs them ~200 ms and several MB for nothing.
const require = createRequire(import.meta.url);
const grpcModule = () => require('@grpc/grpc-js') as typeof Grpc;

export const FUNCTION_PROTO_PATH = fileURLToPath(new URL('../../../../../protos/function.proto', import.meta.url));

/** One FunctionMessage as the gRPC layer hands it over (proto3 defaults filled in). */
export interface FunctionMessage {
  ID: number;
  QOS: number;
  Topic: string;
  Payload: Buffer;
  Timestamp: number;
  FunctionName: string;
  FunctionInvokeID: string;
}

export interface FunctionProto {
  /** The service definition, for `server.addService(def, { Call })`. */
  service: Grpc.ServiceDefinition;
  /** The client constructor, `new Client(address, credentials, options)`. */
  Client: Grpc.ServiceClientConstructor;
}

let cached: FunctionProto | undefined;

export function loadFunctionProto(): FunctionProto {
  if (cached) return cached;
  const protoLoader = require('@grpc/proto-loader') as typeof ProtoLoader;
  const def = protoLoader.loadSync(FUNCTION_PROTO_PATH, { keepCase: true, longs: Number, defaults: true, bytes: Buffer });
  const pkg = grpcModule().loadPackageDefinition(def) as unknown as { baetyl: { Function: Grpc.ServiceClientConstructor } };
  cached = { service: pkg.baetyl.Function.service, Client: pkg.baetyl.Function };
  return cached;
}

type CallBack = (err: Grpc.ServiceError | null, res?: FunctionMessage) => void;

/** The typed client of baetyl.Function. */
export interface FunctionClient extends Grpc.Client {
  Call(msg: Partial<FunctionMessage>, options: Grpc.CallOptions, cb: CallBack): Grpc.ClientUnaryCall;
  Call(msg: Partial<FunctionMessage>, cb: CallBack): Grpc.ClientUnaryCall;
}

export function createFunctionClient(address: string, credentials?: Grpc.ChannelCredentials, options: Grpc.ChannelOptions = {}): FunctionClient {
  const { Client } = loadFunctionProto();
  return new Client(address, credentials ?? grpcModule().credentials.createInsecure(), options) as unknown as FunctionClient;
}
