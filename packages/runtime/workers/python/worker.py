# -*- coding:utf-8 -*-
"""
Python worker of the Baetyl runtime host (python27 and python36 runtimes).

One file, standard library only, for Python 2.7 and 3.x alike. The host (Node) starts it with
two extra pipes: requests arrive on fd 3, answers leave on fd 4, as frames of
[u32 header length][u32 body length][JSON header][body] (big-endian). The handler's own
stdout/stderr stay on fds 1/2, which the host copies into the runtime log, so a print can never
corrupt the protocol. The worker runs one call at a time; the host runs several workers for
concurrency and kills a worker whose call passes its deadline.

What a handler sees follows Baetyl v1's python runtimes: codedir on sys.path, handler split at
the last dot, event decoded from JSON (empty -> {}, undecodable -> the raw bytes), the context
dict, and results and errors serialised the way the original gRPC servicer did.

The host may send several calls before the first is answered (pipelining). The worker reads
whatever the pipe holds in one read, runs the calls in order and answers each as soon as it is
done, so a burst costs one wake-up. A call whose deadline passed before its turn is skipped
(answered `expired`): the host has already told its caller.
"""

import importlib
import json
import os
import struct
import sys
import threading
import time
import traceback

PY2 = sys.version_info[0] == 2

IN_FD = 3
OUT_FD = 4
# The worker's own directory must not shadow user modules (a user module named "worker").
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [p for p in sys.path if p and os.path.abspath(p) != _HERE]

_write_lock = threading.Lock()


_PREFIX = struct.Struct('>II')


class FrameReader(object):
    """Frames from fd 3, read in large chunks: one read returns every frame the pipe holds."""

    def __init__(self, fd):
        self.fd = fd
        self.buf = b''
        self.pos = 0

    def _complete(self):
        """The next frame if the buffer holds all of it, else None."""
        buf, pos = self.buf, self.pos
        if len(buf) - pos < 8:
            return None
        head_len, body_len = _PREFIX.unpack_from(buf, pos)
        end = pos + 8 + head_len + body_len
        if len(buf) < end:
            return None
        head = buf[pos + 8:pos + 8 + head_len]
        body = buf[pos + 8 + head_len:end]
        self.pos = end
        return json.loads(head.decode('utf-8')), body

    def next(self):
        """The next frame, waiting for it; None at the end of the pipe."""
        while True:
            frame = self._complete()
            if frame is not None:
                return frame
            chunk = os.read(self.fd, 262144)
            if not chunk:
                return None
            self.buf = self.buf[self.pos:] + chunk
            self.pos = 0


def _write_all(data):
    view = memoryview(data)
    while len(view):
        written = os.write(OUT_FD, view)
        view = view[written:]


def write_frame(header, body=b''):
    head = json.dumps(header).encode('utf-8')
    data = _PREFIX.pack(len(head), len(body)) + head + body
    with _write_lock:
        _write_all(data)


def write_result(seq, us, body):
    # The commonest frame, formatted without json.dumps.
    head = ('{"type":"result","seq":%d,"us":%d}' % (seq, us)).encode('ascii')
    data = _PREFIX.pack(len(head), len(body)) + head + body
    with _write_lock:
        _write_all(data)


def log(level, msg):
    write_frame({'type': 'log', 'level': level, 'msg': msg})


def _die_with_host():
    """Exit as soon as the host goes away, even in the middle of a long call."""
    try:
        import fcntl
        for fd in (IN_FD, OUT_FD):
            # Processes a handler spawns must not hold our pipes open.
            flags = fcntl.fcntl(fd, fcntl.F_GETFD)
            fcntl.fcntl(fd, fcntl.F_SETFD, flags | fcntl.FD_CLOEXEC)
    except Exception:  # noqa: BLE001 - not on every platform
        pass
    if sys.platform.startswith('linux'):
        try:
            import ctypes
            import signal
            libc = ctypes.CDLL(None)
            libc.prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
        except Exception:  # noqa: BLE001 - ctypes may be missing on a minimal image
            pass
    host = os.environ.get('BAETYL_RUNTIME_HOST_PID')
    if host and str(os.getppid()) != host:
        os._exit(0)
    _watch_pipe()


def _watch_pipe():
    """A thread that exits the process when the host's end of the request pipe is gone (a long
    call never reads the pipe). It polls for hang-up only, so it never wakes while the host lives."""
    import select
    if not hasattr(select, 'poll'):
        return

    def watch():
        poller = select.poll()
        poller.register(IN_FD, 0)  # POLLHUP/POLLERR are always reported
        while True:
            try:
                events = poller.poll()
            except (OSError, select.error):  # noqa: B014 - EINTR on py2
                continue
            for _, ev in events:
                if ev & (select.POLLHUP | select.POLLERR | select.POLLNVAL):
                    os._exit(0)

    thread = threading.Thread(target=watch, name='baetyl-pipe-watch')
    thread.daemon = True
    thread.start()


def _module_file(codedir, modname):
    base = os.path.join(codedir, *modname.split('.'))
    for candidate in (base + '.py', os.path.join(base, '__init__.py'), base + '.pyc'):
        if os.path.exists(candidate):
            return candidate
    return None


def _where(err, tb, codedir):
    """file:line of a load problem: the syntax error's place, else the deepest frame in codedir."""
    if isinstance(err, SyntaxError) and getattr(err, 'filename', None):
        return '%s:%s' % (err.filename, err.lineno)
    frames = traceback.extract_tb(tb)
    root = os.path.abspath(codedir)
    inside = [f for f in frames if os.path.abspath(f[0]).startswith(root + os.sep)]
    pick = inside[-1] if inside else (frames[-1] if frames else None)
    if pick is None:
        return None
    return '%s:%s' % (pick[0], pick[1])


def _describe(err):
    name = type(err).__name__
    try:
        text = str(err)
    except Exception:  # noqa: BLE001 - py2 unicode messages
        text = repr(err)
    return '%s: %s' % (name, text) if text else name


class LoadError(Exception):
    pass


# module name -> (function, codedir) that first loaded it
_loaded_by = {}


def load_function(spec):
    name, handler, codedir = spec['name'], spec['handler'], spec['codedir']
    prefix = 'function "%s": cannot load handler "%s"' % (name, handler)
    if '.' not in handler or handler.startswith('.') or handler.endswith('.'):
        raise LoadError('%s: a python handler is "<module>.<function>", like "index.handler"' % prefix)
    modname, attr = handler.rsplit('.', 1)
    if not os.path.isdir(codedir):
        raise LoadError('%s: codedir "%s" is not a directory (relative to %s)' % (prefix, codedir, os.getcwd()))
    path = os.path.abspath(codedir)
    if path not in sys.path:
        sys.path.append(path)
    expected = os.path.join(codedir, *modname.split('.')) + '.py'
    try:
        module = importlib.import_module(modname)
    except BaseException as err:  # noqa: BLE001 - any import problem stops the runtime
        tb = sys.exc_info()[2]
        if isinstance(err, ImportError) and _module_file(codedir, modname) is None:
            raise LoadError('%s: module "%s" not found: there is no %s (%s)' % (prefix, modname, expected, _describe(err)))
        where = _where(err, tb, codedir) or expected
        raise LoadError('%s from %s: %s' % (prefix, where, _describe(err)))
    source = getattr(module, '__file__', None) or expected
    # sys.modules has one "index" per process: a second codedir's index.py would silently be the
    # first one's (v1 did that). Refuse it clearly instead.
    owner = _loaded_by.get(modname)
    if owner is not None and os.path.abspath(owner[1]) != path:
        raise LoadError('%s: module "%s" is already loaded from codedir "%s" for function "%s"; functions of one '
                        'runtime service cannot share a module name across codedirs: rename one module, or put the '
                        'functions in separate services' % (prefix, modname, owner[1], owner[0]))
    _loaded_by.setdefault(modname, (name, codedir))
    if not hasattr(module, attr):
        raise LoadError('%s: %s has no function "%s"' % (prefix, source, attr))
    fn = getattr(module, attr)
    if not callable(fn):
        raise LoadError('%s: "%s" in %s is not callable' % (prefix, attr, source))
    return fn




def _grpc_details(exc):
    # What grpcio put in the status details when the servicer raised (Baetyl v1's wire text).
    try:
        return 'Exception calling application: {}'.format(exc)
    except Exception:  # noqa: BLE001
        return 'Exception calling application: %r' % (exc,)


def _decode_event(body):
    if not body:
        return {}
    try:
        if not PY2 and sys.version_info < (3, 6):
            return json.loads(body.decode('utf-8'))
        return json.loads(body)
    except BaseException:  # noqa: BLE001 - raw data, not JSON
        return body


def _text(value):
    # Protobuf hands py2 code unicode strings; keep that for handlers that look.
    return value if not PY2 else (value if isinstance(value, unicode) else value.decode('utf-8'))  # noqa: F821


def handle_call(functions, header, body):
    seq = header['seq']
    deadline = header.get('deadline')
    if deadline is not None and time.time() * 1000 > deadline:
        write_frame({'type': 'error', 'seq': seq, 'expired': True, 'details': 'Deadline Exceeded'})
        return
    fn = functions.get(header['fn'])
    if fn is None:
        write_frame({'type': 'error', 'seq': seq, 'details': _grpc_details(Exception('function not found'))})
        return
    ctx = {}
    ctx['messageQOS'] = header['qos']
    ctx['messageTopic'] = _text(header['topic'])
    ctx['messageTimestamp'] = header['ts']
    ctx['functionName'] = _text(header['fn'])
    ctx['functionInvokeID'] = _text(header['invokeId'])
    ctx['invokeid'] = _text(header['invokeId'])
    msg = _decode_event(body)
    started = time.time()
    try:
        msg = fn(msg, ctx)
    except BaseException as err:  # noqa: BLE001 - the user's error goes back to the caller
        us = int((time.time() - started) * 1e6)
        log('error', 'function "%s" raised: %s' % (header['fn'], traceback.format_exc()))
        write_frame({'type': 'error', 'seq': seq, 'us': us, 'details': _grpc_details(Exception('[UserCodeInvoke] ', err))})
        return
    us = int((time.time() - started) * 1e6)
    if msg is None:
        out = b''
    elif isinstance(msg, bytes):
        out = msg
    else:
        try:
            out = json.dumps(msg)
            if not PY2:
                out = out.encode('utf-8')
        except BaseException as err:  # noqa: BLE001
            log('error', 'function "%s" returned a value JSON cannot encode: %s' % (header['fn'], traceback.format_exc()))
            write_frame({'type': 'error', 'seq': seq, 'details': _grpc_details(Exception('[UserCodeReturn] ', err))})
            return
    write_result(seq, us, out)


def main():
    _die_with_host()
    reader = FrameReader(IN_FD)
    frame = reader.next()
    if frame is None:
        os._exit(0)
    header = frame[0]
    if header.get('type') != 'init':
        os._exit(2)
    functions = {}
    try:
        for spec in header['functions']:
            functions[spec['name']] = load_function(spec)
    except LoadError as err:
        write_frame({'type': 'load-error', 'message': err.args[0]})
        os._exit(1)
    version = '%d.%d.%d' % tuple(sys.version_info[:3])
    write_frame({'type': 'ready', 'version': version})
    while True:
        frame = reader.next()
        if frame is None:
            # The host closed the pipe (it stopped or died): nothing more to do.
            os._exit(0)
        header, body = frame
        if header.get('type') != 'call':
            continue
        try:
            handle_call(functions, header, body)
        except Exception:  # noqa: BLE001 - a bug here must not take the worker down silently
            write_frame({'type': 'error', 'seq': header.get('seq'), 'retire': True,
                         'details': 'Exception calling application: python worker error: %s' % traceback.format_exc()})
            os._exit(1)


if __name__ == '__main__':
    main()
