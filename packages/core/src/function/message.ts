// baetyl.FunctionMessage (protos/function.proto) as both sides of a call hold it: original field
// names, longs as numbers, bytes as Buffers, proto3 defaults filled in. A module of its own so that
// the codec and the gRPC definitions, which both need it, do not import each other.

export interface FunctionMessage {
  ID: number;
  QOS: number;
  Topic: string;
  Payload: Buffer;
  Timestamp: number;
  FunctionName: string;
  FunctionInvokeID: string;
}
