// baetyl.Function (protos/function.proto) for both sides of a function call, the manager's client
// and the runtime's server, with the same field conventions: original field names, longs as
// numbers, bytes as Buffers. The messages go through the hand-written codec in codec.ts.
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as Grpc from '@grpc/grpc-js';
import { decodeFunctionMessage, encodeFunctionMessage } from './codec.js';
import type { FunctionMessage } from './message.js';

export type { FunctionMessage } from './message.js';

// gRPC is loaded on first use: the master and the hub import this package too, and loading
// grpc-js costs them time and memory for nothing.
const require = createRequire(import.meta.url);
const grpcModule = () => require('@grpc/grpc-js') as typeof Grpc;

export const FUNCTION_PROTO_PATH = fileURLToPath(new URL('../../../../../protos/function.proto', import.meta.url));

export interface FunctionProto {
  /** The service definition, for `server.addService(def, { Call })`. */
  service: Grpc.ServiceDefinition;
  /** The client constructor, `new Client(address, credentials, options)`. */
  Client: Grpc.ServiceClientConstructor;
}

let cached: FunctionProto | undefined;

export function loadFunctionProto(): FunctionProto {
  if (cached) return cached;
  const call: Grpc.MethodDefinition<FunctionMessage, FunctionMessage> = {
    path: '/baetyl.Function/Call',
    requestStream: false,
    responseStream: false,
    requestSerialize: encodeFunctionMessage,
    requestDeserialize: decodeFunctionMessage,
    responseSerialize: encodeFunctionMessage,
    responseDeserialize: decodeFunctionMessage,
    originalName: 'call',
  };
  const service = { Call: call } as unknown as Grpc.ServiceDefinition;
  let client: Grpc.ServiceClientConstructor | undefined;
  cached = {
    service,
    // Made on first use: a server (the runtime) never needs it, nor grpc-js loaded from here.
    get Client() {
      client ??= grpcModule().makeGenericClientConstructor(service, 'Function');
      return client;
    },
  };
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
