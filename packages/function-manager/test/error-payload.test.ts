import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { errorPayload, goCodeName, goJsonString, grpcFailure, plainFailure } from '../src/call/error-payload.js';

test('the error payload is byte-exact Go JSON: sorted keys, struct order, zero fields omitted', () => {
  const msg = {
    ID: 0,
    QOS: 0,
    Topic: 't',
    Payload: Buffer.from('{"err":"x"}'),
    Timestamp: 1572000000,
    FunctionName: 'python27-sayhi',
    FunctionInvokeID: '0b5f3a0e-2f64-4ac1-9d65-1ad0b9f1c0de',
  };
  const failure = grpcFailure(grpc.status.UNKNOWN, "Exception calling application: ('[UserCodeInvoke] ', TypeError('x',))");
  assert.equal(
    errorPayload(msg, failure).toString(),
    `{"errorMessage":"rpc error: code = Unknown desc = Exception calling application: ('[UserCodeInvoke] ', TypeError('x',))","errorType":"*status.statusError",` +
      `"functionMessage":{"Topic":"t","Payload":"eyJlcnIiOiJ4In0=","Timestamp":1572000000,"FunctionName":"python27-sayhi","FunctionInvokeID":"0b5f3a0e-2f64-4ac1-9d65-1ad0b9f1c0de"}}`,
  );
  const qos1 = { ...msg, ID: 7, QOS: 1, Payload: Buffer.alloc(0) };
  assert.equal(
    errorPayload(qos1, grpcFailure(grpc.status.DEADLINE_EXCEEDED, 'context deadline exceeded')).toString(),
    `{"errorMessage":"rpc error: code = DeadlineExceeded desc = context deadline exceeded","errorType":"*status.statusError",` +
      `"functionMessage":{"ID":7,"QOS":1,"Topic":"t","Timestamp":1572000000,"FunctionName":"python27-sayhi","FunctionInvokeID":"0b5f3a0e-2f64-4ac1-9d65-1ad0b9f1c0de"}}`,
  );
});

test('strings are escaped as Go does, HTML characters included', () => {
  assert.equal(goJsonString('a<b>&"\\\n\t\r\u0001\u007f\u2028é'), '"a\\u003cb\\u003e\\u0026\\"\\\\\\n\\t\\r\\u0001\u007f\\u2028é"');
  assert.equal(goJsonString('\b\f'), '"\\u0008\\u000c"');
});

test("gRPC code names are Go's", () => {
  assert.equal(goCodeName(grpc.status.UNKNOWN), 'Unknown');
  assert.equal(goCodeName(grpc.status.DEADLINE_EXCEEDED), 'DeadlineExceeded');
  assert.equal(goCodeName(grpc.status.UNAVAILABLE), 'Unavailable');
  assert.equal(goCodeName(grpc.status.CANCELLED), 'Canceled');
  assert.equal(goCodeName(grpc.status.RESOURCE_EXHAUSTED), 'ResourceExhausted');
  assert.equal(goCodeName(42), 'Code(42)');
  assert.equal(grpcFailure(grpc.status.UNAVAILABLE, 'x').message, 'rpc error: code = Unavailable desc = x');
  assert.equal(plainFailure('no').type, '*errors.errorString');
});
