# -*- coding:utf-8 -*-
"""The listening socket and its connections: TCP or a unix socket, cleartext HTTP/2 or TLS with
ALPN h2. Each connection is an h2.Connection with a grpc.GrpcHandler; what a loop turn made for
a connection leaves in one send. A connection that breaks the protocol is closed alone."""
import errno
import os
import time

from baetyl_runtime import grpc, h2, hpack
from baetyl_runtime.compat import READ_SIZE, _socket, accept, socket_error
from baetyl_runtime.loop import HANGUP, READ, WRITE

# Output waiting for a slow reader beyond which its connection is not read (no new calls).
OUTPUT_HIGH_WATER = 4 << 20
# Calls waiting in the executor beyond which clients' data is not credited back.
WAITING_HIGH_WATER = 10000


class Service(object):
    """What every connection shares: the executor, the limits, calls in flight."""

    def __init__(self, executor, max_message, timeout_ms=None, concurrent_max=None):
        self.executor = executor
        self.max_message = max_message
        self.timeout_ms = timeout_ms
        self.concurrent_max = concurrent_max
        self.in_flight = 0
        self.server = None

    def refusal(self):
        if self.concurrent_max is not None and self.in_flight >= self.concurrent_max:
            return 'too many concurrent calls (server.concurrent.max is %d)' % self.concurrent_max
        return None

    # deadline layer: runtime cap (packages/core/src/function/deadlines.ts).
    def cap(self, deadline):
        """The caller's deadline, shortened by server.timeout."""
        if self.timeout_ms:
            capped = time.time() * 1000 + self.timeout_ms
            return capped if deadline is None else min(deadline, capped)
        return deadline

    def submit(self, handler, msg, deadline, cb):
        """Runs a call of `handler`'s connection; cb(code, details, payload, us) answers it."""
        self.in_flight += 1

        def done(code, details, payload, us):
            self.in_flight -= 1
            try:
                cb(code, details, payload, us)
            except Exception:  # noqa: BLE001 - a bug answering one connection must not stop the others
                handler.owner.broke()

        return self.executor.submit(msg, deadline, done)

    def wake(self, handler):
        """A call of this connection's handler answered: flush it at the end of the turn."""
        self.server.dirty.add(handler.owner)


def parse_address(address):
    """Baetyl's address forms: host:port, tcp://host:port, unix:path, unix://path."""
    if address.startswith('tcp://'):
        address = address[len('tcp://'):]
    if address.startswith('unix://'):
        return 'unix', address[len('unix://'):]
    if address.startswith('unix:'):
        return 'unix', address[len('unix:'):]
    host, sep, port = address.rpartition(':')
    if not sep or not port.isdigit():
        raise ValueError('server address "%s" is not host:port (like "127.0.0.1:50051") or unix:path' % address)
    host = host.strip('[]') or '0.0.0.0'
    return 'tcp', (host, int(port))


class ServerConnection(object):
    def __init__(self, server, sock, tls):
        self.server = server
        self.sock = sock
        self.fd = sock.fileno()
        self.tls = tls
        self.handshaking = tls
        self.outbuf = b''
        self.want_write = False
        self.handler = grpc.GrpcHandler(server.service)
        self.h2 = h2.Connection(self.handler, hpack.Decoder(), server.log)
        self.handler.conn = self.h2
        self.handler.owner = self
        self.gone = False

    def events(self):
        ev = 0
        if len(self.outbuf) < OUTPUT_HIGH_WATER and not self.h2.closed:
            ev |= READ
        if self.outbuf or self.want_write:
            ev |= WRITE
        return ev

    def on_event(self, fd, revents):
        if self.gone:
            return
        try:
            if self.handshaking:
                self._handshake()
                return
            if revents & WRITE or self.want_write:
                self.want_write = False
                self.flush()
                if self.gone:
                    return
            if revents & (READ | HANGUP):
                self._read()
        except Exception:  # noqa: BLE001 - a bug met by one connection must not stop the others
            self.broke()

    def broke(self):
        """An unexpected error while serving this connection (a bug): it is logged with its
        traceback and the connection is closed with INTERNAL_ERROR; the instance serves on."""
        import traceback
        self.server.log('error', 'closing the connection of %s after an internal error: %s' % (self.peer(), traceback.format_exc()))
        try:
            self.h2.fail(h2.INTERNAL_ERROR, 'internal error')
            data = self.h2.pending_output()
            if data:
                self.sock.send(data)
        except Exception:  # noqa: BLE001 - closing is all that is left to do
            pass
        self.close()

    def _handshake(self):
        import ssl
        try:
            self.sock.do_handshake()
        except ssl.SSLError as err:
            if err.args and err.args[0] in (ssl.SSL_ERROR_WANT_READ, ssl.SSL_ERROR_WANT_WRITE):
                self.server.loop.change(self.fd, READ | (WRITE if err.args[0] == ssl.SSL_ERROR_WANT_WRITE else 0))
                return
            self.server.log('warn', 'TLS handshake with %s failed: %s' % (self.peer(), err))
            self.close()
            return
        except (socket_error, OSError) as err:
            self.server.log('debug', 'TLS handshake with %s failed: %s' % (self.peer(), err))
            self.close()
            return
        self.handshaking = False
        proto = self.sock.selected_alpn_protocol() if hasattr(self.sock, 'selected_alpn_protocol') else None
        if proto not in (None, 'h2'):
            self.server.log('warn', 'client %s asked for ALPN %s, not h2: closing' % (self.peer(), proto))
            self.close()
            return
        self.server.dirty.add(self)
        self._read()

    def peer(self):
        try:
            return '%s:%s' % self.sock.getpeername()[:2]
        except (socket_error, OSError, TypeError):
            return 'a client'

    def _read(self):
        while True:
            try:
                data = self.sock.recv(READ_SIZE)
            except socket_error as err:
                if self._would_block(err):
                    break
                self.close()
                return
            if not data:
                self.close()
                return
            self.h2.receive(data)
            # TLS may hold more decrypted data than poll can see.
            if not (self.tls and self.sock.pending()):
                break
        self.server.dirty.add(self)

    def _would_block(self, err):
        """The socket (or TLS, which may need to read to write and back) has nothing for now."""
        code = err.args[0] if err.args else None
        if self.tls:
            import ssl
            if isinstance(err, ssl.SSLError) and code in (ssl.SSL_ERROR_WANT_READ, ssl.SSL_ERROR_WANT_WRITE):
                return True
        return code in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR)

    def flush(self):
        out = self.h2.pending_output()
        if out:
            self.outbuf = self.outbuf + out if self.outbuf else out
        while self.outbuf:
            try:
                n = self.sock.send(self.outbuf)
            except socket_error as err:
                if self._would_block(err):
                    break
                self.close()
                return
            self.outbuf = self.outbuf[n:]
        if self.h2.closed and not self.outbuf:
            self.close()
            return
        if (self.h2.goaway_sent or self.h2.peer_goaway) and self.h2.idle and not self.outbuf:
            self.close()
            return
        # Hold clients' data back while the executor is saturated (Server._flush gives it back).
        if len(self.server.service.executor.waiting) > WAITING_HIGH_WATER:
            self.h2.hold_credit = True
            self.server.holding = True
        self.server.loop.change(self.fd, self.events())

    def close(self):
        if self.gone:
            return
        self.gone = True
        self.server.loop.forget(self.fd)
        self.server.connections.discard(self)
        if not self.h2.closed:
            self.h2.closed = True
            for stream in list(self.h2.streams.values()):
                self.handler.on_reset(stream, h2.CANCEL)
            self.h2.streams = {}
        try:
            self.sock.close()
        except (socket_error, OSError):
            pass


class Server(object):
    def __init__(self, loop, service, address, log, tls=None):
        self.loop = loop
        self.service = service
        service.server = self
        self.log = log
        self.connections = set()
        self.dirty = set()
        # Some connection holds clients' credit back (see ServerConnection.flush).
        self.holding = False
        self.tls_context = None
        kind, where = parse_address(address)
        if tls:
            self.tls_context = _tls_context(tls)
        # Cleartext needs only _socket; TLS wraps socket.socket objects.
        module = _socket
        if tls:
            import socket as module
        if kind == 'unix':
            if os.path.exists(where):
                os.remove(where)
            sock = module.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
        else:
            family = _socket.AF_INET6 if ':' in where[0] else _socket.AF_INET
            sock = module.socket(family, _socket.SOCK_STREAM)
            sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
        try:
            sock.bind(where)
            sock.listen(128)
        except (socket_error, OSError) as err:
            sock.close()
            raise ValueError('cannot listen on %s: %s' % (address, err))
        sock.setblocking(False)
        self.sock = sock
        self.kind = kind
        self.port = sock.getsockname()[1] if kind == 'tcp' else None
        loop.watch(sock.fileno(), READ, self._accept)
        loop.after_turn.insert(0, self._flush)

    def _accept(self, fd, revents):
        while True:
            try:
                sock, _ = self.sock.accept() if self.tls_context is not None else accept(self.sock)
            except socket_error as err:
                code = err.args[0] if err.args else None
                if code in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR):
                    return
                if code in (errno.EMFILE, errno.ENFILE):
                    self.log('error', 'cannot accept a connection: %s' % err)
                return
            if self.kind == 'tcp':
                sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
            tls = self.tls_context is not None
            if tls:
                try:
                    sock = self.tls_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
                except (socket_error, OSError) as err:
                    self.log('warn', 'cannot start TLS with a client: %s' % err)
                    sock.close()
                    continue
            sock.setblocking(False)
            conn = ServerConnection(self, sock, tls)
            self.connections.add(conn)
            self.loop.watch(conn.fd, READ | WRITE if tls else READ, conn.on_event)
            if tls:
                conn._handshake()
            else:
                self.dirty.add(conn)

    def _flush(self):
        if self.holding and len(self.service.executor.waiting) <= WAITING_HIGH_WATER:
            # The executor has room again: every connection gives back the credit it held. Only
            # new data gave it back before, and a client out of window sends none: it waited forever.
            self.holding = False
            for conn in self.connections:
                if conn.h2.hold_credit:
                    conn.h2.release_credit()
                    self.dirty.add(conn)
        if not self.dirty:
            return
        dirty = self.dirty
        self.dirty = set()
        for conn in dirty:
            if not conn.gone and not conn.handshaking:
                try:
                    conn.flush()
                except Exception:  # noqa: BLE001 - see ServerConnection.broke
                    conn.broke()

    def stop_listening(self):
        self.loop.forget(self.sock.fileno())
        try:
            self.sock.close()
        except (socket_error, OSError):
            pass
        for conn in list(self.connections):
            conn.h2.goaway()
            self.dirty.add(conn)

    def close_all(self):
        for conn in list(self.connections):
            conn.flush()
            conn.close()


def _tls_context(tls):
    import ssl
    for what in ('cert', 'key', 'ca'):
        path = tls.get(what)
        if path and not os.path.isfile(path):
            raise ValueError('cannot read server.%s "%s": no such file' % (what, path))
    ctx = ssl.SSLContext(ssl.PROTOCOL_SSLv23)
    ctx.options |= getattr(ssl, 'OP_NO_SSLv2', 0) | getattr(ssl, 'OP_NO_SSLv3', 0) | getattr(ssl, 'OP_NO_TLSv1', 0) | getattr(ssl, 'OP_NO_TLSv1_1', 0)
    try:
        ctx.load_cert_chain(tls['cert'], tls['key'])
    except (ssl.SSLError, IOError, OSError) as err:
        raise ValueError('cannot load server.cert "%s" with server.key "%s": %s' % (tls['cert'], tls['key'], err))
    if tls.get('ca'):
        try:
            ctx.load_verify_locations(tls['ca'])
        except (ssl.SSLError, IOError, OSError) as err:
            raise ValueError('cannot load server.ca "%s": %s' % (tls['ca'], err))
        ctx.verify_mode = ssl.CERT_REQUIRED
    if hasattr(ctx, 'set_alpn_protocols'):
        ctx.set_alpn_protocols(['h2'])
    return ctx
