# -*- coding:utf-8 -*-
"""The handler processes behind the gRPC server, and the calls' way to them.

A handler process (handler_process.py) is forked from the server, so it shares the server's
pages copy-on-write and starts in a few milliseconds. It runs its calls one at a time, in order.
Calls go to an idle process; while none is idle they wait here (first come, first served), and
more processes are forked, up to `max_workers`. When a process is done with what it was given,
what waits goes to it at once: for a fast function (under `fast_us` on average, as the processes
measure it) up to `depth` calls in one write, so a burst costs one write and one wake-up, not
one per call; for a slow one, one call, so that other processes can take the rest.

A call that passes its deadline while running kills its process (the only way to stop arbitrary
user code); the caller gets DEADLINE_EXCEEDED and a new process is forked; the calls queued
behind the killed one had not started and run again. A call whose deadline passes while it
waits is answered DEADLINE_EXCEEDED at once, and the process skips it. A process that dies (a
crash, os._exit) fails the call it was running with INTERNAL and is replaced. A user's exception
is only an answer: the process stays.
"""
import errno
import fcntl
import os
import struct
import time

from _collections import deque

from baetyl_runtime import pipe
from baetyl_runtime.pipe import NOT_FOUND
from baetyl_runtime.compat import READ_SIZE, signal, signal_name

OK = 0
CANCELLED = 1
UNKNOWN = 2
DEADLINE_EXCEEDED = 4
RESOURCE_EXHAUSTED = 8
INTERNAL = 13
UNAVAILABLE = 14

DEFAULT_DEPTH = 16
DEFAULT_FAST_US = 2000


def _nonblocking(fd):
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_NONBLOCK)


def _cloexec(fd):
    fcntl.fcntl(fd, fcntl.F_SETFD, fcntl.fcntl(fd, fcntl.F_GETFD) | fcntl.FD_CLOEXEC)


def _open_fds():
    try:
        return [int(n) for n in os.listdir('/proc/self/fd')]
    except OSError:
        return list(range(3, 1024))


class Job(object):
    __slots__ = ('msg', 'deadline', 'cb', 'done', 'timed_out', 'executor', 'sent')

    def __init__(self, executor, msg, deadline, cb):
        self.executor = executor
        self.msg = msg
        self.deadline = deadline
        self.cb = cb
        self.done = False
        self.timed_out = False
        # Given to a handler process (else it waits in the executor's queue).
        self.sent = False

    def cancel(self):
        """The caller went away: a waiting call is dropped (the queue skips answered calls); a
        running one finishes unseen."""
        self.executor.answer(self, CANCELLED, 'the call was cancelled', b'')


class HandlerProcess(object):
    def __init__(self, pid, req_fd, ans_fd, out_fd, err_fd):
        self.pid = pid
        self.req_fd = req_fd
        self.ans_fd = ans_fd
        self.stdio = {out_fd: ['stdout', b''], err_fd: ['stderr', b'']}
        self.ready = False
        self.alive = True
        self.retired = False
        self.jobs = []
        self.seqs = {}
        self.next_seq = 1
        self.outbuf = bytearray()
        self.inbuf = b''
        self.last_used = time.time()
        self.deadline_timer = None
        self.timer_at = None
        self.idle_timer = None
        self.load_error = None


class Executor(object):
    def __init__(self, loop, specs, log, label, max_workers=1, idle_s=300.0, depth=DEFAULT_DEPTH,
                 fast_us=DEFAULT_FAST_US, max_result=4 << 20):
        self.loop = loop
        # Per-call debug lines are decided once: the check would cost every call otherwise.
        self.debug = log.enabled('debug')
        # Results larger than this are refused in the handler process (the gRPC message limit).
        self.max_result = max_result
        self.specs = specs
        self.names = set(s['name'].encode('utf-8') for s in specs)
        self.log = log
        self.label = label
        self.max_workers = max(1, max_workers)
        self.idle_s = idle_s
        self.depth = max(1, depth)
        self.fast_us = fast_us
        self.avg_us = None
        self.procs = []
        # Calls not yet given to a process; answered ones (cancelled, expired) are skipped.
        self.waiting = deque()
        self.starting = 0
        self.closed = False
        # One timer for the waiting calls' deadlines, armed for the earliest (never one per call:
        # a cancelled timer stays on the loop's heap until its time).
        self.wait_timer = None
        self.wait_timer_at = None
        # A process that died before loading the handlers is replaced after a pause.
        self.retry_timer = None
        self.dirty = set()
        self.on_first_ready = None
        self.on_load_error = None
        loop.after_turn.append(self._flush)

    # --- the server's side ---------------------------------------------------------------------

    def start(self, on_ready, on_load_error):
        """Forks the first process; its handlers loading is the runtime's start check."""
        self.on_first_ready = on_ready
        self.on_load_error = on_load_error
        self._fork()

    def submit(self, msg, deadline, cb):
        """Runs one call; deadline in ms since the epoch (None: none); cb(code, details, payload, us)."""
        job = Job(self, msg, deadline, cb)
        if msg.function_name not in self.names:
            self.answer(job, UNKNOWN, NOT_FOUND, b'')
            return job
        if self.closed:
            self.answer(job, UNAVAILABLE, 'the runtime is stopping', b'')
            return job
        if not self.waiting:
            # The common case: straight to an idle process, with no wait (and no timer for one).
            proc = self._idle()
            if proc is not None:
                self._send(proc, job, time.time())
                return job
        self._enqueue(job)
        self._dispatch()
        return job

    def busy(self):
        return any(p.jobs for p in self.procs) or any(not j.done for j in self.waiting)

    def close(self):
        """Answers what waits, kills every process (their running calls end with them)."""
        self.closed = True
        waiting, self.waiting = self.waiting, deque()
        for job in waiting:
            self.answer(job, UNAVAILABLE, 'the runtime is stopping', b'')
        for proc in self.procs[:]:
            self._kill(proc)
            self._reap(proc)

    # --- queue and dispatch --------------------------------------------------------------------

    def _enqueue(self, job, front=False):
        job.sent = False
        if front:
            self.waiting.appendleft(job)
        else:
            self.waiting.append(job)
        if job.deadline is not None and (self.wait_timer is None or job.deadline < self.wait_timer_at):
            if self.wait_timer is not None:
                self.wait_timer.cancel()
            self.wait_timer_at = job.deadline
            self.wait_timer = self.loop.call_at(job.deadline / 1000.0, self._waited_too_long)

    # deadline layer: waiting for a worker (packages/core/src/function/deadlines.ts).
    def _waited_too_long(self):
        """Answers the waiting calls whose deadline passed, and re-arms for the next one."""
        self.wait_timer = self.wait_timer_at = None
        now = time.time() * 1000
        nearest = None
        for job in self.waiting:
            if job.done or job.deadline is None:
                continue
            if job.deadline <= now:
                self.answer(job, DEADLINE_EXCEEDED, 'Deadline Exceeded: no worker became free before the deadline', b'')
            elif nearest is None or job.deadline < nearest:
                nearest = job.deadline
        if nearest is not None:
            self.wait_timer_at = nearest
            self.wait_timer = self.loop.call_at(nearest / 1000.0, self._waited_too_long)

    def _dispatch(self):
        """Gives waiting calls to idle processes: a fast function's calls go as a batch (up to
        `depth` in one write), a slow one's one by one; forks more processes for what is left."""
        if self.closed:
            return
        now = time.time()
        waiting = self.waiting
        batch = self.depth if self.avg_us is not None and self.avg_us <= self.fast_us else 1
        while waiting:
            if waiting[0].done:
                waiting.popleft()
                continue
            proc = self._idle()
            if proc is None:
                self._grow()
                return
            sent = 0
            while waiting and sent < batch:
                job = waiting.popleft()
                if not job.done:
                    self._send(proc, job, now)
                    sent += 1

    def _idle(self):
        """An idle process, the most recently used first (so the others can stop when idle). A
        busy one gets nothing more: what arrives meanwhile waits here and goes, all at once, when
        its batch is answered; it would only have waited in the pipe instead, and one write and one
        wake-up per batch is what makes a fast function cheap."""
        idle = None
        for proc in self.procs:
            if proc.ready and not proc.jobs and proc.alive and not proc.retired:
                if idle is None or proc.last_used > idle.last_used:
                    idle = proc
        return idle

    def _send(self, proc, job, now):
        proc.jobs.append(job)
        job.sent = True
        seq = proc.next_seq
        proc.next_seq = (seq + 1) & 0xffffffff or 1
        proc.seqs[seq] = job
        self._arm_deadline(proc, job.deadline)
        m = job.msg
        body = (pipe.CALL.pack(seq, job.deadline or 0.0, m.qos, m.timestamp, len(m.function_name), len(m.topic), len(m.invoke_id))
                + m.function_name + m.topic + m.invoke_id + m.payload)
        proc.outbuf += pipe.frame(pipe.T_CALL, body)
        self.dirty.add(proc)

    def _flush(self):
        """After each loop turn: what the turn queued for a process leaves in one write."""
        if not self.dirty:
            return
        dirty = self.dirty
        self.dirty = set()
        for proc in dirty:
            self._write(proc)

    def _write(self, proc):
        if not proc.alive or not proc.outbuf:
            return
        try:
            n = os.write(proc.req_fd, proc.outbuf)
        except OSError as err:
            if err.errno in (errno.EAGAIN, errno.EINTR):
                n = 0
            elif err.errno == errno.EPIPE:
                return  # it died; its answer pipe tells us
            else:
                raise
        del proc.outbuf[:n]
        if proc.outbuf:
            self.loop.watch(proc.req_fd, 4, lambda fd, ev: self._writable(proc))
        else:
            self.loop.forget(proc.req_fd)

    def _writable(self, proc):
        self.loop.forget(proc.req_fd)
        self._write(proc)

    # --- answers -------------------------------------------------------------------------------

    def answer(self, job, code, details, payload, us=0):
        """us: how long the handler ran, when it ran (0: it did not, or was not measured)."""
        if job.done:
            return
        job.done = True
        job.cb(code, details, payload, us)

    def _readable(self, proc):
        try:
            chunk = os.read(proc.ans_fd, READ_SIZE)
        except OSError as err:
            if err.errno in (errno.EAGAIN, errno.EINTR):
                return
            chunk = b''
        if not chunk:
            self._exited(proc)
            return
        buf = proc.inbuf + chunk if proc.inbuf else chunk
        pos = 0
        end = len(buf)
        FRAME = pipe.FRAME
        while end - pos >= 5:
            length, ftype = FRAME.unpack_from(buf, pos)
            stop = pos + 4 + length
            if stop > end:
                break
            self._frame(proc, ftype, buf[pos + 5:stop])
            pos = stop
        proc.inbuf = buf[pos:] if pos < end else b''
        self._dispatch()

    def _frame(self, proc, ftype, body):
        if ftype == pipe.T_RESULT:
            seq, us = pipe.RESULT.unpack_from(body, 0)
            self._answered(proc, seq, us, OK, '', body[pipe.RESULT.size:], 0)
        elif ftype == pipe.T_ERROR:
            seq, us, flags = pipe.ERROR.unpack_from(body, 0)
            self._answered(proc, seq, us, UNKNOWN, body[pipe.ERROR.size:].decode('utf-8', 'replace'), b'', flags)
        elif ftype == pipe.T_LOG:
            level = pipe.LEVELS[struct.unpack_from('>B', body, 0)[0]]
            self.log(level, body[1:].decode('utf-8', 'replace'), worker=str(proc.pid))
        elif ftype == pipe.T_READY:
            proc.ready = True
            proc.version = body.decode('ascii')
            self.starting -= 1
            self.log('debug', 'handler process %d ready (Python %s)' % (proc.pid, proc.version))
            if self.on_first_ready is not None:
                ready, self.on_first_ready = self.on_first_ready, None
                ready(proc.version)
            self._became_idle(proc)
        elif ftype == pipe.T_LOAD_ERROR:
            proc.load_error = body.decode('utf-8', 'replace')

    def _answered(self, proc, seq, us, code, details, payload, flags):
        job = proc.seqs.pop(seq, None)
        if job is None:
            return
        jobs = proc.jobs
        # Answers come in the order sent.
        if jobs and jobs[0] is job:
            del jobs[0]
        elif job in jobs:
            jobs.remove(job)
        proc.last_used = time.time()
        if us:
            self.avg_us = us if self.avg_us is None else self.avg_us * 0.9 + us * 0.1
        if self.debug and not flags:
            m = job.msg
            self.log('debug', 'call done' if code == OK else 'call failed: %s' % details,
                     function=m.function_name.decode('utf-8', 'replace'), invokeid=m.invoke_id.decode('utf-8', 'replace'),
                     ms='%.3f' % (us / 1000.0))
        if flags & pipe.SKIPPED:
            self.answer(job, DEADLINE_EXCEEDED, 'Deadline Exceeded: no worker became free before the deadline', b'')
        elif flags & pipe.TOO_LARGE:
            self.answer(job, RESOURCE_EXHAUSTED, details, b'')
        else:
            # 0 says "not measured" to the caller; a call that ran says at least 1.
            self.answer(job, code, details, payload, us or 1)
        if not proc.jobs:
            # The deadline timer stays armed: when it fires with nothing due it simply re-arms
            # (cancelling and arming one per call would fill the loop's heap).
            self._became_idle(proc)

    # --- deadlines -----------------------------------------------------------------------------

    def _arm_deadline(self, proc, deadline):
        if deadline is None or (proc.deadline_timer is not None and proc.timer_at <= deadline):
            return
        if proc.deadline_timer is not None:
            proc.deadline_timer.cancel()
        proc.timer_at = deadline
        proc.deadline_timer = self.loop.call_at(deadline / 1000.0, lambda: self._on_deadline(proc))

    # deadline layers: handler kill, and waiting for a worker for the calls queued behind it (packages/core/src/function/deadlines.ts).
    def _on_deadline(self, proc):
        proc.deadline_timer = None
        proc.timer_at = None
        now = time.time() * 1000
        later = None
        for i, job in enumerate(list(proc.jobs)):
            if job.deadline is None or job.deadline > now:
                if job.deadline is not None and (not job.done or i == 0):
                    later = job.deadline if later is None else min(later, job.deadline)
                continue
            if i == 0:
                if not job.timed_out and proc.alive:
                    job.timed_out = True
                    self.log('warn', 'function "%s" passed its deadline: killing handler process %d'
                             % (job.msg.function_name.decode('utf-8', 'replace'), proc.pid),
                             invokeid=job.msg.invoke_id.decode('utf-8', 'replace'))
                    self._kill(proc)
                    # Its answer pipe closes now; what it had queued runs on a new process.
                    self._exited(proc)
                    return
            else:
                # Queued behind the running call: it never started, and the process will skip it.
                self.answer(job, DEADLINE_EXCEEDED, 'Deadline Exceeded: no worker became free before the deadline', b'')
        if later is not None:
            self._arm_deadline(proc, later)

    # --- processes -----------------------------------------------------------------------------

    def _retry_fork(self):
        self.retry_timer = None
        if not self.closed and not self.procs and not self.starting:
            self._fork()

    def _grow(self):
        if self.retry_timer is not None:
            return
        while not self.closed and len(self.waiting) > self.starting and len(self.procs) < self.max_workers:
            self._fork()

    def _fork(self):
        req_r, req_w = os.pipe()
        ans_r, ans_w = os.pipe()
        out_r, out_w = os.pipe()
        err_r, err_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            self._child(req_r, ans_w, out_w, err_w)
        for fd in (req_r, ans_w, out_w, err_w):
            os.close(fd)
        for fd in (req_w, ans_r, out_r, err_r):
            _cloexec(fd)
            _nonblocking(fd)
        proc = HandlerProcess(pid, req_w, ans_r, out_r, err_r)
        self.procs.append(proc)
        self.starting += 1
        self.loop.watch(ans_r, 1 | 2, lambda fd, ev: self._readable(proc))
        for fd in (out_r, err_r):
            self.loop.watch(fd, 1 | 2, lambda fd, ev, p=proc: self._stdio(p, fd))
        return proc

    def _child(self, req_r, ans_w, out_w, err_w):
        """In the forked process: stdio to the server's pipes, requests on 3, answers on 4,
        every other descriptor (sockets, other processes' pipes) closed."""
        try:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the server decides when we stop
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            os.dup2(out_w, 1)
            os.dup2(err_w, 2)
            high_req = fcntl.fcntl(req_r, fcntl.F_DUPFD, 10)
            high_ans = fcntl.fcntl(ans_w, fcntl.F_DUPFD, 10)
            os.dup2(high_req, 3)
            os.dup2(high_ans, 4)
            for fd in _open_fds():
                if fd > 4:
                    try:
                        os.close(fd)
                    except OSError:
                        pass
            # Processes a handler starts must not hold our pipes open.
            _cloexec(3)
            _cloexec(4)
            from baetyl_runtime import handler_process
            handler_process.serve(3, 4, self.specs, self.max_result)
        except BaseException:  # noqa: BLE001 - never return into the server's loop
            import traceback
            traceback.print_exc()
        os._exit(1)

    def _stdio(self, proc, fd):
        entry = proc.stdio.get(fd)
        if entry is None:
            return
        try:
            chunk = os.read(fd, READ_SIZE)
        except OSError as err:
            if err.errno in (errno.EAGAIN, errno.EINTR):
                return
            chunk = b''
        name = entry[0]
        if not chunk:
            if entry[1]:
                self._print(proc, name, entry[1])
            self.loop.forget(fd)
            os.close(fd)
            del proc.stdio[fd]
            return
        data = entry[1] + chunk
        lines = data.split(b'\n')
        entry[1] = lines.pop()
        for line in lines:
            self._print(proc, name, line)

    def _print(self, proc, name, line):
        text = line.decode('utf-8', 'replace').rstrip('\r')
        self.log('info' if name == 'stdout' else 'warn', text, stream=name, worker=str(proc.pid))

    def _kill(self, proc):
        if not proc.alive:
            return
        try:
            os.kill(proc.pid, signal.SIGKILL)
        except OSError:
            pass

    def _reap(self, proc):
        """Waits for the process (it is exiting) and says how it ended."""
        try:
            _, status = os.waitpid(proc.pid, 0)
        except OSError:
            return 'exited'
        if os.WIFSIGNALED(status):
            return 'was killed by %s' % signal_name(os.WTERMSIG(status))
        return 'exited with code %d' % os.WEXITSTATUS(status)

    def _exited(self, proc):
        if not proc.alive:
            return
        proc.alive = False
        self.loop.forget(proc.ans_fd)
        self.loop.forget(proc.req_fd)
        os.close(proc.ans_fd)
        os.close(proc.req_fd)
        # Prints still in the pipes are logged first.
        for fd in list(proc.stdio):
            self._stdio(proc, fd)
        how = self._reap(proc)
        for fd in list(proc.stdio):
            self.loop.forget(fd)
            os.close(fd)
        proc.stdio = {}
        for timer in (proc.deadline_timer, proc.idle_timer):
            if timer is not None:
                timer.cancel()
        if proc in self.procs:
            self.procs.remove(proc)
        self.dirty.discard(proc)
        if not proc.ready:
            self.starting -= 1
            message = proc.load_error or 'the %s handler process %s before loading the handlers' % (self.label, how)
            if self.on_first_ready is not None:
                # The start check failed: the instance stops (main.py).
                self.on_first_ready = None
                self.on_load_error(message)
                return
            # A replacement that could not load (the code changed, an import that crashes): the
            # waiting calls fail with the reason, and the next try is a second away, not a loop.
            self.log('error', 'cannot start a handler process: %s' % message)
            if not self.procs and not self.starting:
                waiting, self.waiting = self.waiting, deque()
                for job in waiting:
                    self.answer(job, UNAVAILABLE, 'cannot start a handler process: %s' % message, b'')
                if not self.closed and self.retry_timer is None:
                    self.retry_timer = self.loop.call_later(1.0, self._retry_fork)
            return
        jobs = proc.jobs
        proc.jobs = []
        proc.seqs = {}
        # The first call was running; the ones behind it never started and keep their places.
        requeue = []
        for i, job in enumerate(jobs):
            if job.done:
                continue
            name = job.msg.function_name.decode('utf-8', 'replace')
            if i == 0:
                if job.timed_out:
                    self.answer(job, DEADLINE_EXCEEDED, 'Deadline Exceeded: function "%s" did not finish in time; its worker was replaced' % name, b'')
                else:
                    why = 'the %s worker process %s' % (self.label, how)
                    self.log('error', 'function "%s" crashed its handler process: %s' % (name, why),
                             invokeid=job.msg.invoke_id.decode('utf-8', 'replace'))
                    self.answer(job, INTERNAL, 'Exception calling application: %s while running function "%s"; the worker was replaced' % (why, name), b'')
            else:
                requeue.append(job)
        for job in reversed(requeue):
            if job.deadline is not None and job.deadline <= time.time() * 1000:
                self.answer(job, DEADLINE_EXCEEDED, 'Deadline Exceeded: no worker became free before the deadline', b'')
            else:
                self._enqueue(job, front=True)
        if self.closed:
            return
        if self.waiting:
            self._grow()
        elif not self.procs and not self.starting:
            self._fork()

    def _became_idle(self, proc):
        """Processes beyond the first stop after idle_s without a call (checked lazily: the timer
        is not cancelled when a call comes, it looks at last_used when it fires)."""
        if len(self.procs) <= 1 or proc.idle_timer is not None:
            return

        def check_idle():
            proc.idle_timer = None
            if proc.retired or not proc.alive or len(self.procs) <= 1:
                return
            left = proc.last_used + self.idle_s - time.time()
            if proc.jobs or left > 0:
                proc.idle_timer = self.loop.call_later(max(left, 0.05) if not proc.jobs else self.idle_s, check_idle)
                return
            proc.retired = True
            self.log('debug', 'stopping idle handler process %d' % proc.pid)
            self._kill(proc)
            self._exited(proc)

        proc.idle_timer = self.loop.call_later(self.idle_s, check_idle)
