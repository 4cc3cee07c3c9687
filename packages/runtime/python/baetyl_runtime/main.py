# -*- coding:utf-8 -*-
"""A python27/python36 runtime instance: `python run.py`, with its checked config as JSON.

The master (or a test) loads etc/baetyl/service.yml with the same loader as every other service
(packages/runtime/src/config: YAML, env templating, schema, defaults, file:line errors) and hands
the result over in the BAETYL_RUNTIME_CONFIG environment variable, or in a file named by
`--config-json FILE`. This process then serves gRPC on server.address and forks the handler
process; it exits 1, with the reason in its log and on stderr, when a handler cannot load or the
address cannot be bound. SIGTERM or SIGINT: stop accepting calls, give running ones up to 2 s,
stop the handler processes, exit 0.
"""
import fcntl
import os
import sys
import time

from baetyl_runtime import log as logmod
from baetyl_runtime import json_codec
from baetyl_runtime.compat import signal
from baetyl_runtime.executor import Executor
from baetyl_runtime.loop import READ, Loop
from baetyl_runtime.server import Server, Service

GRACE_S = 2.0


def format_duration(ms):
    """As the other services print durations (Go's form): 500ms, 30s, 1m30s."""
    if ms < 1000:
        return '%gms' % ms
    rest = ms / 1000.0
    h = int(rest // 3600)
    rest -= h * 3600
    m = int(rest // 60)
    rest -= m * 60
    text = ('%.3f' % rest).rstrip('0').rstrip('.')
    return '%s%s%ss' % ('%dh' % h if h else '', '%dm' % m if h or m else '', text)


def read_config(argv):
    text = None
    if '--config-json' in argv:
        i = argv.index('--config-json')
        if i + 1 >= len(argv):
            raise ValueError('--config-json needs a file')
        with open(argv[i + 1]) as f:
            text = f.read()
    else:
        text = os.environ.get('BAETYL_RUNTIME_CONFIG')
    if not text:
        raise ValueError('no config: this runtime is started by the baetyl master, which checks etc/baetyl/service.yml '
                         'and passes it in BAETYL_RUNTIME_CONFIG; to run it alone, pass --config-json FILE')
    return json_codec.loads(text)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    try:
        cfg = read_config(argv)
    except (ValueError, IOError, OSError) as err:
        logmod.stderr_line('baetyl-function-python: %s' % err)
        return 1
    kind = cfg.get('kind', 'python')
    cwd = os.getcwd()
    log = logmod.Logger(cfg.get('logger'), cwd)
    interp = cfg.get('interpreter')
    version = '%d.%d.%d' % tuple(sys.version_info[:3])
    if interp:
        log.info('using Python %s at %s (%s)' % (version, interp.get('path', sys.executable), interp.get('source', 'the master')))
    for warning in cfg.get('warnings', []):
        log.warn(warning)

    def fatal(message):
        text = 'cannot start the %s runtime: %s' % (kind, message)
        log.error(text)
        logmod.stderr_line('baetyl-function-%s: %s' % (kind, text))
        os._exit(1)

    server_cfg = cfg.get('server', {})
    runtime_cfg = cfg.get('runtime', {})
    loop = Loop()
    functions = [{'name': f['name'], 'handler': f['handler'], 'codedir': f.get('codedir', '.')} for f in cfg['functions']]
    max_message = (server_cfg.get('message') or {}).get('length', {}).get('max', 4 << 20)
    executor = Executor(loop, functions, log, 'python %s' % version,
                        max_workers=(server_cfg.get('workers') or {}).get('max') or 1,
                        idle_s=(runtime_cfg.get('idle') or 300000) / 1000.0,
                        # A payload over the limit is refused where it is made; the server checks the
                        # whole answer (payload and the other fields) against the limit again.
                        max_result=max_message)
    state = {'ready': False, 'bound': False, 'stopping': False}
    address = server_cfg.get('address', '')
    timeout = server_cfg.get('timeout')

    def started():
        if state['ready'] and state['bound']:
            extra = ', call timeout %s' % format_duration(timeout) if timeout else ''
            log.info('service starting: %s runtime with %s on %s%s' % (kind, ', '.join(f['name'] for f in functions), address, extra))

    def on_ready(_version):
        state['ready'] = True
        started()

    # The handlers load in the forked process while this one binds.
    executor.start(on_ready, fatal)
    tls = None
    if server_cfg.get('key') and server_cfg.get('cert'):
        tls = {'ca': server_cfg.get('ca'), 'key': server_cfg['key'], 'cert': server_cfg['cert']}
    service = Service(executor, max_message,
                      timeout_ms=timeout, concurrent_max=(server_cfg.get('concurrent') or {}).get('max'))
    try:
        server = Server(loop, service, address, log, tls)
    except ValueError as err:
        executor.close()
        fatal(str(err))
    state['bound'] = True
    started()

    # Signals reach the loop through a pipe, so poll wakes up for them.
    wake_r, wake_w = os.pipe()
    for fd in (wake_r, wake_w):
        fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)
    names = {}

    def on_signal(signum, _frame):
        names[signum] = True
        try:
            os.write(wake_w, b'x')
        except OSError:
            pass

    def stop(fd, _ev):
        try:
            os.read(fd, 64)
        except OSError:
            pass
        if state['stopping']:
            return
        state['stopping'] = True
        which = 'SIGTERM' if signal.SIGTERM in names else 'SIGINT'
        log.info('received %s, stopping' % which)
        server.stop_listening()
        until = time.time() + GRACE_S

        def finish():
            if executor.busy() and time.time() < until:
                loop.call_later(0.02, finish)
                return
            server.close_all()
            executor.close()
            log.info('service closed')
            loop.running = False

        finish()

    loop.watch(wake_r, READ, stop)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    loop.run()
    return 0
