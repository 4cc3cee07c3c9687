# -*- coding:utf-8 -*-
"""The runtime's log, in the same forms as every other service's (packages/core/src/log): the
logrus text form `time=... level=info msg="..." key=value` (extra keys sorted) or JSON, to
`logger.path` with size-based rotation, and to stderr."""
import os
import sys
import time

LEVELS = {'debug': 0, 'info': 1, 'warn': 2, 'error': 3}
_SAFE = frozenset('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._/@^+:')


try:
    _TEXT = (str, unicode)  # noqa: F821 - Python 2
except NameError:
    _TEXT = (str,)


# json.dumps(text, ensure_ascii=False)'s escapes, so that the server process need not load json
# (and re behind it); the JSON form below loads it.
_ESCAPES = dict((chr(i), '\\u%04x' % i) for i in range(0x20))
_ESCAPES.update({'\\': '\\\\', '"': '\\"', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t'})


def json_string(text):
    """A str (or Python 2 unicode) as json.dumps(text, ensure_ascii=False) writes it."""
    return '"' + ''.join([_ESCAPES.get(c, c) for c in text]) + '"'


def _quote(value):
    text = value if isinstance(value, _TEXT) else str(value)
    if text and all(c in _SAFE for c in text):
        return text
    return json_string(text)


def _is_backup(name, stem, ext):
    """<stem><digits><ext>, maybe gzipped: service1.log, service12.log.gz."""
    if name.endswith('.gz'):
        name = name[:-3]
    if not (name.startswith(stem) and name.endswith(ext)):
        return False
    number = name[len(stem):len(name) - len(ext)]
    return number.isdigit()


def _timestamp():
    now = time.time()
    return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(now)) + '.%03dZ' % (int(now * 1000) % 1000)


def _normal_level(level):
    if level == 'warning':
        return 'warn'
    if level in ('fatal', 'panic'):
        return 'error'
    return level if level in LEVELS else 'info'


class Logger(object):
    def __init__(self, cfg, cwd, stderr=True):
        cfg = cfg or {}
        self.threshold = LEVELS[_normal_level(cfg.get('level', 'info'))]
        self.json = cfg.get('format') == 'json'
        self.stderr = stderr
        self.file = None
        self.path = None
        self.size = 0
        self.max_size = (cfg.get('size') or {}).get('max', 50) * 1024 * 1024
        backup = (cfg.get('backup') or {}).get('max') or (cfg.get('backupCount') or {}).get('max') or 15
        self.backups = backup
        self.age_days = (cfg.get('age') or {}).get('max', 15)
        self.pruned_at = 0
        path = cfg.get('path')
        if path:
            self.path = path if os.path.isabs(path) else os.path.join(cwd, path)
            self._open()
            self._prune()

    def _open(self):
        folder = os.path.dirname(self.path)
        if folder and not os.path.isdir(folder):
            os.makedirs(folder)
        self.file = open(self.path, 'ab')
        self.size = self.file.tell()

    def enabled(self, level):
        return LEVELS[level] >= self.threshold

    def __call__(self, level, message, **fields):
        self.write(level, message, fields)

    def write(self, level, message, fields=None):
        if LEVELS.get(level, 1) < self.threshold:
            return
        stamp = _timestamp()
        if self.json:
            import json
            record = [('level', level), ('message', message)]
            record += sorted((fields or {}).items())
            record.append(('timestamp', stamp))
            line = '{' + ','.join('%s:%s' % (json.dumps(k), json.dumps(v, ensure_ascii=False)) for k, v in record) + '}'
        else:
            line = 'time=%s level=%s msg=%s' % (stamp, level, _quote(message))
            for key in sorted(fields or {}):
                line += ' %s=%s' % (key, _quote(fields[key]))
        data = (line + '\n')
        if not isinstance(data, bytes):
            data = data.encode('utf-8', 'replace')
        if self.file is not None:
            try:
                self.file.write(data)
                self.file.flush()
                self.size += len(data)
                if self.size >= self.max_size:
                    self._rotate()
                elif time.time() - self.pruned_at > 3600:
                    self._prune()
            except (IOError, OSError):
                pass
        if self.stderr:
            try:
                os.write(2, data)
            except OSError:
                pass

    def _prune(self):
        """Removes backups (service1.log, ...) last written more than age.max days ago, as the
        other services' logs do; checked at most once an hour, when a line is written."""
        self.pruned_at = time.time()
        folder = os.path.dirname(self.path) or '.'
        stem, ext = os.path.splitext(os.path.basename(self.path))
        try:
            names = os.listdir(folder)
        except OSError:
            return
        for name in names:
            if not _is_backup(name, stem, ext):
                continue
            full = os.path.join(folder, name)
            try:
                if self.pruned_at - os.path.getmtime(full) > self.age_days * 86400:
                    os.remove(full)
            except OSError:
                pass

    def _rotate(self):
        """service.log -> service1.log -> service2.log ... (the newest backup is 1), as the other
        services' logs rotate."""
        self.file.close()
        base, ext = os.path.splitext(self.path)
        oldest = '%s%d%s' % (base, self.backups, ext)
        if os.path.exists(oldest):
            os.remove(oldest)
        for i in range(self.backups - 1, 0, -1):
            src = '%s%d%s' % (base, i, ext)
            if os.path.exists(src):
                os.rename(src, '%s%d%s' % (base, i + 1, ext))
        os.rename(self.path, '%s1%s' % (base, ext))
        self._open()

    def debug(self, message, **fields):
        self.write('debug', message, fields)

    def info(self, message, **fields):
        self.write('info', message, fields)

    def warn(self, message, **fields):
        self.write('warn', message, fields)

    def error(self, message, **fields):
        self.write('error', message, fields)


def stderr_line(text):
    data = text + '\n'
    if not isinstance(data, bytes):
        data = data.encode('utf-8', 'replace')
    try:
        os.write(2, data)
    except OSError:
        pass
    sys.stderr.flush()
