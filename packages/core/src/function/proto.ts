// Loads protos/function.proto for both sides of a function call (the manager's client and the
// runtime's server), so they agree on options: original field names, longs as numbers, bytes as Buffers.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

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
  service: grpc.ServiceDefinition;
  /** The client constructor, `new Client(address, credentials, options)`. */
  Client: grpc.ServiceClientConstructor;
}

let cached: FunctionProto | undefined;

export function loadFunctionProto(): FunctionProto {
  if (cached) return cached;
  const def = protoLoader.loadSync(FUNCTION_PROTO_PATH, { keepCase: true, longs: Number, defaults: true, bytes: Buffer });
  const pkg = grpc.loadPackageDefinition(def) as unknown as { baetyl: { Function: grpc.ServiceClientConstructor } };
  cached = { service: pkg.baetyl.Function.service, Client: pkg.baetyl.Function };
  return cached;
}

type CallBack = (err: grpc.ServiceError | null, res?: FunctionMessage) => void;

/** The typed client of baetyl.Function. */
export interface FunctionClient extends grpc.Client {
  Call(msg: Partial<FunctionMessage>, options: grpc.CallOptions, cb: CallBack): grpc.ClientUnaryCall;
  Call(msg: Partial<FunctionMessage>, cb: CallBack): grpc.ClientUnaryCall;
}

export function createFunctionClient(address: string, credentials = grpc.credentials.createInsecure(), options: grpc.ChannelOptions = {}): FunctionClient {
  const { Client } = loadFunctionProto();
  return new Client(address, credentials, options) as unknown as FunctionClient;
}
