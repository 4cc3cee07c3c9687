# -*- coding:utf-8 -*-
"""What differs between Python 2.7 and 3.x, and the lean module choices of the server process:
`_signal` instead of `signal` on Python 3 (which loads enum), `_socket` instead of `socket`
(which loads enum and selectors on 3, and OpenSSL on 2), json's C scanner instead of `json`
(which loads re, enum and collections: about 1.2 MB of the process). TLS loads `socket` and
`ssl` when it is configured; the handler process loads `json` for the handlers."""
import sys

PY2 = sys.version_info[0] == 2

try:
    import _signal as signal  # noqa: F401 - Python 3
except ImportError:
    import signal  # noqa: F401 - Python 2: a built-in module already

import _socket  # noqa: E402

socket_error = _socket.error

# Bytes asked of one recv/read. glibc serves a malloc above 128 KB with mmap, and Python shrinks
# the buffer to what was read (mremap) and frees it (munmap): a 256 KB read cost three more
# syscalls and a page fault on every call. 64 KB comes from the heap.
READ_SIZE = 65536


def accept(sock):
    """(connected socket, address) from a listening _socket.socket."""
    if PY2:
        return sock.accept()
    fd, addr = sock._accept()
    return _socket.socket(sock.family, sock.type, sock.proto, fd), addr


def signal_name(number):
    for name in dir(signal):
        if name.startswith('SIG') and not name.startswith('SIG_') and getattr(signal, name) == number:
            return name
    return str(number)


class _Decoding(object):
    """What json's C scanner reads off its decoder: json.loads' defaults."""
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float  # NaN, Infinity, -Infinity
    encoding = 'utf-8'  # Python 2
    memo = None


def loads_json(text):
    """json.loads(text) for a document of ours (the config the master passes): json's own C
    scanner when the interpreter has it, else json."""
    try:
        import _json
        scan = _json.make_scanner(_Decoding())
    except (ImportError, AttributeError, TypeError):
        import json
        return json.loads(text)
    start = len(text) - len(text.lstrip())
    try:
        value, end = scan(text, start)
    except StopIteration:
        raise ValueError('not JSON: nothing can be read at character %d' % start)
    if text[end:].strip():
        raise ValueError('not JSON: more after the document at character %d' % end)
    return value
