# -*- coding:utf-8 -*-
"""The pipes between the server and a handler process: frames of [u32 length][u8 type][body]
(big-endian; the length counts type and body).

  server -> handler: 'c' call: >IdIq (seq, deadline in ms since the epoch or 0, qos, timestamp),
                     >HHH (lengths of function name, topic, invoke id), the three, the payload
  handler -> server: 'R' ready (the Python version), 'L' load error (the message),
                     'r' result: >II (seq, us) + payload,
                     'e' error: >IIB (seq, us, flags) + details (flags: SKIPPED = its deadline
                     had passed before its turn; TOO_LARGE = the result is over the gRPC
                     message limit, so it never crosses the pipe), 'g' log: >B level + text
"""
import struct

FRAME = struct.Struct('>IB')
CALL = struct.Struct('>IdIqHHH')
RESULT = struct.Struct('>II')
ERROR = struct.Struct('>IIB')
LEVELS = ('debug', 'info', 'warn', 'error')
SKIPPED = 1
TOO_LARGE = 2

T_CALL = 0x63  # c
T_READY = 0x52  # R
T_LOAD_ERROR = 0x4c  # L
T_RESULT = 0x72  # r
T_ERROR = 0x65  # e
T_LOG = 0x67  # g

# v1's text for a FunctionName the instance does not have (grpcio's "Exception calling
# application: " and the exception): the server answers it for a name it does not know.
NOT_FOUND = 'Exception calling application: function not found'


def frame(ftype, body):
    return FRAME.pack(len(body) + 1, ftype) + body
