# -*- coding:utf-8 -*-
"""What a handler sees, as in Baetyl v1's python runtimes: codedir on sys.path, the handler split
at the last dot, the event decoded from JSON (empty -> {}, undecodable -> the raw bytes), the
context dict, and results and errors serialised the way v1's gRPC servicer did. Runs in the
handler process only."""
import os
import sys
import time

from baetyl_runtime import json_codec, pipe

PY2 = sys.version_info[0] == 2


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
    import traceback
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
        __import__(modname)
        module = sys.modules[modname]
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
            return json_codec.loads(body.decode('utf-8'))
        return json_codec.loads(body)
    except BaseException:  # noqa: BLE001 - raw data, not JSON
        return body


def _text(value):
    """Strings arrive as UTF-8 bytes: text for Python 3, unicode for Python 2 (as protobuf gave them)."""
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    return value


def _traceback():
    import traceback  # only when a handler fails: it costs the process memory
    # Text, like the function name it is logged with: on Python 2 format_exc() gives bytes, and
    # an exception holding bytes beyond ASCII made the unicode log line raise.
    return _text(traceback.format_exc())


def run(fn, name, qos, topic, ts, invoke_id, body, log):
    """Calls one handler: (True, payload bytes, us) or (False, grpc details, us)."""
    ctx = {}
    ctx['messageQOS'] = qos
    ctx['messageTopic'] = _text(topic)
    ctx['messageTimestamp'] = ts
    ctx['functionName'] = _text(name)
    ctx['functionInvokeID'] = _text(invoke_id)
    ctx['invokeid'] = _text(invoke_id)
    msg = _decode_event(body)
    started = time.time()
    try:
        msg = fn(msg, ctx)
    except BaseException as err:  # noqa: BLE001 - the user's error goes back to the caller
        us = int((time.time() - started) * 1e6)
        log('error', 'function "%s" raised: %s' % (_text(name), _traceback()))
        return False, _grpc_details(Exception('[UserCodeInvoke] ', err)), us
    us = int((time.time() - started) * 1e6)
    if msg is None:
        return True, b'', us
    if isinstance(msg, bytes):
        return True, msg, us
    try:
        out = json_codec.dumps(msg)
        if not PY2:
            out = out.encode('utf-8')
    except BaseException as err:  # noqa: BLE001
        log('error', 'function "%s" returned a value JSON cannot encode: %s' % (_text(name), _traceback()))
        return False, _grpc_details(Exception('[UserCodeReturn] ', err)), us
    return True, out, us


# v1's text for a FunctionName the instance does not have (pipe.py, where the server finds it).
NOT_FOUND = _grpc_details(Exception('function not found'))
assert NOT_FOUND == pipe.NOT_FOUND
