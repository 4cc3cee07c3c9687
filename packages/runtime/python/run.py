# -*- coding:utf-8 -*-
"""Starts a python27/python36 runtime instance: `python -u run.py` (see baetyl_runtime/main.py).
This folder leaves sys.path once the runtime is imported (later imports of its modules go
through the package's own __path__), so a user's module named like one of
ours (run, main, log...) is the user's."""
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))
if sys.path and os.path.abspath(sys.path[0] or '.') == _HERE:
    sys.path.pop(0)
sys.path.insert(0, _HERE)
# Our own modules are compiled once and cached (a cold start should not compile them each time);
# PYTHONDONTWRITEBYTECODE, which the launcher sets for the user's code folder, applies again in
# the handler process before it loads the handlers.
sys.dont_write_bytecode = False
from baetyl_runtime import main  # noqa: E402
sys.path[:] = [p for p in sys.path if not (p and os.path.abspath(p) == _HERE)]

if __name__ == '__main__':
    sys.exit(main.main())
