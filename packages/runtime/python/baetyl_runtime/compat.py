# -*- coding:utf-8 -*-
"""What differs between Python 2.7 and 3.x, and the lean module choices of the server process:
`_signal` instead of `signal` on Python 3 (which loads enum), `_socket` instead of `socket`
(which loads enum and selectors on 3, and OpenSSL on 2), and json_codec instead of `json`. TLS
loads `socket` and `ssl` when it is configured."""
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
