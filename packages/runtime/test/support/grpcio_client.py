# -*- coding:utf-8 -*-
"""A gRPC client on gRPC's C core (Debian's python3-grpcio), for the interop tests.

No generated code: the messages are encoded and decoded here by hand (protos/function.proto,
protos/function-stream.proto) and go through grpcio as raw bytes (no serializers).

Reads a JSON job on stdin, prints a JSON list of outcomes on stdout:
  {"target": "127.0.0.1:1234",
   "tls": {"ca": "ca.pem", "cert": "client.pem", "key": "client.key", "name": "localhost"} | null,
   "ops": [{"kind": "unary", "msg": MSG, "timeout": 30, "metadata": [["k", "v"]], "compression": "gzip"},
           {"kind": "stream", "calls": [{"seq": 1, "timeout": 5000, "msg": MSG}], "timeout": 30}]}
with MSG = {"ID", "QOS", "Topic", "Payload" (base64), "Timestamp", "FunctionName", "FunctionInvokeID"}.
A unary outcome: {"code", "details", "response" (MSG, or null), "raw" (the response bytes, hex),
"initial_metadata", "trailing_metadata"}; a stream outcome: {"code", "details", "results":
[{"seq", "code", "details", "payload" (base64)}], "trailing_metadata"}.
"""
import base64
import json
import sys

import grpc


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7f
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def read_varint(data, pos):
    value = shift = 0
    while True:
        b = data[pos]
        pos += 1
        value |= (b & 0x7f) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def fields(data):
    """(field number, value) pairs: ints for varints, bytes for length-delimited fields."""
    pos = 0
    out = []
    while pos < len(data):
        tag, pos = read_varint(data, pos)
        num, wire = tag >> 3, tag & 7
        if wire == 0:
            value, pos = read_varint(data, pos)
        elif wire == 2:
            n, pos = read_varint(data, pos)
            value = data[pos:pos + n]
            pos += n
        else:
            raise ValueError('unexpected wire type %d' % wire)
        out.append((num, value))
    return out


def encode_msg(m):
    out = b''
    if m.get('ID'):
        out += b'\x08' + varint(m['ID'])
    if m.get('QOS'):
        out += b'\x10' + varint(m['QOS'])
    for num, key in ((3, 'Topic'), (4, 'Payload')):
        value = m.get(key)
        if value:
            raw = base64.b64decode(value) if key == 'Payload' else value.encode('utf-8')
            out += bytes([num << 3 | 2]) + varint(len(raw)) + raw
    ts = m.get('Timestamp', 0)
    if ts:
        out += b'\x50' + varint((ts << 1) ^ (ts >> 63))
    for num, key in ((11, 'FunctionName'), (12, 'FunctionInvokeID')):
        value = m.get(key)
        if value:
            raw = value.encode('utf-8')
            out += varint(num << 3 | 2) + varint(len(raw)) + raw
    return out


def decode_msg(data):
    m = {'ID': 0, 'QOS': 0, 'Topic': '', 'Payload': '', 'Timestamp': 0, 'FunctionName': '', 'FunctionInvokeID': ''}
    for num, value in fields(data):
        if num == 1:
            m['ID'] = value
        elif num == 2:
            m['QOS'] = value
        elif num == 3:
            m['Topic'] = value.decode('utf-8')
        elif num == 4:
            m['Payload'] = base64.b64encode(value).decode('ascii')
        elif num == 10:
            m['Timestamp'] = (value >> 1) ^ -(value & 1)
        elif num == 11:
            m['FunctionName'] = value.decode('utf-8')
        elif num == 12:
            m['FunctionInvokeID'] = value.decode('utf-8')
    return m


def encode_stream_call(c):
    msg = encode_msg(c['msg'])
    out = b'\x08' + varint(c['seq'])
    if c.get('timeout'):
        out += b'\x10' + varint(c['timeout'])
    return out + b'\x1a' + varint(len(msg)) + msg


def decode_stream_result(data):
    r = {'seq': 0, 'code': 0, 'details': '', 'payload': ''}
    for num, value in fields(data):
        if num == 1:
            r['seq'] = value
        elif num == 2:
            r['code'] = value
        elif num == 3:
            r['details'] = value.decode('utf-8')
        elif num == 4:
            r['payload'] = base64.b64encode(value).decode('ascii')
    return r


def metadata(md):
    return [[k, v if isinstance(v, str) else base64.b64encode(v).decode('ascii')] for k, v in (md or ())]


def channel(job):
    tls = job.get('tls')
    if not tls:
        return grpc.insecure_channel(job['target'])

    def read(key):
        if not tls.get(key):
            return None
        with open(tls[key], 'rb') as f:
            return f.read()

    creds = grpc.ssl_channel_credentials(root_certificates=read('ca'), private_key=read('key'), certificate_chain=read('cert'))
    options = [('grpc.ssl_target_name_override', tls['name'])] if tls.get('name') else []
    return grpc.secure_channel(job['target'], creds, options=options)


def unary(ch, op):
    fn = ch.unary_unary('/baetyl.Function/Call')
    try:
        kwargs = {'compression': grpc.Compression.Gzip} if op.get('compression') == 'gzip' else {}
        raw, call = fn.with_call(encode_msg(op['msg']), timeout=op.get('timeout', 30), metadata=op.get('metadata') or None, **kwargs)
    except grpc.RpcError as err:
        return {'code': err.code().value[0], 'details': err.details(), 'response': None, 'raw': None,
                'initial_metadata': metadata(err.initial_metadata()), 'trailing_metadata': metadata(err.trailing_metadata())}
    return {'code': call.code().value[0], 'details': call.details(), 'response': decode_msg(raw), 'raw': raw.hex(),
            'initial_metadata': metadata(call.initial_metadata()), 'trailing_metadata': metadata(call.trailing_metadata())}


def stream(ch, op):
    fn = ch.stream_stream('/baetyl.FunctionStream/Calls')
    calls = [encode_stream_call(c) for c in op['calls']]
    responses = fn(iter(calls), timeout=op.get('timeout', 30))
    results = []
    try:
        for raw in responses:
            results.append(decode_stream_result(raw))
    except grpc.RpcError:
        pass
    return {'code': responses.code().value[0], 'details': responses.details(), 'results': results,
            'trailing_metadata': metadata(responses.trailing_metadata())}


def main():
    job = json.load(sys.stdin)
    ch = channel(job)
    out = []
    try:
        for op in job['ops']:
            out.append(unary(ch, op) if op['kind'] == 'unary' else stream(ch, op))
    finally:
        ch.close()
    json.dump(out, sys.stdout)


if __name__ == '__main__':
    main()
