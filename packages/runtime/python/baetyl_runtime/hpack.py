# -*- coding:utf-8 -*-
"""HPACK (RFC 7541): the header decoder an HTTP/2 server needs, and the few encodings it sends.

Decoding covers everything a client may send: indexed fields, literals with and without
indexing, never-indexed literals, dynamic table size updates, Huffman strings and the dynamic
table with its evictions. Encoding stays minimal: our answers are literals without indexing (so
the peer's table is never touched) and are built once, since they are always the same.
"""

# RFC 7541 Appendix A.
_STATIC_NAMES = (
    ':authority', ':method', ':method', ':path', ':path', ':scheme', ':scheme', ':status', ':status',
    ':status', ':status', ':status', ':status', ':status', 'accept-charset', 'accept-encoding',
    'accept-language', 'accept-ranges', 'accept', 'access-control-allow-origin', 'age', 'allow',
    'authorization', 'cache-control', 'content-disposition', 'content-encoding', 'content-language',
    'content-length', 'content-location', 'content-range', 'content-type', 'cookie', 'date', 'etag',
    'expect', 'expires', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-range',
    'if-unmodified-since', 'last-modified', 'link', 'location', 'max-forwards', 'proxy-authenticate',
    'proxy-authorization', 'range', 'referer', 'refresh', 'retry-after', 'server', 'set-cookie',
    'strict-transport-security', 'transfer-encoding', 'user-agent', 'vary', 'via', 'www-authenticate',
)
_STATIC_VALUES = {
    2: 'GET', 3: 'POST', 4: '/', 5: '/index.html', 6: 'http', 7: 'https', 8: '200', 9: '204', 10: '206',
    11: '304', 12: '400', 13: '404', 14: '500', 16: 'gzip, deflate',
}
STATIC_TABLE = tuple(
    (name.encode('ascii'), _STATIC_VALUES.get(i + 1, '').encode('ascii')) for i, name in enumerate(_STATIC_NAMES)
)

# RFC 7541 Appendix B, as the code length of each symbol 0..256 (chr(48 + bits)). The code is
# canonical: codes follow from the lengths, shortest first, then by symbol.
_HUFFMAN_LENGTHS = (
    '=GLLLLLLLHNLLNLLLLLLLLNLLLLLLLLL6::<=68;::8;8666555666666678?6<:=6777777777777777777777787'
    '8=C=>6?56565666577666567655677777?;>=LDFDDFFFGFGGGGGHGHHFGHGGGGEFGFGGHFEDFFGGEGFFHEFGGEEF'
    'EGFGGDFFFGFFGJJDCFGFIJJJKKJHICEJKKJKHEEJJLKKKDHDEFEEGFFIIHHJGJKJJKKKKKLKKKKKJN'
)
EOS = 256


class HpackError(Exception):
    """A header block that cannot be decoded: a COMPRESSION_ERROR for the connection."""


def _canonical_tables():
    lengths = [ord(c) - 48 for c in _HUFFMAN_LENGTHS]
    order = sorted(range(len(lengths)), key=lambda s: (lengths[s], s))
    # For each length: the first code of that length, how many codes it has, and where its
    # symbols start in `order`.
    first, count, offset = {}, {}, {}
    code, prev = 0, lengths[order[0]]
    for i, sym in enumerate(order):
        if i:
            code = (code + 1) << (lengths[sym] - prev)
        prev = lengths[sym]
        if lengths[sym] not in first:
            first[lengths[sym]] = code
            offset[lengths[sym]] = i
        count[lengths[sym]] = count.get(lengths[sym], 0) + 1
    return order, first, count, offset


_ORDER, _FIRST, _COUNT, _OFFSET = _canonical_tables()
_MIN_BITS = min(_FIRST)
_LIMIT = tuple((_FIRST[n], _FIRST[n] + _COUNT[n], _OFFSET[n]) if n in _FIRST else None for n in range(31))


def huffman_decode(data):
    """Decodes a Huffman string (a bytearray slice); raises HpackError on EOS or bad padding."""
    out = bytearray()
    code = 0
    bits = 0
    for byte in data:
        for shift in (7, 6, 5, 4, 3, 2, 1, 0):
            code = (code << 1) | ((byte >> shift) & 1)
            bits += 1
            if bits < _MIN_BITS:
                continue
            entry = _LIMIT[bits] if bits < 31 else None
            if entry is not None and entry[0] <= code < entry[1]:
                sym = _ORDER[entry[2] + code - entry[0]]
                if sym == EOS:
                    raise HpackError('a Huffman string contains EOS')
                out.append(sym)
                code = 0
                bits = 0
            elif bits >= 30:
                raise HpackError('a Huffman string holds an invalid code')
    # What is left must be a prefix of EOS (all ones), shorter than a byte.
    if bits > 7 or code != (1 << bits) - 1:
        raise HpackError('a Huffman string is padded wrongly')
    return bytes(out)


class Decoder(object):
    """One connection's HPACK decoder, with its dynamic table."""

    def __init__(self, max_table_size=4096):
        # The most the peer may set the table to (our SETTINGS_HEADER_TABLE_SIZE).
        self.max_allowed = max_table_size
        self.max_size = max_table_size
        self.size = 0
        # Newest first, so index 62 is dynamic[0].
        self.dynamic = []

    def _add(self, name, value):
        entry_size = len(name) + len(value) + 32
        if entry_size > self.max_size:
            # RFC 7541 4.4: an entry larger than the table empties it and is not added.
            self.dynamic = []
            self.size = 0
            return
        self.dynamic.insert(0, (name, value))
        self.size += entry_size
        self._evict()

    def _evict(self):
        while self.size > self.max_size and self.dynamic:
            name, value = self.dynamic.pop()
            self.size -= len(name) + len(value) + 32

    def _entry(self, index):
        if index <= 0:
            raise HpackError('header index 0 is invalid')
        if index <= 61:
            return STATIC_TABLE[index - 1]
        pos = index - 62
        if pos >= len(self.dynamic):
            raise HpackError('header index %d is beyond the table (%d entries)' % (index, 61 + len(self.dynamic)))
        return self.dynamic[pos]

    def decode(self, block):
        """The header list of one block (bytes), as [(name, value)] of bytes."""
        data = bytearray(block)
        end = len(data)
        pos = 0
        headers = []
        seen_field = False
        while pos < end:
            b = data[pos]
            if b & 0x80:  # indexed field
                index, pos = _integer(data, pos, 7)
                headers.append(self._entry(index))
                seen_field = True
            elif b & 0x40:  # literal with incremental indexing
                name, value, pos = self._literal(data, pos, 6)
                self._add(name, value)
                headers.append((name, value))
                seen_field = True
            elif b & 0x20:  # dynamic table size update
                if seen_field:
                    raise HpackError('a table size update after a header field')
                size, pos = _integer(data, pos, 5)
                if size > self.max_allowed:
                    raise HpackError('table size update to %d exceeds SETTINGS_HEADER_TABLE_SIZE %d' % (size, self.max_allowed))
                self.max_size = size
                self._evict()
            else:  # literal without indexing (0000) or never indexed (0001)
                name, value, pos = self._literal(data, pos, 4)
                headers.append((name, value))
                seen_field = True
        return headers

    def _literal(self, data, pos, prefix):
        index, pos = _integer(data, pos, prefix)
        if index:
            name = self._entry(index)[0]
        else:
            name, pos = _string(data, pos)
        value, pos = _string(data, pos)
        return name, value, pos


def _integer(data, pos, prefix):
    """An HPACK integer with an N-bit prefix (RFC 7541 5.1); (value, next position)."""
    if pos >= len(data):
        raise HpackError('a header block ends inside an integer')
    mask = (1 << prefix) - 1
    value = data[pos] & mask
    pos += 1
    if value < mask:
        return value, pos
    shift = 0
    while True:
        if pos >= len(data):
            raise HpackError('a header block ends inside an integer')
        b = data[pos]
        pos += 1
        value += (b & 0x7f) << shift
        shift += 7
        if not b & 0x80:
            return value, pos
        if shift > 28:
            raise HpackError('an integer in a header block is too large')


def _string(data, pos):
    if pos >= len(data):
        raise HpackError('a header block ends before a string')
    huffman = data[pos] & 0x80
    length, pos = _integer(data, pos, 7)
    if pos + length > len(data):
        raise HpackError('a header string runs past the end of its block')
    raw = data[pos:pos + length]
    pos += length
    if huffman:
        return huffman_decode(raw), pos
    return bytes(raw), pos


def encode_integer(value, prefix, first_bits=0):
    mask = (1 << prefix) - 1
    if value < mask:
        return bytearray([first_bits | value])
    out = bytearray([first_bits | mask])
    value -= mask
    while value >= 0x80:
        out.append((value & 0x7f) | 0x80)
        value >>= 7
    out.append(value)
    return out


def encode_literal(name, value):
    """A literal field without indexing, with a literal name; no Huffman (bytes in, bytes out)."""
    out = bytearray([0])
    out += encode_integer(len(name), 7)
    out += name
    out += encode_integer(len(value), 7)
    out += value
    return bytes(out)


def encode_indexed(index):
    return bytes(encode_integer(index, 7, 0x80))


def encode_indexed_name(index, value):
    """A literal without indexing whose name is in the static table."""
    out = encode_integer(index, 4)
    out += encode_integer(len(value), 7)
    out += value
    return bytes(out)
