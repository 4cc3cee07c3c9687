# -*- coding:utf-8 -*-
"""json.loads and json.dumps with their default arguments, without importing the json package:
on Python 3 it loads re, enum and collections, 1.1 MB of every process that imports it (80 KB on
Python 2). json itself runs its C scanner and encoder (_json) for these defaults; this module runs
the same two, and redoes what json adds around them:
- the encoding json guesses for bytes (Python 3: a BOM, else where the zero bytes are);
- the JSON whitespace around the document, and "extra data" after it;
- the TypeError for a value JSON cannot encode, which is json's own (json is imported for it: its
  wording differs between Python versions).
The C scanner imports json.decoder itself to raise a malformed document's error (after `{`, say);
a payload that does not start like JSON, or is not text, is refused without it."""
import sys

PY2 = sys.version_info[0] == 2

try:
    from _json import encode_basestring_ascii as _ascii, make_encoder as _make_encoder, make_scanner as _make_scanner
except ImportError:  # an interpreter without json's C part: json itself
    _make_scanner = None

_json_package = None


def _json_module():
    """The json package, imported on first need (a value it must refuse, or no _json)."""
    global _json_package
    if _json_package is None:
        import json
        _json_package = json
    return _json_package


class _Decoding(object):
    """What the C scanner reads off its decoder: json.loads' defaults."""
    strict = True
    object_hook = None
    object_pairs_hook = None
    parse_float = float
    parse_int = int
    parse_constant = float  # NaN, Infinity, -Infinity: float() reads all three
    encoding = 'utf-8'  # Python 2, for str documents
    memo = None


_scan = _make_scanner(_Decoding()) if _make_scanner else None
_SPACE = u' \t\n\r'  # JSON's whitespace, not str.isspace's


def _skip_space(text, i):
    n = len(text)
    while i < n and text[i] in _SPACE:
        i += 1
    return i


def _encoding_of(data):
    """The codec json.loads (Python 3) reads bytes with: a BOM's, else UTF-16 or UTF-32 when the
    first characters, ASCII in any JSON document, have zero bytes, else UTF-8."""
    head = bytearray(data[:4])
    if head in (b'\x00\x00\xfe\xff', b'\xff\xfe\x00\x00'):
        return 'utf-32'
    if head[:2] in (b'\xfe\xff', b'\xff\xfe'):
        return 'utf-16'
    if head[:3] == b'\xef\xbb\xbf':
        return 'utf-8-sig'
    if len(head) == 4:
        if not head[0]:
            return 'utf-16-be' if head[1] else 'utf-32-be'
        if not head[1]:
            return 'utf-16-le' if head[2] or head[3] else 'utf-32-le'
    elif len(head) == 2:
        if not head[0]:
            return 'utf-16-be'
        if not head[1]:
            return 'utf-16-le'
    return 'utf-8'


def loads(data):
    """json.loads(data); raises a ValueError (UnicodeDecodeError is one) for what is not JSON."""
    if _scan is None:
        return _json_module().loads(data)
    if PY2 or not isinstance(data, (bytes, bytearray)):
        text = data
        if not PY2 and text.startswith(u'\ufeff'):
            raise ValueError('Unexpected UTF-8 BOM (decode using utf-8-sig): line 1 column 1 (char 0)')
    else:
        text = data.decode(_encoding_of(data), 'surrogatepass')
    start = _skip_space(text, 0)
    try:
        value, end = _scan(text, start)
    except StopIteration as stop:
        raise ValueError('Expecting value: char %s' % (stop.args[0] if stop.args else start))
    end = _skip_space(text, end)
    if end != len(text):
        raise ValueError('Extra data: char %d' % end)
    return value


def _unencodable(value):
    return _json_module().JSONEncoder().default(value)  # raises json's own TypeError


def dumps(value):
    """json.dumps(value): ASCII text, ', ' and ': ' between items, circular references refused."""
    if _scan is None:
        return _json_module().dumps(value)
    # The arguments json's encoder passes for these defaults: markers (a fresh dict: the encoder
    # leaves ids in it when it raises), default, string encoder, indent, key and item separators,
    # sort_keys, skipkeys, allow_nan.
    chunks = _make_encoder({}, _unencodable, _ascii, None, ': ', ', ', False, False, True)(value, 0)
    return ''.join(chunks)
