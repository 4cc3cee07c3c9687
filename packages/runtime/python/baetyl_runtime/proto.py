# -*- coding:utf-8 -*-
"""The protobuf messages of protos/function.proto and protos/function-stream.proto, by hand.

FunctionMessage: 1 ID (uint64), 2 QOS (uint32), 3 Topic, 4 Payload, 10 Timestamp (sint64),
11 FunctionName, 12 FunctionInvokeID. StreamCall: 1 seq, 2 timeout (ms), 3 msg. StreamResult:
1 seq, 2 code, 3 details, 4 payload, 5 us (how long the handler ran). Unknown fields are skipped, as protobuf does.
"""
import struct


class ProtoError(Exception):
    """Bytes that are not the message they should be (INTERNAL for the call)."""


def _varint(data, pos):
    result = 0
    shift = 0
    while True:
        b = data[pos]
        pos += 1
        result |= (b & 0x7f) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtoError('a varint is too long')


def _skip(data, pos, wire):
    if wire == 0:
        return _varint(data, pos)[1]
    if wire == 1:
        return pos + 8
    if wire == 2:
        n, pos = _varint(data, pos)
        return pos + n
    if wire == 5:
        return pos + 4
    raise ProtoError('unsupported wire type %d' % wire)


def varint(value):
    if value < 0x80:
        return _SMALL[value]
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7f) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


_SMALL = [struct.pack('B', i) for i in range(0x80)]


class FunctionMessage(object):
    __slots__ = ('id', 'qos', 'topic', 'payload', 'timestamp', 'function_name', 'invoke_id')

    def __init__(self):
        self.id = 0
        self.qos = 0
        self.topic = b''
        self.payload = b''
        self.timestamp = 0
        self.function_name = b''
        self.invoke_id = b''


def decode_function_message(data):
    """From bytes (or a bytearray); strings stay UTF-8 bytes. Single-byte tags and lengths (every
    field our manager and Baetyl v1's send, for payloads under 128 bytes) take the fast path."""
    view = data if isinstance(data, bytearray) else bytearray(data)
    msg = FunctionMessage()
    pos = 0
    end = len(view)
    try:
        while pos < end:
            tag = view[pos]
            if tag < 0x80:
                pos += 1
            else:
                tag, pos = _varint(view, pos)
            wire = tag & 7
            if wire == 2:
                n = view[pos]
                if n < 0x80:
                    pos += 1
                else:
                    n, pos = _varint(view, pos)
                stop = pos + n
                if stop > end:
                    raise ProtoError('a field runs past the end of the message')
                value = bytes(view[pos:stop])
                pos = stop
                if tag == 0x22:
                    msg.payload = value
                elif tag == 0x1a:
                    msg.topic = value
                elif tag == 0x5a:
                    msg.function_name = value
                elif tag == 0x62:
                    msg.invoke_id = value
            elif wire == 0:
                value = view[pos]
                if value < 0x80:
                    pos += 1
                else:
                    value, pos = _varint(view, pos)
                if tag == 0x08:
                    msg.id = value
                elif tag == 0x10:
                    msg.qos = value & 0xffffffff
                elif tag == 0x50:
                    # zigzag, then a signed 64-bit value
                    msg.timestamp = (value >> 1) ^ -(value & 1)
            else:
                pos = _skip(view, pos, wire)
    except IndexError:
        raise ProtoError('the message ends inside a field')
    if pos != end:
        raise ProtoError('the message ends inside a field')
    return msg


def _bytes_field(tag, value):
    return tag + varint(len(value)) + value


def encode_function_message(msg, payload):
    """The message with its Payload replaced (Call's answer)."""
    parts = []
    if msg.id:
        parts.append(b'\x08' + varint(msg.id))
    if msg.qos:
        parts.append(b'\x10' + varint(msg.qos))
    if msg.topic:
        parts.append(_bytes_field(b'\x1a', msg.topic))
    if payload:
        parts.append(_bytes_field(b'\x22', payload))
    if msg.timestamp:
        ts = msg.timestamp
        parts.append(b'\x50' + varint(((ts << 1) ^ (ts >> 63)) & 0xffffffffffffffff))
    if msg.function_name:
        parts.append(_bytes_field(b'\x5a', msg.function_name))
    if msg.invoke_id:
        parts.append(_bytes_field(b'\x62', msg.invoke_id))
    return b''.join(parts)


def decode_stream_call(data):
    """(seq, timeout ms, FunctionMessage) of a StreamCall."""
    view = bytearray(data)
    seq = timeout = 0
    msg = None
    pos = 0
    end = len(view)
    try:
        while pos < end:
            tag = view[pos]
            pos += 1
            if tag == 0x08:
                seq, pos = _varint(view, pos)
            elif tag == 0x10:
                timeout, pos = _varint(view, pos)
            elif tag == 0x1a:
                n, pos = _varint(view, pos)
                if pos + n > end:
                    raise ProtoError('a field runs past the end of the message')
                msg = decode_function_message(view[pos:pos + n])
                pos += n
            else:
                if tag >= 0x80:
                    tag, pos = _varint(view, pos - 1)
                pos = _skip(view, pos, tag & 7)
    except IndexError:
        raise ProtoError('the message ends inside a field')
    if pos != end:
        raise ProtoError('the message ends inside a field')
    return seq, timeout, msg if msg is not None else FunctionMessage()


def peek_stream_seq(head):
    """The seq of a StreamCall from its first bytes, or None (for answering an oversized call)."""
    view = bytearray(head)
    try:
        if view and view[0] == 0x08:
            return _varint(view, 1)[0]
    except IndexError:
        pass
    return None


def encode_stream_result(seq, code, details, payload, us=0):
    out = b'\x08' + varint(seq)
    if code:
        out += b'\x10' + varint(code)
    if details:
        out += _bytes_field(b'\x1a', details)
    if payload:
        out += _bytes_field(b'\x22', payload)
    if us:
        out += b'\x28' + varint(us)
    return out
