"""Reader of the frames a server sends most: whole, unmasked text and binary frames.

websockets' Sans-I/O parser reads every frame through generator coroutines, an
Opcode enum, a Frame dataclass and its check(); that costs about 4 us per frame
here, more than everything the client does with the message (bench/client/).
``scan`` handles the common case in a few integer operations per frame and
leaves every other frame to that parser, so RFC 6455 stays websockets' job:

- a whole text or binary frame (FIN set, RSV bits clear, unmasked, within the
  size limit, outside a fragmented message) becomes a message in ``out``
  (text decoded as strict UTF-8);
- a well-formed control frame or fragment is handed back whole (HANDOFF), for
  the transport to feed to the protocol exactly, so that its parser always sits
  at a frame boundary;
- anything the protocol would reject from the header on (masked frame, unknown
  opcode, reserved bit, control frame over 125 bytes or fragmented, data frame
  inside a fragmented message or continuation outside one, frame over the
  limit) is FAIL: the transport gives the protocol everything from there on and
  it closes the connection with the right code (1002, 1009);
- a text frame that is not UTF-8 is BAD_UTF8 (the transport closes with 1007).

Pure function of its arguments; fuzzed against websockets' own parser
(tests/test_frames.py).
"""

from __future__ import annotations

from typing import Final

Message = str | bytes

NEED: Final = 0  # buf[pos:] holds no whole frame yet: `size` bytes from pos are needed
HANDOFF: Final = 1  # the frame at pos (`size` bytes, all there) is the protocol's: control or fragment
FAIL: Final = 2  # the frame at pos is invalid from its header on: the protocol must see the rest now
BAD_UTF8: Final = 3  # the text frame at pos (`size` bytes) is not valid UTF-8

_CONT, _TEXT, _BINARY, _CLOSE, _PING, _PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA


def scan(
    buf: bytes, pos: int, limit: int | None, fragmented: bool, out: list[Message]
) -> tuple[int, int, int]:
    """Appends to ``out`` the messages of the whole data frames from ``buf[pos:]``
    and returns ``(pos, verdict, size)`` for the first frame it did not take.

    ``limit`` is the largest payload the protocol accepts now (None: no limit);
    ``fragmented`` says the protocol is inside a fragmented message (then every
    frame is left to it). ``size`` is the frame's length in bytes (NEED: how many
    bytes from ``pos`` are needed to know more, header or whole frame).
    """
    n = len(buf)
    append = out.append
    while True:
        if n - pos < 2:
            return pos, NEED, 2
        b0 = buf[pos]
        length = buf[pos + 1]
        if length < 126:  # unmasked, 7-bit length: nearly every frame
            start = pos + 2
        elif length == 126:
            if n - pos < 4:
                return pos, NEED, 4
            length = (buf[pos + 2] << 8) | buf[pos + 3]
            start = pos + 4
        elif length == 127:
            if n - pos < 10:
                return pos, NEED, 10
            length = int.from_bytes(buf[pos + 2 : pos + 10], "big")
            start = pos + 10
        else:  # the mask bit: a server never masks (RFC 6455 5.1)
            return pos, FAIL, 0
        if limit is not None and length > limit:
            return pos, FAIL, 0
        end = start + length
        if b0 == 0x81 and not fragmented:  # FIN + text
            if end > n:
                return pos, NEED, end - pos
            try:
                append(buf[start:end].decode())
            except UnicodeDecodeError:
                return pos, BAD_UTF8, end - pos
            pos = end
            continue
        if b0 == 0x82 and not fragmented:  # FIN + binary
            if end > n:
                return pos, NEED, end - pos
            append(buf[start:end])
            pos = end
            continue
        opcode = b0 & 0x0F
        fin = b0 & 0x80
        if b0 & 0x70:  # RSV1-3: no extension is negotiated
            return pos, FAIL, 0
        if opcode >= _CLOSE:
            if opcode > _PONG or length > 125 or not fin:
                return pos, FAIL, 0
        elif opcode == _CONT:
            if not fragmented:
                return pos, FAIL, 0
        elif opcode > _BINARY or fragmented:  # reserved opcode, or a new message inside one
            return pos, FAIL, 0
        if end > n:
            return pos, NEED, end - pos
        return pos, HANDOFF, end - pos
