# -*- coding:utf-8 -*-
"""The python27/python36 function runtime: a gRPC server (HTTP/2, HPACK, gRPC framing, all in
this package) that serves baetyl.Function/Call and baetyl.FunctionStream/Calls, and runs the
handlers in a process of its own that it can kill at a deadline and replace. Standard library
only, for Python 2.7 and 3.x alike. Started as `python run.py` (the file beside this package)."""
