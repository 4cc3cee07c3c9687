# -*- coding:utf-8 -*-
"""The server side of one HTTP/2 connection (RFC 9113), without I/O.

`receive(data)` parses whatever bytes arrived and calls the application (`on_request`,
`on_data`, `on_reset` of the handler given at construction); the application answers with
`send_headers`, `send_data` and `reset`. Bytes to write collect in `pending_output()`. A
protocol error in a frame raises nothing: the connection answers with GOAWAY and the right
error code, and `closed` tells the server to drop it once its output is written. Flow control is
kept in both directions; data beyond the peer's windows waits, per stream and in order, for its
WINDOW_UPDATE.
"""
import struct

from baetyl_runtime.hpack import HpackError

PREFACE = b'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'

DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = range(10)
FLAG_END_STREAM = 0x1
FLAG_ACK = 0x1
FLAG_END_HEADERS = 0x4
FLAG_PADDED = 0x8
FLAG_PRIORITY = 0x20

NO_ERROR = 0x0
PROTOCOL_ERROR = 0x1
INTERNAL_ERROR = 0x2
FLOW_CONTROL_ERROR = 0x3
STREAM_CLOSED = 0x5
FRAME_SIZE_ERROR = 0x6
REFUSED_STREAM = 0x7
CANCEL = 0x8
COMPRESSION_ERROR = 0x9
ENHANCE_YOUR_CALM = 0xb

SETTINGS_HEADER_TABLE_SIZE = 0x1
SETTINGS_ENABLE_PUSH = 0x2
SETTINGS_MAX_CONCURRENT_STREAMS = 0x3
SETTINGS_INITIAL_WINDOW_SIZE = 0x4
SETTINGS_MAX_FRAME_SIZE = 0x5
SETTINGS_MAX_HEADER_LIST_SIZE = 0x6

MAX_WINDOW = 2 ** 31 - 1
DEFAULT_WINDOW = 65535
DEFAULT_FRAME = 16384

_HEAD = struct.Struct('>HBBBI')  # 24-bit length as (u16, u8), type, flags, stream id
_U32 = struct.Struct('>I')
_SETTING = struct.Struct('>HI')

# Headers that HTTP/2 forbids (RFC 9113 8.2.2).
_CONNECTION_HEADERS = frozenset([b'connection', b'keep-alive', b'proxy-connection', b'transfer-encoding', b'upgrade'])
_REQUEST_PSEUDO = frozenset([b':method', b':scheme', b':authority', b':path'])


class ConnectionError_(Exception):
    def __init__(self, code, message):
        Exception.__init__(self, message)
        self.code = code


class StreamError(Exception):
    def __init__(self, stream_id, code, message):
        Exception.__init__(self, message)
        self.stream_id = stream_id
        self.code = code


def frame(ftype, flags, stream_id, payload=b''):
    n = len(payload)
    return _HEAD.pack(n >> 8, n & 0xff, ftype, flags, stream_id) + payload


class Stream(object):
    __slots__ = ('id', 'send_window', 'recv_unacked', 'remote_closed', 'local_closed', 'outq', 'app')

    def __init__(self, stream_id, send_window):
        self.id = stream_id
        self.send_window = send_window
        # Bytes received and not yet given back with a WINDOW_UPDATE.
        self.recv_unacked = 0
        self.remote_closed = False
        self.local_closed = False
        # What waits to be sent, in order: [kind, bytes, end_stream] with kind 'd' (data) or 'h'.
        self.outq = []
        # The application's object for this stream.
        self.app = None


class Connection(object):
    """One client connection. `handler` has on_request(stream, headers, end_stream),
    on_data(stream, data, end_stream) and on_reset(stream, code)."""

    def __init__(self, handler, hpack_decoder, logger, max_concurrent=1000, stream_window=1 << 20,
                 conn_window=16 << 20, max_header_list=65536, max_frame=DEFAULT_FRAME):
        self.handler = handler
        self.decoder = hpack_decoder
        self.log = logger
        self.inbuf = bytearray()
        self.out = []
        self.state = 'preface'
        self.closed = False
        self.goaway_sent = False
        self.peer_goaway = False
        self.streams = {}
        self.last_stream_id = 0
        # Our settings (what the peer must respect).
        self.local_max_concurrent = max_concurrent
        self.local_stream_window = stream_window
        self.local_max_frame = max_frame
        self.local_max_header_list = max_header_list
        self.conn_recv_window_size = conn_window
        self.conn_recv_unacked = 0
        # The peer's settings.
        self.peer_initial_window = DEFAULT_WINDOW
        self.peer_max_frame = DEFAULT_FRAME
        self.conn_send_window = DEFAULT_WINDOW
        # A header block in progress: (stream id, flags of the HEADERS frame, fragments, size,
        # whether the HEADERS made the stream depend on itself).
        self.continuing = None
        # Streams with data waiting for window.
        self.blocked = []
        # While true, received data is not credited back (the application is saturated).
        self.hold_credit = False

        settings = (
            _SETTING.pack(SETTINGS_MAX_CONCURRENT_STREAMS, max_concurrent)
            + _SETTING.pack(SETTINGS_INITIAL_WINDOW_SIZE, stream_window)
            + _SETTING.pack(SETTINGS_MAX_HEADER_LIST_SIZE, max_header_list)
            + _SETTING.pack(SETTINGS_ENABLE_PUSH, 0)
        )
        if max_frame != DEFAULT_FRAME:
            settings += _SETTING.pack(SETTINGS_MAX_FRAME_SIZE, max_frame)
        self.out.append(frame(SETTINGS, 0, 0, settings))
        if conn_window > DEFAULT_WINDOW:
            self.out.append(frame(WINDOW_UPDATE, 0, 0, _U32.pack(conn_window - DEFAULT_WINDOW)))

    # --- input -------------------------------------------------------------------------------

    def receive(self, data):
        if self.closed:
            return
        self.inbuf += data
        try:
            self._parse()
        except ConnectionError_ as err:
            self.fail(err.code, str(err))

    def _parse(self):
        buf = self.inbuf
        pos = 0
        if self.state == 'preface':
            if len(buf) < len(PREFACE):
                if PREFACE.startswith(bytes(buf)):
                    return
                raise ConnectionError_(PROTOCOL_ERROR, 'the connection did not start with the HTTP/2 preface')
            if bytes(buf[:len(PREFACE)]) != PREFACE:
                raise ConnectionError_(PROTOCOL_ERROR, 'the connection did not start with the HTTP/2 preface')
            pos = len(PREFACE)
            self.state = 'settings'
        end = len(buf)
        limit = self.local_max_frame
        try:
            while end - pos >= 9 and not self.closed:
                hi, lo, ftype, flags, sid = _HEAD.unpack_from(buf, pos)
                length = (hi << 8) | lo
                if length > limit:
                    raise ConnectionError_(FRAME_SIZE_ERROR, 'a frame of %d bytes exceeds SETTINGS_MAX_FRAME_SIZE %d' % (length, limit))
                if end - pos - 9 < length:
                    break
                payload = bytes(buf[pos + 9:pos + 9 + length])
                pos += 9 + length
                self._frame(ftype, flags, sid & 0x7fffffff, payload)
        finally:
            del buf[:pos]

    def _frame(self, ftype, flags, sid, payload):
        if self.state == 'settings':
            if ftype != SETTINGS or flags & FLAG_ACK:
                raise ConnectionError_(PROTOCOL_ERROR, 'the first frame after the preface must be SETTINGS')
            self.state = 'open'
        if self.continuing is not None and ftype != CONTINUATION:
            raise ConnectionError_(PROTOCOL_ERROR, 'a header block was interrupted by another frame')
        try:
            if ftype == DATA:
                self._on_data(flags, sid, payload)
            elif ftype == HEADERS:
                self._on_headers(flags, sid, payload)
            elif ftype == CONTINUATION:
                self._on_continuation(flags, sid, payload)
            elif ftype == SETTINGS:
                self._on_settings(flags, sid, payload)
            elif ftype == WINDOW_UPDATE:
                self._on_window_update(sid, payload)
            elif ftype == PING:
                self._on_ping(flags, sid, payload)
            elif ftype == RST_STREAM:
                self._on_rst(sid, payload)
            elif ftype == PRIORITY:
                self._on_priority(sid, payload)
            elif ftype == GOAWAY:
                self._on_goaway(sid, payload)
            elif ftype == PUSH_PROMISE:
                raise ConnectionError_(PROTOCOL_ERROR, 'a client must not send PUSH_PROMISE')
            # Unknown frame types are ignored (RFC 9113 4.1).
        except StreamError as err:
            self.reset(err.stream_id, err.code)
            self.log('debug', 'stream %d reset (code %d): %s' % (err.stream_id, err.code, err))

    def _strip_padding(self, flags, payload, sid):
        if not flags & FLAG_PADDED:
            return payload
        if not payload:
            raise ConnectionError_(FRAME_SIZE_ERROR, 'a padded frame has no pad length')
        pad = bytearray(payload[:1])[0]
        if pad >= len(payload):
            raise ConnectionError_(PROTOCOL_ERROR, 'padding of stream %d is longer than its frame' % sid)
        return payload[1:len(payload) - pad]

    def _on_data(self, flags, sid, payload):
        if sid == 0:
            raise ConnectionError_(PROTOCOL_ERROR, 'DATA on stream 0')
        size = len(payload)
        # Flow control counts the whole frame, padding included.
        if size > self.conn_recv_window_size - self.conn_recv_unacked:
            raise ConnectionError_(FLOW_CONTROL_ERROR, 'the client sent more data than the connection window allows')
        self.conn_recv_unacked += size
        stream = self.streams.get(sid)
        if stream is None:
            if sid > self.last_stream_id:
                raise ConnectionError_(PROTOCOL_ERROR, 'DATA on idle stream %d' % sid)
            # A stream we closed: its data still counts for the connection, and is dropped.
            self._credit(None, size)
            return
        if stream.remote_closed:
            self._credit(None, size)
            raise StreamError(sid, STREAM_CLOSED, 'DATA after the end of stream %d' % sid)
        if size > self.local_stream_window - stream.recv_unacked:
            self._credit(None, size)
            raise StreamError(sid, FLOW_CONTROL_ERROR, 'the client sent more data than the window of stream %d allows' % sid)
        stream.recv_unacked += size
        data = self._strip_padding(flags, payload, sid)
        end = bool(flags & FLAG_END_STREAM)
        if end:
            stream.remote_closed = True
        self._credit(stream, size)
        self.handler.on_data(stream, data, end)
        self._maybe_forget(stream)

    def _credit(self, stream, size):
        """Gives received bytes back to the peer's windows once half a window is used."""
        if self.hold_credit:
            return
        if stream is not None and not stream.remote_closed and stream.recv_unacked >= self.local_stream_window // 2:
            self.out.append(frame(WINDOW_UPDATE, 0, stream.id, _U32.pack(stream.recv_unacked)))
            stream.recv_unacked = 0
        if self.conn_recv_unacked >= self.conn_recv_window_size // 2:
            self.out.append(frame(WINDOW_UPDATE, 0, 0, _U32.pack(self.conn_recv_unacked)))
            self.conn_recv_unacked = 0

    def release_credit(self):
        """The application can take data again: give back what was held."""
        self.hold_credit = False
        for stream in self.streams.values():
            self._credit(stream, 0)
        self._credit(None, 0)

    def _on_headers(self, flags, sid, payload):
        if sid == 0:
            raise ConnectionError_(PROTOCOL_ERROR, 'HEADERS on stream 0')
        if sid % 2 == 0:
            raise ConnectionError_(PROTOCOL_ERROR, 'a client stream id must be odd (got %d)' % sid)
        block = self._strip_padding(flags, payload, sid)
        if flags & FLAG_PRIORITY:
            if len(block) < 5:
                raise ConnectionError_(FRAME_SIZE_ERROR, 'HEADERS with PRIORITY is too short')
            dep = _U32.unpack_from(block, 0)[0] & 0x7fffffff
            block = block[5:]
            self_dependent = dep == sid
        else:
            self_dependent = False
        # The stream error for a self-dependency waits for the whole block: it must be decoded
        # all the same (the HPACK table is the connection's), and may go on in CONTINUATION.
        if flags & FLAG_END_HEADERS:
            self._headers_done(sid, flags, [block], self_dependent)
        else:
            self.continuing = (sid, flags, [block], len(block), self_dependent)

    def _on_continuation(self, flags, sid, payload):
        if self.continuing is None or self.continuing[0] != sid:
            raise ConnectionError_(PROTOCOL_ERROR, 'CONTINUATION without a header block in progress on stream %d' % sid)
        csid, cflags, parts, size, self_dependent = self.continuing
        size += len(payload)
        # Bound a header block: a peer could otherwise send CONTINUATION forever.
        if size > self.local_max_header_list * 2:
            raise ConnectionError_(ENHANCE_YOUR_CALM, 'a header block of more than %d bytes' % (self.local_max_header_list * 2))
        parts.append(payload)
        if flags & FLAG_END_HEADERS:
            self.continuing = None
            self._headers_done(csid, cflags, parts, self_dependent)
        else:
            self.continuing = (csid, cflags, parts, size, self_dependent)

    def _headers_done(self, sid, flags, parts, self_dependent=False):
        # The block is always decoded, even for a stream that is refused: the HPACK table is shared.
        try:
            headers = self.decoder.decode(b''.join(parts))
        except HpackError as err:
            raise ConnectionError_(COMPRESSION_ERROR, str(err))
        end = bool(flags & FLAG_END_STREAM)
        stream = self.streams.get(sid)
        if stream is not None:
            # Trailers from the client: they must end the stream.
            if stream.remote_closed:
                raise StreamError(sid, STREAM_CLOSED, 'HEADERS after the end of stream %d' % sid)
            if not end:
                raise StreamError(sid, PROTOCOL_ERROR, 'trailers of stream %d without END_STREAM' % sid)
            stream.remote_closed = True
            self.handler.on_data(stream, b'', True)
            self._maybe_forget(stream)
            return
        if sid <= self.last_stream_id:
            raise ConnectionError_(STREAM_CLOSED, 'HEADERS on closed stream %d' % sid)
        self.last_stream_id = sid
        if self_dependent:
            raise StreamError(sid, PROTOCOL_ERROR, 'stream %d depends on itself' % sid)
        if self.goaway_sent or self.peer_goaway:
            raise StreamError(sid, REFUSED_STREAM, 'the connection is closing')
        if len(self.streams) >= self.local_max_concurrent:
            raise StreamError(sid, REFUSED_STREAM, 'more than %d concurrent streams' % self.local_max_concurrent)
        problem = _check_request_headers(headers, self.local_max_header_list)
        if problem:
            raise StreamError(sid, PROTOCOL_ERROR, 'malformed request on stream %d: %s' % (sid, problem))
        stream = Stream(sid, self.peer_initial_window)
        stream.remote_closed = end
        self.streams[sid] = stream
        self.handler.on_request(stream, headers, end)
        self._maybe_forget(stream)

    def _on_settings(self, flags, sid, payload):
        if sid != 0:
            raise ConnectionError_(PROTOCOL_ERROR, 'SETTINGS on stream %d' % sid)
        if flags & FLAG_ACK:
            if payload:
                raise ConnectionError_(FRAME_SIZE_ERROR, 'a SETTINGS ACK with a payload')
            return
        if len(payload) % 6:
            raise ConnectionError_(FRAME_SIZE_ERROR, 'a SETTINGS frame of %d bytes is not a multiple of 6' % len(payload))
        for i in range(0, len(payload), 6):
            key, value = _SETTING.unpack_from(payload, i)
            if key == SETTINGS_ENABLE_PUSH and value > 1:
                raise ConnectionError_(PROTOCOL_ERROR, 'SETTINGS_ENABLE_PUSH must be 0 or 1')
            if key == SETTINGS_INITIAL_WINDOW_SIZE:
                if value > MAX_WINDOW:
                    raise ConnectionError_(FLOW_CONTROL_ERROR, 'SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1')
                delta = value - self.peer_initial_window
                self.peer_initial_window = value
                for stream in self.streams.values():
                    stream.send_window += delta
                    if stream.send_window > MAX_WINDOW:
                        raise ConnectionError_(FLOW_CONTROL_ERROR, 'a stream window above 2^31-1')
            elif key == SETTINGS_MAX_FRAME_SIZE:
                if value < DEFAULT_FRAME or value > 16777215:
                    raise ConnectionError_(PROTOCOL_ERROR, 'SETTINGS_MAX_FRAME_SIZE %d is out of range' % value)
                self.peer_max_frame = value
            # HEADER_TABLE_SIZE concerns an encoder's table, and ours uses none; the others are
            # advisory for a server.
        self.out.append(frame(SETTINGS, FLAG_ACK, 0))
        self._flush_blocked()

    def _on_window_update(self, sid, payload):
        if len(payload) != 4:
            raise ConnectionError_(FRAME_SIZE_ERROR, 'WINDOW_UPDATE must be 4 bytes')
        inc = _U32.unpack(payload)[0] & 0x7fffffff
        if sid == 0:
            if inc == 0:
                raise ConnectionError_(PROTOCOL_ERROR, 'WINDOW_UPDATE of 0 on the connection')
            self.conn_send_window += inc
            if self.conn_send_window > MAX_WINDOW:
                raise ConnectionError_(FLOW_CONTROL_ERROR, 'the connection window went above 2^31-1')
        else:
            stream = self.streams.get(sid)
            if stream is None:
                if sid > self.last_stream_id:
                    raise ConnectionError_(PROTOCOL_ERROR, 'WINDOW_UPDATE on idle stream %d' % sid)
                return
            if inc == 0:
                raise StreamError(sid, PROTOCOL_ERROR, 'WINDOW_UPDATE of 0 on stream %d' % sid)
            stream.send_window += inc
            if stream.send_window > MAX_WINDOW:
                raise StreamError(sid, FLOW_CONTROL_ERROR, 'the window of stream %d went above 2^31-1' % sid)
        self._flush_blocked()

    def _on_ping(self, flags, sid, payload):
        if sid != 0:
            raise ConnectionError_(PROTOCOL_ERROR, 'PING on stream %d' % sid)
        if len(payload) != 8:
            raise ConnectionError_(FRAME_SIZE_ERROR, 'PING must be 8 bytes')
        if not flags & FLAG_ACK:
            self.out.append(frame(PING, FLAG_ACK, 0, payload))

    def _on_rst(self, sid, payload):
        if sid == 0:
            raise ConnectionError_(PROTOCOL_ERROR, 'RST_STREAM on stream 0')
        if len(payload) != 4:
            raise ConnectionError_(FRAME_SIZE_ERROR, 'RST_STREAM must be 4 bytes')
        stream = self.streams.pop(sid, None)
        if stream is None:
            if sid > self.last_stream_id:
                raise ConnectionError_(PROTOCOL_ERROR, 'RST_STREAM on idle stream %d' % sid)
            return
        stream.remote_closed = stream.local_closed = True
        self.handler.on_reset(stream, _U32.unpack(payload)[0])

    def _on_priority(self, sid, payload):
        if sid == 0:
            raise ConnectionError_(PROTOCOL_ERROR, 'PRIORITY on stream 0')
        if len(payload) != 5:
            raise StreamError(sid, FRAME_SIZE_ERROR, 'PRIORITY must be 5 bytes')
        if _U32.unpack_from(payload, 0)[0] & 0x7fffffff == sid:
            raise StreamError(sid, PROTOCOL_ERROR, 'stream %d depends on itself' % sid)
        # Priorities are advisory; a server this small serves in order.

    def _on_goaway(self, sid, payload):
        if sid != 0:
            raise ConnectionError_(PROTOCOL_ERROR, 'GOAWAY on stream %d' % sid)
        if len(payload) < 8:
            raise ConnectionError_(FRAME_SIZE_ERROR, 'GOAWAY shorter than 8 bytes')
        self.peer_goaway = True
        # The client opens no more streams; the ones open are answered. Once none is left, the
        # server closes the connection.

    # --- output ------------------------------------------------------------------------------

    def send_headers(self, stream, block, end_stream=False):
        """Queues a header block (after any data queued before it on the stream)."""
        if stream.local_closed:
            return
        if end_stream:
            stream.local_closed = True
        if stream.outq:
            stream.outq.append(['h', block, end_stream])
            return
        self._write_headers(stream.id, block, end_stream)
        self._maybe_forget(stream)

    def _write_headers(self, sid, block, end_stream):
        limit = self.peer_max_frame
        flags = FLAG_END_STREAM if end_stream else 0
        if len(block) <= limit:
            self.out.append(frame(HEADERS, flags | FLAG_END_HEADERS, sid, block))
            return
        self.out.append(frame(HEADERS, flags, sid, block[:limit]))
        pos = limit
        while pos < len(block):
            chunk = block[pos:pos + limit]
            pos += limit
            self.out.append(frame(CONTINUATION, FLAG_END_HEADERS if pos >= len(block) else 0, sid, chunk))

    def send_data(self, stream, data, end_stream=False):
        if stream.local_closed:
            return
        if end_stream:
            stream.local_closed = True
        if stream.outq:
            stream.outq.append(['d', data, end_stream])
            return
        rest = self._write_data(stream, data, end_stream)
        if rest is not None:
            stream.outq.append(['d', rest, end_stream])
            self.blocked.append(stream)
        else:
            self._maybe_forget(stream)

    def _write_data(self, stream, data, end_stream):
        """Writes what the windows allow; returns what is left (None when all was written)."""
        pos = 0
        n = len(data)
        limit = self.peer_max_frame
        while True:
            room = min(self.conn_send_window, stream.send_window, limit)
            left = n - pos
            if left == 0 and not end_stream:
                return None
            if left > 0 and room <= 0:
                return data[pos:]
            take = min(left, room)
            last = pos + take == n
            self.out.append(frame(DATA, FLAG_END_STREAM if (last and end_stream) else 0, stream.id, data[pos:pos + take]))
            self.conn_send_window -= take
            stream.send_window -= take
            pos += take
            if last:
                return None

    def _flush_blocked(self):
        if not self.blocked:
            return
        waiting = self.blocked
        self.blocked = []
        for stream in waiting:
            if stream.id not in self.streams:
                continue
            while stream.outq:
                kind, payload, end = stream.outq[0]
                if kind == 'h':
                    stream.outq.pop(0)
                    self._write_headers(stream.id, payload, end)
                    continue
                rest = self._write_data(stream, payload, end)
                if rest is not None:
                    stream.outq[0][1] = rest
                    break
                stream.outq.pop(0)
            if stream.outq:
                self.blocked.append(stream)
            else:
                self._maybe_forget(stream)

    def reset(self, stream_id, code):
        stream = self.streams.pop(stream_id, None)
        if stream is not None:
            stream.remote_closed = stream.local_closed = True
            stream.outq = []
        self.out.append(frame(RST_STREAM, 0, stream_id, _U32.pack(code)))
        if stream is not None and stream.app is not None:
            self.handler.on_reset(stream, code)

    def _maybe_forget(self, stream):
        if not stream.local_closed or stream.outq:
            return
        if stream.remote_closed:
            self.streams.pop(stream.id, None)
        elif self.streams.pop(stream.id, None) is not None:
            # Answered before the client finished sending: tell it to stop (RFC 9113 8.1).
            self.out.append(frame(RST_STREAM, 0, stream.id, _U32.pack(NO_ERROR)))

    def goaway(self, code=NO_ERROR, message=''):
        """Stops new streams (a graceful close when code is NO_ERROR)."""
        if self.goaway_sent:
            return
        self.goaway_sent = True
        debug = message.encode('utf-8')[:256] if message else b''
        self.out.append(frame(GOAWAY, 0, 0, _U32.pack(self.last_stream_id) + _U32.pack(code) + debug))

    def fail(self, code, message):
        """A connection error: GOAWAY with its code, then the connection closes."""
        self.log('warn', 'closing an HTTP/2 connection: %s (error code %d)' % (message, code))
        self.goaway(code, message)
        self.closed = True
        streams = list(self.streams.values())
        self.streams = {}
        for stream in streams:
            if stream.app is not None:
                self.handler.on_reset(stream, code)

    @property
    def idle(self):
        """Nothing open: a closing connection can go."""
        return not self.streams

    def pending_output(self):
        if not self.out:
            return b''
        data = b''.join(self.out)
        self.out = []
        return data


def _printable(name):
    """A header name for a message: ASCII, other bytes as \\xNN. A native str on 2.7 and 3.x:
    a unicode reason with a byte beyond ASCII made Python 2 raise when it was formatted."""
    return ''.join(chr(b) if 0x20 <= b < 0x7f else '\\x%02x' % b for b in bytearray(name))


def _check_request_headers(headers, max_list):
    size = 0
    regular = False
    seen = set()
    for name, value in headers:
        size += len(name) + len(value) + 32
        if name.startswith(b':'):
            if regular:
                return 'pseudo-header %s after a regular header' % _printable(name)
            if name not in _REQUEST_PSEUDO:
                return 'unknown pseudo-header %s' % _printable(name)
            if name in seen:
                return 'pseudo-header %s twice' % _printable(name)
            seen.add(name)
        else:
            regular = True
            if name.lower() != name:
                return 'header name %s is not lower case' % _printable(name)
            if name in _CONNECTION_HEADERS:
                return 'connection-specific header %s' % _printable(name)
            if name == b'te' and value != b'trailers':
                return 'te must be "trailers"'
    if size > max_list:
        return 'the header list is larger than %d bytes' % max_list
    for required in (b':method', b':scheme', b':path'):
        if required not in seen:
            return 'no %s pseudo-header' % required.decode('latin-1')
    return None
