# -*- coding:utf-8 -*-
"""The handler process: forked from the server, it loads every handler and runs calls one at a
time, in the order they come (pipe.py has the frames). The server kills it when a call passes its
deadline (the only way to stop arbitrary user code) and forks another; prints go to pipes the
server copies into the log, so they can never corrupt the protocol. Several calls may be sent
before the first is answered; they are read in one go and answered as each finishes. A call whose
deadline passed before its turn is skipped."""
import os
import struct
import sys
import time

from baetyl_runtime import handlers
from baetyl_runtime.compat import READ_SIZE
from baetyl_runtime.pipe import CALL, ERROR, FRAME, LEVELS, RESULT, SKIPPED, TOO_LARGE, T_CALL, T_ERROR, T_LOAD_ERROR, T_LOG, T_READY, T_RESULT, frame


class FrameReader(object):
    """Frames from a pipe, read in large chunks: one read takes every frame the pipe holds."""

    def __init__(self, fd):
        self.fd = fd
        self.buf = b''
        self.pos = 0

    def next(self):
        """(type, body) of the next frame, waiting for it; None at the end of the pipe."""
        while True:
            buf, pos = self.buf, self.pos
            if len(buf) - pos >= 5:
                length, ftype = FRAME.unpack_from(buf, pos)
                end = pos + 4 + length
                if len(buf) >= end:
                    self.pos = end
                    return ftype, buf[pos + 5:end]
            try:
                chunk = os.read(self.fd, READ_SIZE)
            except OSError as err:
                if err.errno == 4:  # EINTR on Python 2
                    continue
                raise
            if not chunk:
                return None
            self.buf = buf[pos:] + chunk
            self.pos = 0


class Answers(object):
    def __init__(self, fd):
        self.fd = fd

    def write(self, data):
        view = memoryview(data)
        while len(view):
            try:
                view = view[os.write(self.fd, view):]
            except OSError as err:
                if err.errno != 4:
                    raise

    def log(self, level, text):
        body = struct.pack('>B', LEVELS.index(level)) + text.encode('utf-8', 'replace')
        self.write(frame(T_LOG, body))


def _watch_server(fd):
    """Exits when the server is gone, even in the middle of a long call: a thread that waits only
    for the hang-up of the request pipe, so it never wakes while the server lives. A bare thread
    (_thread): on Python 3, threading loads traceback, linecache, tokenize and re, 1.4 MB of the
    process; a bare thread ends with the process as a daemon thread does."""
    import select
    try:
        import _thread as thread
    except ImportError:  # Python 2
        import thread
    if not hasattr(select, 'poll'):
        return

    def watch():
        poller = select.poll()
        poller.register(fd, 0)  # POLLHUP and POLLERR are always reported
        while True:
            try:
                events = poller.poll()
            except (OSError, select.error):  # noqa: B014 - EINTR on Python 2
                continue
            for _, ev in events:
                if ev & (select.POLLHUP | select.POLLERR | select.POLLNVAL):
                    os._exit(0)

    thread.start_new_thread(watch, ())


def serve(in_fd, out_fd, specs, max_result):
    """The handler process's life: load, say ready (or why not), then run calls until EOF."""
    answers = Answers(out_fd)
    _watch_server(in_fd)
    # No .pyc in the user's code folder (often read-only) unless the environment allows it.
    sys.dont_write_bytecode = bool(os.environ.get('PYTHONDONTWRITEBYTECODE'))
    functions = {}
    try:
        for spec in specs:
            functions[spec['name'].encode('utf-8')] = handlers.load_function(spec)
    except handlers.LoadError as err:
        answers.write(frame(T_LOAD_ERROR, err.args[0].encode('utf-8', 'replace')))
        os._exit(1)
    answers.write(frame(T_READY, ('%d.%d.%d' % tuple(sys.version_info[:3])).encode('ascii')))
    reader = FrameReader(in_fd)
    log = answers.log
    while True:
        got = reader.next()
        if got is None:
            # The server closed the pipe (it stopped or died).
            os._exit(0)
        ftype, body = got
        if ftype != T_CALL:
            continue
        seq, deadline, qos, ts, n_fn, n_topic, n_id = CALL.unpack_from(body, 0)
        pos = CALL.size
        name = body[pos:pos + n_fn]
        pos += n_fn
        topic = body[pos:pos + n_topic]
        pos += n_topic
        invoke_id = body[pos:pos + n_id]
        payload = body[pos + n_id:]
        # deadline layer: worker skips (packages/core/src/function/deadlines.ts).
        if deadline and time.time() * 1000 > deadline:
            answers.write(frame(T_ERROR, ERROR.pack(seq, 0, SKIPPED)))
            continue
        fn = functions.get(name)
        if fn is None:
            answers.write(frame(T_ERROR, ERROR.pack(seq, 0, 0) + handlers.NOT_FOUND.encode('utf-8')))
            continue
        ok, out, us = handlers.run(fn, name, qos, topic, ts, invoke_id, payload, log)
        if ok and len(out) > max_result:
            # Refused here, where it is made: the caller learns why, and nothing huge moves.
            text = 'result of %d bytes is over the limit of %d bytes (message.length.max)' % (len(out), max_result)
            log('error', 'function "%s" returned %d bytes, more than server.message.length.max (%d)'
                % (name.decode('utf-8', 'replace'), len(out), max_result))
            answers.write(frame(T_ERROR, ERROR.pack(seq, us, TOO_LARGE) + text.encode('ascii')))
        elif ok:
            answers.write(frame(T_RESULT, RESULT.pack(seq, us) + out))
        else:
            details = out if isinstance(out, bytes) else out.encode('utf-8', 'replace')
            answers.write(frame(T_ERROR, ERROR.pack(seq, us, 0) + details))
