import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { createFunctionClient, loadFunctionProto, type FunctionMessage } from '../src/index.js';

test('function.proto round-trips a message over a real gRPC server, Timestamp as sint64', async () => {
  const proto = loadFunctionProto();
  const server = new grpc.Server();
  server.addService(proto.service, {
    Call: (call: grpc.ServerUnaryCall<FunctionMessage, FunctionMessage>, cb: grpc.sendUnaryData<FunctionMessage>) => {
      cb(null, { ...call.request, Payload: Buffer.from(`echo ${call.request.Payload.toString()}`) });
    },
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const client = createFunctionClient(`127.0.0.1:${port}`);
  const res = await new Promise<FunctionMessage>((resolve, reject) =>
    client.Call({ ID: 7, QOS: 1, Topic: 't', Payload: Buffer.from('x'), Timestamp: -5, FunctionName: 'f', FunctionInvokeID: 'u' }, (e, r) => (e || !r ? reject(e) : resolve(r))),
  );
  assert.equal(res.Payload.toString(), 'echo x');
  assert.equal(res.Timestamp, -5);
  assert.equal(res.ID, 7);
  assert.equal(res.FunctionName, 'f');
  client.close();
  server.forceShutdown();
});
