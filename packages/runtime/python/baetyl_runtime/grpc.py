# -*- coding:utf-8 -*-
"""gRPC over one HTTP/2 connection: baetyl.Function/Call (unary, Baetyl v1's wire) and
baetyl.FunctionStream/Calls (our stream of many calls), answered from an executor.

A request is checked (POST, content-type application/grpc, no compression), its length-prefixed
messages are cut out of the DATA frames, and every call goes to `service.submit` with its
deadline. Answers are a header block, the message, and trailers with grpc-status and a
percent-encoded grpc-message; an error is answered trailers-only. Messages over
`message.length.max` are refused with RESOURCE_EXHAUSTED in both directions: on the stream, only
the call concerned fails.
"""
import struct
import time

from baetyl_runtime import h2, hpack, proto

OK = 0
CANCELLED = 1
UNKNOWN = 2
DEADLINE_EXCEEDED = 4
RESOURCE_EXHAUSTED = 8


def too_large(result, message, limit):
    """The text of a result the answer cannot carry: it names the limit and the size (the
    function manager passes it on in the error payload; it is not retried)."""
    size = '%d bytes' % result if result == message else '%d bytes (%d as a gRPC message)' % (result, message)
    return 'result of %s is over the limit of %d bytes (message.length.max)' % (size, limit)
UNIMPLEMENTED = 12
INTERNAL = 13
UNAVAILABLE = 14

CALL_PATH = b'/baetyl.Function/Call'
STREAM_PATH = b'/baetyl.FunctionStream/Calls'

_PREFIX = struct.Struct('>BI')
# The first bytes of a StreamCall that hold its seq: the tag and a varint of up to 10 bytes.
_SEQ_PEEK = 11

# Our header blocks never change, so they are encoded once (literals without indexing).
RESPONSE_HEADERS = (
    hpack.encode_indexed(8)  # :status 200
    + hpack.encode_indexed_name(31, b'application/grpc')  # content-type
    + hpack.encode_literal(b'grpc-accept-encoding', b'identity')
)
_TRAILERS_OK = hpack.encode_literal(b'grpc-status', b'0')


def percent_encode(text):
    """grpc-message's encoding: UTF-8, with bytes outside 0x20-0x7e and '%' as %XX."""
    data = bytearray(text.encode('utf-8') if not isinstance(text, bytes) else text)
    out = bytearray()
    for b in data:
        if 0x20 <= b <= 0x7e and b != 0x25:
            out.append(b)
        else:
            out += ('%%%02X' % b).encode('ascii')
    return bytes(out)


def trailers(code, message):
    if code == OK and not message:
        return _TRAILERS_OK
    block = hpack.encode_literal(b'grpc-status', str(code).encode('ascii'))
    if message:
        block += hpack.encode_literal(b'grpc-message', percent_encode(message))
    return block


_TIMEOUT_UNITS = {b'H': 3600000.0, b'M': 60000.0, b'S': 1000.0, b'm': 1.0, b'u': 0.001, b'n': 0.000001}


def parse_timeout(value):
    """grpc-timeout (e.g. b'30000m') in ms, or None if it is malformed."""
    if len(value) < 2 or len(value) > 9:
        return None
    unit = _TIMEOUT_UNITS.get(value[-1:])
    digits = value[:-1]
    if unit is None or not digits.isdigit():
        return None
    return int(digits) * unit


def message_frame(payload):
    return _PREFIX.pack(0, len(payload)) + payload


class Call(object):
    """The application state of one gRPC request (one HTTP/2 stream)."""
    __slots__ = ('stream', 'kind', 'buf', 'skip', 'deadline', 'running', 'ended', 'finished', 'handles', 'headers_sent')

    def __init__(self, stream, kind, deadline):
        self.stream = stream
        self.kind = kind
        self.buf = bytearray()
        # Bytes of an oversized message still to be dropped.
        self.skip = 0
        self.deadline = deadline
        self.running = 0
        self.ended = False
        self.finished = False
        # What the executor runs for this call, by seq (unary: 0), to cancel on a reset.
        self.handles = {}
        self.headers_sent = False


class GrpcHandler(object):
    """Plugs into h2.Connection as its handler; `service` holds the executor and the limits."""

    def __init__(self, service):
        self.service = service
        self.conn = None
        # The server's connection object, which flushes the output.
        self.owner = None

    # --- h2 callbacks ------------------------------------------------------------------------

    def on_request(self, stream, headers, end_stream):
        fields = {}
        for name, value in headers:
            fields[name] = value
        conn = self.conn
        if fields.get(b':method') != b'POST':
            conn.send_headers(stream, hpack.encode_indexed_name(8, b'405'), True)
            return
        ctype = fields.get(b'content-type', b'')
        if not ctype.startswith(b'application/grpc'):
            conn.send_headers(stream, hpack.encode_indexed_name(8, b'415'), True)
            return
        path = fields.get(b':path')
        if path == CALL_PATH:
            kind = 'unary'
        elif path == STREAM_PATH:
            kind = 'stream'
        else:
            self._trailers_only(stream, UNIMPLEMENTED, 'Method not found: %s' % path.decode('utf-8', 'replace'))
            return
        encoding = fields.get(b'grpc-encoding')
        if encoding is not None and encoding != b'identity':
            self._trailers_only(stream, UNIMPLEMENTED, 'grpc-encoding %s is not supported; this runtime takes identity only'
                                % encoding.decode('latin-1'))
            return
        deadline = None
        timeout = fields.get(b'grpc-timeout')
        if timeout is not None:
            ms = parse_timeout(timeout)
            if ms is None:
                self._trailers_only(stream, INTERNAL, 'malformed grpc-timeout "%s"' % timeout.decode('latin-1'))
                return
            # deadline layer: runtime receives (packages/core/src/function/deadlines.ts).
            deadline = time.time() * 1000 + ms
        call = Call(stream, kind, deadline)
        stream.app = call
        if kind == 'stream':
            # Headers at once: the caller learns that this runtime serves the stream.
            conn.send_headers(stream, RESPONSE_HEADERS)
            call.headers_sent = True
        if end_stream:
            self._ended(call)

    def on_data(self, stream, data, end_stream):
        call = stream.app
        if call is None or call.finished:
            return
        if data:
            self._messages(call, data)
        if end_stream and not call.finished:
            self._ended(call)

    def on_reset(self, stream, code):
        call = stream.app
        if call is None:
            return
        call.finished = True
        _cancel_all(call)

    # --- messages ----------------------------------------------------------------------------

    def _messages(self, call, data):
        if call.skip:
            drop = min(call.skip, len(data))
            call.skip -= drop
            data = data[drop:]
            if not data:
                return
        buf = call.buf
        buf += data
        limit = self.service.max_message
        pos = 0
        end = len(buf)
        while end - pos >= 5 and not call.finished:
            flag, length = _PREFIX.unpack_from(buf, pos)
            if flag not in (0, 1):
                self._fail(call, INTERNAL, 'a gRPC message with an invalid compressed flag %d' % flag)
                break
            if flag == 1:
                self._fail(call, INTERNAL, 'a compressed gRPC message, but grpc-encoding is identity')
                break
            if length > limit:
                have = end - pos - 5
                if call.kind == 'stream' and have < min(length, _SEQ_PEEK):
                    # Its seq (the first field) is needed to fail that call alone: the client
                    # may have cut the DATA frame right after the length prefix.
                    break
                self._oversized(call, buf, pos, length, limit)
                if call.finished:
                    break
                if have >= length:
                    pos += 5 + length
                    continue
                call.skip = length - have
                pos = end
                break
            if end - pos - 5 < length:
                break
            message = bytes(buf[pos + 5:pos + 5 + length])
            pos += 5 + length
            self._message(call, message)
        del buf[:pos]

    def _oversized(self, call, buf, pos, length, limit):
        text = 'Received message larger than max (%d vs. %d)' % (length, limit)
        if call.kind == 'stream':
            seq = proto.peek_stream_seq(bytes(buf[pos + 5:pos + 5 + _SEQ_PEEK]))
            if seq is not None:
                self._answer_stream(call, seq, RESOURCE_EXHAUSTED, text, b'')
                return
        self._fail(call, RESOURCE_EXHAUSTED, text)

    def _message(self, call, message):
        service = self.service
        if call.kind == 'unary':
            if call.running or call.ended:
                self._fail(call, UNIMPLEMENTED, 'more than one request message for a unary call')
                return
            try:
                msg = proto.decode_function_message(message)
            except proto.ProtoError as err:
                self._fail(call, INTERNAL, 'cannot decode the request: %s' % err)
                return
            refused = service.refusal()
            if refused:
                self._fail(call, RESOURCE_EXHAUSTED, refused)
                return
            call.running += 1
            deadline = service.cap(call.deadline)
            handle = service.submit(self, msg, deadline, lambda code, details, payload, us: self._unary_done(call, msg, code, details, payload))
            if not handle.done:
                call.handles[0] = handle
            return
        try:
            seq, timeout, msg = proto.decode_stream_call(message)
        except proto.ProtoError as err:
            self._fail(call, INTERNAL, 'cannot decode a stream call: %s' % err)
            return
        refused = service.refusal()
        if refused:
            self._answer_stream(call, seq, RESOURCE_EXHAUSTED, refused, b'')
            return
        call.running += 1
        deadline = service.cap(time.time() * 1000 + timeout if timeout else None)
        handle = service.submit(self, msg, deadline, lambda code, details, payload, us: self._stream_done(call, seq, code, details, payload, us))
        if not handle.done:
            call.handles[seq] = handle

    def _ended(self, call):
        call.ended = True
        if call.kind == 'unary':
            if not call.running and not call.finished:
                self._fail(call, UNIMPLEMENTED, 'no request message for a unary call')
            return
        self._maybe_close_stream(call)

    # --- answers -----------------------------------------------------------------------------

    def _unary_done(self, call, msg, code, details, payload):
        call.running -= 1
        call.handles.pop(0, None)
        if call.finished:
            return
        if code != OK:
            self._fail(call, code, details)
            return
        answer = proto.encode_function_message(msg, payload)
        if len(answer) > self.service.max_message:
            self._fail(call, RESOURCE_EXHAUSTED, too_large(len(payload), len(answer), self.service.max_message))
            return
        call.finished = True
        conn = self.conn
        conn.send_headers(call.stream, RESPONSE_HEADERS)
        conn.send_data(call.stream, message_frame(answer))
        conn.send_headers(call.stream, _TRAILERS_OK, True)
        self.service.wake(self)

    def _stream_done(self, call, seq, code, details, payload, us):
        call.running -= 1
        call.handles.pop(seq, None)
        self._answer_stream(call, seq, code, details, payload, us)
        self._maybe_close_stream(call)

    def _answer_stream(self, call, seq, code, details, payload, us=0):
        if call.finished:
            return
        if code == OK and len(payload) + 32 > self.service.max_message:
            answer = proto.encode_stream_result(seq, OK, b'', payload)
            if len(answer) > self.service.max_message:
                code, details, payload = RESOURCE_EXHAUSTED, too_large(len(payload), len(answer), self.service.max_message), b''
        text = details.encode('utf-8') if details and not isinstance(details, bytes) else (details or b'')
        self.conn.send_data(call.stream, message_frame(proto.encode_stream_result(seq, code, text, payload, us)))
        self.service.wake(self)

    def _maybe_close_stream(self, call):
        if call.ended and call.running == 0 and not call.finished:
            call.finished = True
            self.conn.send_headers(call.stream, _TRAILERS_OK, True)
            self.service.wake(self)

    def _fail(self, call, code, details):
        """Ends the call with a status (trailers-only when nothing was sent yet)."""
        if call.finished:
            return
        call.finished = True
        _cancel_all(call)
        if call.headers_sent:
            self.conn.send_headers(call.stream, trailers(code, details), True)
        else:
            self._trailers_only(call.stream, code, details)
        self.service.wake(self)

    def _trailers_only(self, stream, code, details):
        self.conn.send_headers(stream, RESPONSE_HEADERS + trailers(code, details), True)


def _cancel_all(call):
    handles = list(call.handles.values())
    call.handles = {}
    for handle in handles:
        handle.cancel()
