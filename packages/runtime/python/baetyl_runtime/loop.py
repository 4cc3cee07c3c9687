# -*- coding:utf-8 -*-
"""The server's event loop: poll(2) over every file descriptor, and timers on a heap. One thread
does everything, so nothing is locked."""
import errno
import heapq
import itertools
import select
import time

READ = select.POLLIN | select.POLLPRI
WRITE = select.POLLOUT
HANGUP = select.POLLHUP | select.POLLERR | select.POLLNVAL


class Timer(object):
    __slots__ = ('at', 'fn', 'cancelled', 'loop')

    def __init__(self, loop, at, fn):
        self.loop = loop
        self.at = at
        self.fn = fn
        self.cancelled = False

    def cancel(self):
        if not self.cancelled:
            self.cancelled = True
            self.loop._cancelled_one()


class Loop(object):
    def __init__(self):
        self.poller = select.poll()
        self.handlers = {}
        self.events = {}
        self.timers = []
        self.cancelled = 0
        self.order = itertools.count()
        # Run at the end of every turn, after all events: where batched output is flushed.
        self.after_turn = []
        self.running = True

    def watch(self, fd, events, handler):
        """handler(fd, revents) runs when fd is ready for any of `events`."""
        self.handlers[fd] = handler
        self.events[fd] = events
        self.poller.register(fd, events)

    def change(self, fd, events):
        if fd in self.events and self.events[fd] != events:
            self.events[fd] = events
            self.poller.modify(fd, events)

    def forget(self, fd):
        if self.handlers.pop(fd, None) is not None:
            self.events.pop(fd, None)
            try:
                self.poller.unregister(fd)
            except (KeyError, ValueError):
                pass

    def call_at(self, at, fn):
        """Runs fn at `at` (seconds since the epoch, as time.time())."""
        timer = Timer(self, at, fn)
        heapq.heappush(self.timers, (at, next(self.order), timer))
        return timer

    def _cancelled_one(self):
        # Cancelled timers wait on the heap until their time; when they are most of it, drop them.
        self.cancelled += 1
        if self.cancelled > 64 and self.cancelled * 2 > len(self.timers):
            self.timers = [t for t in self.timers if not t[2].cancelled]
            heapq.heapify(self.timers)
            self.cancelled = 0

    def call_later(self, delay, fn):
        return self.call_at(time.time() + delay, fn)

    def _timeout_ms(self):
        while self.timers and self.timers[0][2].cancelled:
            heapq.heappop(self.timers)
            self.cancelled -= 1
        if not self.timers:
            return None
        return max(0, int((self.timers[0][0] - time.time()) * 1000) + 1)

    def run_once(self):
        try:
            ready = self.poller.poll(self._timeout_ms())
        except (OSError, select.error) as err:  # noqa: B014 - select.error on Python 2
            code = err.args[0] if err.args else None
            if code != errno.EINTR:
                raise
            ready = []
        for fd, revents in ready:
            handler = self.handlers.get(fd)
            if handler is not None:
                handler(fd, revents)
        now = time.time()
        while self.timers and (self.timers[0][0] <= now or self.timers[0][2].cancelled):
            timer = heapq.heappop(self.timers)[2]
            if timer.cancelled:
                self.cancelled -= 1
            else:
                timer.cancelled = True  # fired: a later cancel() is a no-op
                timer.fn()
        for fn in self.after_turn:
            fn()

    def run(self):
        while self.running:
            self.run_once()
