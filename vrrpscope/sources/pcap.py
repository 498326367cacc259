"""Classic libpcap files: both byte orders, microsecond and nanosecond timestamps.

Layout (tcpdump.org/manpages/pcap-savefile.5, draft-ietf-opsawg-pcap): a 24-byte file header
(magic, version 2.4, thiszone, sigfigs, snaplen, link type) then records of a 16-byte header
(ts_sec, ts_usec or ts_nsec, caplen, len) and ``caplen`` bytes of data.

``thiszone`` is ignored, as libpcap and Wireshark ignore it (writers always put 0 there). The link
type field's top bits carry FCS information; the type is its low 26 bits (libpcap's
``LT_LINKTYPE``).

Damage handling: a caplen above :data:`MAX_RECORD` means the record header is garbage; the walker
reports ``record_too_large`` and looks ahead for the next plausible record header (two consecutive
headers with sane lengths and timestamps close to the last good frame), so the rest of the capture
is still read; the skipped bytes use up no frame number. A caplen above the file's snaplen (but
within the maximum) is kept and reported once (``caplen_exceeds_snaplen``). A record cut by the
end of the file (tcpdump killed mid-write, the most common real damage) ends the walk with a
fatal ``truncated_record`` after every complete frame was yielded.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator

from dissectors.packet import candidate_at, is_candidate
from vrrpscope.sources import accel
from vrrpscope.sources.base import LINKTYPE_ETHERNET, SUPPORTED_LINKTYPES, Frame, SourceProblem
from vrrpscope.sources.context import INF, MAX_RECORD, RESYNC_LIMIT, ReadContext, Unpack
from vrrpscope.sources.stream import Window

#: magic bytes as they appear in the file -> (struct byte order, nanosecond timestamps)
PCAP_MAGICS: dict[bytes, tuple[str, bool]] = {
    b"\xd4\xc3\xb2\xa1": ("<", False),
    b"\xa1\xb2\xc3\xd4": (">", False),
    b"\x4d\x3c\xb2\xa1": ("<", True),
    b"\xa1\xb2\x3c\x4d": (">", True),
}

FILE_HEADER_LEN = 24
RECORD_HEADER_LEN = 16

_DAY = 86_400
#: During resync a candidate's timestamp must lie within this window around the last good one.
_RESYNC_BACK = _DAY
_RESYNC_AHEAD = 400 * _DAY
#: During resync a candidate's original length must not exceed this (jumbo, GRO and BIG TCP fit).
_RESYNC_MAX_WIRE = 1 << 24
_RESYNC_STEP = 1 << 18


def walk_pcap(win: Window, ctx: ReadContext, magic: bytes) -> Iterator[Frame | SourceProblem]:
    """Yield the frames of a classic pcap stream positioned at its file header.

    ``magic`` is one of :data:`PCAP_MAGICS` (the caller has checked it). Updates ``ctx.stats``
    before every yield. Never raises on bad input.
    """
    endian, nano = PCAP_MAGICS[magic]
    if not win.fill(FILE_HEADER_LEN):
        yield ctx.problem(
            None,
            0,
            "truncated_header",
            f"pcap file header cut short: {win.available} of {FILE_HEADER_LEN} bytes",
            True,
        )
        return
    _magic, _vmaj, _vmin, _zone, _sigfigs, snaplen, network = struct.unpack_from(endian + "IHHiIII", win.buf, win.pos)
    linktype = network & 0x03FFFFFF
    fname = ctx.file
    stats = ctx.stats
    stats.linktypes.add(linktype)
    stats.interfaces[0] = None
    if linktype not in SUPPORTED_LINKTYPES:
        yield ctx.problem(
            None,
            win.offset + 20,
            "unknown_linktype",
            f"link type {linktype} is not supported; its frames are counted but not decoded",
        )
    win.skip(FILE_HEADER_LEN)

    hdr = struct.Struct(endian + "IIII").unpack_from
    div = 1e9 if nano else 1e6
    # One comparison per record covers both the snaplen note and the absurd-length damage.
    limit = min(snaplen, MAX_RECORD) if snaplen else MAX_RECORD
    prefilter = ctx.prefilter
    number = 0
    nbytes = 0
    tmin = INF
    tmax = -INF
    t = 0.0

    # With the standard pre-filter, records are tested in place (no slice for rejected frames).
    # For Ethernet, one unpack reads the record header, the ethertype and the byte where an
    # untagged IPv4 header keeps its protocol; plain IPv4 that is neither VRRP nor AH (nearly all
    # traffic) is rejected right there, everything else goes through candidate_at.
    in_place = prefilter is is_candidate
    # The compiled loop (accel) skips rejected records of any link type; without it, a Python
    # loop does so for Ethernet.
    run = accel.walk.pcap_run if in_place and accel.walk is not None else None
    big = endian == ">"
    fast_eth = in_place and run is None and linktype == LINKTYPE_ETHERNET
    # Ethertype 0x0800 as read in the file's byte order by the unpack below.
    et_ipv4 = 0x0800 if endian == ">" else 0x0008
    eth_hdr = struct.Struct(endian + "IIII12xH9xB").unpack_from

    buf = win.buf
    pos = win.pos
    end = len(buf)
    # True while buf is a private copy of one record that straddled two chunks (the window is
    # already past it).
    detached = False
    while True:
        if run is not None:
            pos, n, nb, tmin, tmax, t = run(buf, pos, end, big, linktype, limit, div, tmin, tmax, t)
            number += n
            nbytes += nb
        elif fast_eth:
            # Hot loop for Ethernet with the standard pre-filter: leaves for the general loop
            # below at the first record it cannot decide alone (a candidate, a short or
            # oversize record, the end of the buffer).
            while end - pos >= 40:
                sec, frac, cap, wire, et, proto = eth_hdr(buf, pos)
                # A record shorter than 24 bytes lends ``et``/``proto`` from the next record; that
                # is harmless because this loop only rejects, and is_candidate rejects such a
                # short frame too (no IPv4 protocol byte) unless it is ARP/VLAN/IPv6, all of
                # which leave the loop.
                if cap > limit or et != et_ipv4 or proto == 112 or proto == 51:
                    break
                npos = pos + 16 + cap
                if npos > end:
                    break
                number += 1
                nbytes += cap
                pos = npos
                t = sec + frac / div
                if t > tmax:
                    tmax = t
                if t < tmin:
                    tmin = t
        if end - pos >= RECORD_HEADER_LEN:
            sec, frac, cap, wire = hdr(buf, pos)
            npos = pos + RECORD_HEADER_LEN + cap
            if npos <= end and cap <= limit:
                number += 1
                t = sec + frac / div
                start = pos + RECORD_HEADER_LEN
                pos = npos
                nbytes += cap
                if t < tmin:
                    tmin = t
                if t > tmax:
                    tmax = t
                if in_place:
                    if not candidate_at(linktype, buf, start, npos):
                        continue
                    data = buf[start:npos]
                else:
                    data = buf[start:npos]
                    if prefilter is not None and not prefilter(linktype, data):
                        continue
                stats.frames = number
                stats.bytes = nbytes
                stats.first_time = tmin
                stats.last_time = tmax
                yield Frame(number, t, linktype, data, wire, 0, None, fname)
                continue

        # Slow path, about once per chunk: a record straddling two chunks, the end of the
        # input, or a captured length above the limit.
        if detached:
            buf = win.buf
            pos = win.pos
            end = len(buf)
            detached = False
            continue
        # Once per chunk: the counters become visible (progress) even when no frame is yielded.
        ctx.sync(number, nbytes, tmin, tmax)
        win.pos = pos
        offset = win.offset
        head = win.peek(RECORD_HEADER_LEN)
        if len(head) < RECORD_HEADER_LEN:
            ctx.sync(number, nbytes, tmin, tmax)
            if head:
                yield ctx.problem(
                    number + 1,
                    offset,
                    "truncated_record",
                    f"record header cut short at the end of the file: {len(head)} of {RECORD_HEADER_LEN} bytes",
                    True,
                )
            return
        sec, frac, cap, wire = hdr(head, 0)
        if cap > limit:
            ctx.sync(number, nbytes, tmin, tmax)
            if cap <= MAX_RECORD:
                yield ctx.problem(
                    number + 1,
                    offset,
                    "caplen_exceeds_snaplen",
                    f"frame has {cap} captured bytes but the file's snaplen is {snaplen}; frame kept "
                    "(further such frames in this file are not reported)",
                )
                limit = MAX_RECORD
                continue
            skipped = _resync(win, hdr, endian == ">", limit, div, int(t) if number else None)
            what = f"record header claims {cap} captured bytes (the maximum is {MAX_RECORD}): damaged record"
            if skipped is None:
                yield ctx.problem(
                    number + 1,
                    offset,
                    "record_too_large",
                    f"{what}; no valid record found after it, reading stopped",
                    True,
                )
                return
            yield ctx.problem(
                number + 1,
                offset,
                "record_too_large",
                f"{what}; skipped {skipped} bytes, reading resumed at byte offset {win.offset}",
            )
            buf = win.buf
            pos = win.pos
            end = len(buf)
            continue
        rec = win.peek(RECORD_HEADER_LEN + cap)
        if len(rec) < RECORD_HEADER_LEN + cap:
            ctx.sync(number, nbytes, tmin, tmax)
            yield ctx.problem(
                number + 1,
                offset,
                "truncated_record",
                f"record cut short at the end of the file: {len(rec) - RECORD_HEADER_LEN} of "
                f"{cap} captured bytes present",
                True,
            )
            return
        win.skip(RECORD_HEADER_LEN + cap)
        buf = rec
        pos = 0
        end = len(rec)
        detached = True


def _resync(
    win: Window,
    hdr: Unpack,
    big_endian: bool,
    cap_limit: int,
    fracmax: float,
    last_sec: int | None,
) -> int | None:
    """Find the next plausible record header after the damaged one at ``win.pos``.

    A candidate needs a captured length within ``cap_limit`` and not above its original length,
    a sub-second field below one second, a timestamp near ``last_sec`` (when a good frame was
    seen), and a plausible record right after it (or the exact end of the file). On success,
    ``win.pos`` is moved there and the number of bytes skipped is returned; ``None`` if nothing
    was found within :data:`RESYNC_LIMIT` bytes (a sixteenth of that when no good frame came
    before) or before the end of the file.
    """
    start = win.offset
    lookahead = 2 * (RECORD_HEADER_LEN + MAX_RECORD)
    pattern: re.Pattern[bytes] | None = None
    top_at = 0 if big_endian else 3
    if last_sec is None:
        lo, hi = 0, 0xFFFFFFFF
    else:
        lo = max(0, last_sec - _RESYNC_BACK)
        hi = min(0xFFFFFFFF, last_sec + _RESYNC_AHEAD)
        # The top byte of ts_sec only takes a couple of values in that window: let re find them.
        tops = b"".join(re.escape(bytes([b])) for b in range(lo >> 24, (hi >> 24) + 1))
        pattern = re.compile(b"[" + tops + b"]")

    def plausible(sec: int, frac: int, cap: int, wire: int, lo: int, hi: int) -> bool:
        return cap <= cap_limit and cap <= wire <= _RESYNC_MAX_WIRE and frac < fracmax and lo <= sec <= hi

    # Without a timestamp to anchor on every byte is a candidate: look less far.
    limit = RESYNC_LIMIT if pattern is not None else RESYNC_LIMIT // 16
    o = win.pos + 1
    while win.base + o - start <= limit:
        win.pos = o
        win.fill(_RESYNC_STEP + lookahead)
        buf = win.buf
        o = win.pos
        end = len(buf)
        stop = min(o + _RESYNC_STEP, end - RECORD_HEADER_LEN + 1)
        if stop <= o:
            return None
        if pattern is not None:
            candidates: Iterator[int] = (m.start() - top_at for m in pattern.finditer(buf, o + top_at, stop + top_at))
        else:
            candidates = iter(range(o, stop))
        for p in candidates:
            sec, frac, cap, wire = hdr(buf, p)
            if not plausible(sec, frac, cap, wire, lo, hi):
                continue
            q = p + RECORD_HEADER_LEN + cap
            if q == end and win.eof:
                win.pos = p
                return win.offset - start
            if q + RECORD_HEADER_LEN <= end:
                sec2, frac2, cap2, wire2 = hdr(buf, q)
                if plausible(sec2, frac2, cap2, wire2, sec - _RESYNC_BACK, sec + _RESYNC_AHEAD):
                    win.pos = p
                    return win.offset - start
        o = stop
    return None
