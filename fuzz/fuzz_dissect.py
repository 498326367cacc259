"""Fuzz target: ``dissectors.packet.dissect`` on every link type, strict (no safety net).

The first input byte picks the link type (every supported one, plus one vrrpscope does not
decode); the rest is the frame. ``dissect(..., strict=True)`` has no exception safety net, so a
decoder bug raises here and atheris keeps the input as a crash. The result must be ``None`` or a
:class:`~dissectors.records.Dissected`, and must survive the decode-contract JSON rendering.
"""

from __future__ import annotations

import sys

LINKTYPES = (1, 101, 113, 228, 229, 276, 147)  #: Ethernet, raw, SLL, IPv4, IPv6, SLL2, USER0 (unsupported)


def split(data: bytes) -> tuple[int, bytes]:
    """(link type, frame) from a fuzz input: the first byte selects the link type."""
    if not data:
        return LINKTYPES[0], b""
    return LINKTYPES[data[0] % len(LINKTYPES)], data[1:]


def check_one(data: bytes) -> None:
    """Dissect one fuzz input strictly and render it; raise on any contract violation."""
    from dissectors.packet import dissect
    from dissectors.records import Dissected, LinkInfo
    from vrrpscope.decode import packet_line, packet_record
    from vrrpscope.model import Packet

    linktype, frame = split(data)
    result = dissect(linktype, frame, strict=True)
    if result is None:
        return
    if not isinstance(result, Dissected) or not isinstance(result.link, LinkInfo):
        raise AssertionError(f"dissect returned {type(result).__name__}")
    packet = Packet(0, "fuzz", 1, 0.0, "if0", result.link, result.ip, result.message)
    import json

    json.dumps(packet_record(packet, show_secrets=True))
    packet_line(packet, show_secrets=True)


def main(argv: list[str]) -> None:
    """libFuzzer entry point (``python fuzz/fuzz_dissect.py [libFuzzer flags] [corpus dirs]``)."""
    import atheris

    with atheris.instrument_imports():
        import dissectors.packet  # noqa: F401
        import vrrpscope.decode  # noqa: F401
    atheris.Setup(argv, check_one)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
