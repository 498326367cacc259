"""pcapng files (draft-ietf-opsawg-pcapng): sections, interfaces, packet and statistics blocks.

Every block is ``type, total length, body, total length``. Handled here:

- **SHB** (0x0A0D0D0A): starts a section; its byte-order magic sets the byte order of every block
  up to the next SHB, and a new section forgets the previous section's interfaces.
- **IDB** (1): one interface: link type, snaplen, ``if_name`` (2), ``if_tsresol`` (9: a power of
  10, or of 2 when the top bit is set; default 10^-6), ``if_tsoffset`` (14: seconds added to
  every timestamp).
- **EPB** (6): a packet on a given interface with a 64-bit timestamp in ``if_tsresol`` units.
- **SPB** (3): a packet on interface 0 with no timestamp and no captured length; its captured
  length is the smaller of the original length, the interface snaplen and the data in the block.
  **An SPB frame takes the time of the frame before it** (0.0 if it is the first frame) and does
  not move ``stats.first_time``/``last_time``.
- **OPB** (2, obsolete): like an EPB with a 16-bit interface id and a drop counter, which feeds
  ``stats.dropped`` for interfaces that have no ISB.
- **ISB** (5): the latest ``isb_ifdrop`` (5) of each interface, summed, is ``stats.dropped``.
- Anything else (NRB, DSB, custom, future blocks) is skipped silently, as the format intends.

Interface numbers in :class:`Frame` are global across sections (the first section's interfaces
are 0..n-1, the next section's continue from n), so two sections' "interface 0" never merge into
one segment. With a single section they equal the ``interface_id`` of the EPBs (Wireshark's
``frame.interface_id``).

A block length that is not a multiple of 4 is rounded up, as Wireshark does (some writers leave
the packet padding out of it), if the trailing copy then agrees with either value.

Damage: a block length below 12, above :data:`MAX_BLOCK`, or that disagrees with the trailing
copy of itself is ``bad_block_length`` (``record_too_large`` when
absurdly large); the walker then looks ahead for the next block whose leading and trailing
lengths agree and resumes there (the skipped bytes use up no frame number: nobody can tell how
many packets they held). A block cut by the end of the file is a fatal
``truncated_block``. A packet block that is damaged inside an intact block (captured length
beyond the block, unknown interface) is reported and skipped; it still uses up a frame number, so
later frame numbers match a reader that would have counted it.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Iterator
from typing import TypeAlias

from dissectors.packet import candidate_at, is_candidate
from vrrpscope.sources import accel
from vrrpscope.sources.base import LINKTYPE_ETHERNET, SUPPORTED_LINKTYPES, Frame, SourceProblem
from vrrpscope.sources.context import INF, MAX_BLOCK, MAX_RECORD, RESYNC_LIMIT, ReadContext
from vrrpscope.sources.stream import Window

SHB_MAGIC = b"\x0a\x0d\x0d\x0a"
BT_SHB = 0x0A0D0D0A
BT_IDB = 1
BT_OPB = 2
BT_SPB = 3
BT_NRB = 4
BT_ISB = 5
BT_EPB = 6
BYTE_ORDER_MAGIC = 0x1A2B3C4D
#: The byte-order magic of a big-endian section, read little-endian.
BYTE_ORDER_MAGIC_SWAPPED = 0x4D3C2B1A

OPT_ENDOFOPT = 0
OPT_IF_NAME = 2
OPT_IF_TSRESOL = 9
OPT_IF_TSOFFSET = 14
OPT_ISB_IFDROP = 5

_BLOCK_NAMES = {BT_SHB: "SHB", BT_IDB: "IDB", BT_OPB: "OPB", BT_SPB: "SPB", BT_ISB: "ISB", BT_EPB: "EPB"}
#: Smallest valid total length per block type (header, fixed body fields, trailer).
_MIN_LEN = {BT_SHB: 28, BT_IDB: 20, BT_OPB: 32, BT_SPB: 16, BT_ISB: 24, BT_EPB: 32}

#: One interface of the current section:
#: (global id, link type, caplen limit, timestamp divisor, tsoffset seconds, if_name, snaplen).
_Iface: TypeAlias = "tuple[int, int, int, int, int, str | None, int]"
_LE_U32 = struct.Struct("<I").unpack_from

_RESYNC_STEP = 1 << 18
# Resync candidates: block types this reader knows or that are registered (SHB, IDB..EPB, DSB,
# custom), in each byte order; zero-width so that overlapping candidates are all seen.
_CANDIDATES = {
    "<": re.compile(rb"(?=[\x01-\x06\x0a]\x00\x00\x00|\x0a\x0d\x0d\x0a|\xad\x0b\x00[\x00\x40])"),
    ">": re.compile(rb"(?=\x00\x00\x00[\x01-\x06\x0a]|\x0a\x0d\x0d\x0a|[\x00\x40]\x00\x0b\xad)"),
}


def _block_name(btype: int) -> str:
    return _BLOCK_NAMES.get(btype, f"type 0x{btype:08x}")


def _options(buf: bytes, start: int, stop: int, endian: str) -> tuple[list[tuple[int, bytes]], bool]:
    """Options between ``start`` and ``stop``: ``[(code, value)]`` and whether they overran."""
    out: list[tuple[int, bytes]] = []
    head = struct.Struct(endian + "HH").unpack_from
    p = start
    while p + 4 <= stop:
        code, length = head(buf, p)
        if code == OPT_ENDOFOPT:
            return out, False
        v = p + 4
        if v + length > stop:
            return out, True
        out.append((code, buf[v : v + length]))
        p = v + length + (-length & 3)
    # Fixed fields and padding keep ``p`` 4-aligned like ``stop``: unequal means the last option's
    # padding ran past the block.
    return out, p != stop


def _parse_idb(buf: bytes, pos: int, blen: int, endian: str) -> tuple[int, int, str | None, int, int, bool]:
    """An IDB's (link type, snaplen, if_name, timestamp divisor, tsoffset, options overran)."""
    linktype, _reserved, snaplen = struct.unpack_from(endian + "HHI", buf, pos + 8)
    opts, overrun = _options(buf, pos + 16, pos + blen - 4, endian)
    div = 1_000_000
    toff = 0
    ifname = None
    for code, value in opts:
        if code == OPT_IF_NAME:
            ifname = value.rstrip(b"\0").decode("utf-8", "replace")
        elif code == OPT_IF_TSRESOL and len(value) >= 1:
            # Top bit set: a negative power of 2; otherwise of 10 (pcapng section 4.2).
            div = 2 ** (value[0] & 0x7F) if value[0] & 0x80 else 10 ** value[0]
        elif code == OPT_IF_TSOFFSET and len(value) == 8:
            (toff,) = struct.unpack(endian + "q", value)
    return linktype, snaplen, ifname, div, toff, overrun


def _isb_ifdrop(buf: bytes, pos: int, blen: int, endian: str) -> int | None:
    """The ``isb_ifdrop`` option of an ISB, if present."""
    opts, _overrun = _options(buf, pos + 20, pos + blen - 4, endian)
    drop = None
    for code, value in opts:
        if code == OPT_ISB_IFDROP and len(value) == 8:
            (drop,) = struct.unpack(endian + "Q", value)
    return drop


def walk_pcapng(win: Window, ctx: ReadContext) -> Iterator[Frame | SourceProblem]:
    """Yield the frames of a pcapng stream positioned at its first SHB.

    The caller has checked that the stream starts with the SHB block type. Updates ``ctx.stats``
    before every yield. Never raises on bad input.
    """
    stats = ctx.stats
    fname = ctx.file
    prefilter = ctx.prefilter
    in_place = prefilter is is_candidate
    # The compiled loop (accel) skips EPBs of any link type whose frame the pre-filter rejects;
    # without it, a Python loop does so for Ethernet.
    run = accel.walk.pcapng_run if in_place and accel.walk is not None else None
    sync = ctx.sync
    problem = ctx.problem

    endian = "<"
    hdr = struct.Struct("<II").unpack_from
    u32 = struct.Struct("<I").unpack_from
    head7 = struct.Struct("<IIIIIII").unpack_from
    # An EPB's fixed part plus the ethertype and untagged-IPv4 protocol of an Ethernet frame.
    epb_eth = struct.Struct("<IIIIIII12xH9xB").unpack_from
    et_ipv4 = 0x0008  # ethertype 0x0800 read in the section's byte order
    opb = struct.Struct("<HHIIII").unpack_from
    ifaces: list[_Iface] = []
    section = 0
    next_gid = 0
    isb_drops: dict[int, int] = {}
    opb_drops: dict[int, int] = {}

    number = 0
    lost = 0  # packet blocks numbered but not delivered (damaged inside)
    nbytes = 0
    tmin = INF
    tmax = -INF
    last_t = 0.0

    buf = win.buf
    pos = win.pos
    end = len(buf)
    boff = win.base  # stream offset of buf[0]
    # True while buf is a private copy of one block that straddled two chunks (the window is
    # already past it).
    detached = False

    def recover(offset: int, frame: int | None, reason: str, what: str) -> tuple[SourceProblem, bool]:
        """Resync after damage at ``win.pos``; the problem to yield and whether reading goes on."""
        skipped = _resync(win, endian)
        if skipped is None:
            return problem(
                frame, offset, reason, f"{what}; no valid block found after it, reading stopped", True
            ), False
        return problem(
            frame,
            offset,
            reason,
            f"{what}; skipped {skipped} bytes, reading resumed at byte offset {win.offset}",
        ), True

    while True:
        if run is not None:
            pos, n, nb, tmin, tmax, last_t = run(buf, pos, end, endian == ">", ifaces, tmin, tmax, last_t)
            number += n
            nbytes += nb
        elif in_place:
            # Hot loop for Ethernet EPBs with the standard pre-filter: one unpack reads the block
            # header, the EPB fields, the ethertype and the byte where untagged IPv4 keeps its
            # protocol; plain IPv4 that is neither VRRP nor AH is counted and skipped here. Any
            # other block or packet leaves for the general loop below. A packet shorter than 24
            # bytes lends ``et``/``proto`` from the bytes after it; harmless, as this loop only
            # rejects and is_candidate rejects such a short IPv4 frame too.
            nif = len(ifaces)
            while end - pos >= 52:
                btype, blen, ifid, hi, lo, cap, wire, et, proto = epb_eth(buf, pos)
                if (
                    btype != BT_EPB
                    or et != et_ipv4
                    or proto == 112
                    or proto == 51
                    or blen > end - pos
                    or blen > MAX_BLOCK
                    or blen & 3
                    or cap > blen - 32
                    or ifid >= nif
                ):
                    break
                iface = ifaces[ifid]
                if iface[1] != LINKTYPE_ETHERNET or cap > iface[2] or u32(buf, pos + blen - 4)[0] != blen:
                    break
                t = ((hi << 32) | lo) / iface[3] + iface[4]
                last_t = t
                if t < tmin:
                    tmin = t
                if t > tmax:
                    tmax = t
                number += 1
                pos += blen
                nbytes += cap
        if end - pos >= 28:
            # Block header and, should it be an EPB, its fixed fields, in one unpack.
            btype, blen, ifid, hi, lo, cap, wire = head7(buf, pos)
            whole = (
                btype != BT_SHB
                and 12 <= blen <= end - pos
                and blen <= MAX_BLOCK
                and not blen & 3
                and u32(buf, pos + blen - 4)[0] == blen
            )
        else:
            whole = False

        if not whole:
            # Slow path: an SHB, a block straddling two chunks, the end of the input, or damage.
            if detached:
                buf = win.buf
                pos = win.pos
                end = len(buf)
                boff = win.base
                detached = False
                continue
            # Once per chunk: the counters become visible (progress) even when no frame is yielded.
            sync(number - lost, nbytes, tmin, tmax)
            win.pos = pos
            offset = win.offset
            head = win.peek(12)
            if len(head) < 12:
                sync(number - lost, nbytes, tmin, tmax)
                if not head:
                    return
                if section == 0:
                    yield problem(
                        None,
                        offset,
                        "truncated_header",
                        f"section header block cut short: {len(head)} of at least 28 bytes",
                        True,
                    )
                else:
                    yield problem(
                        number + 1,
                        offset,
                        "truncated_block",
                        f"block header cut short at the end of the file: {len(head)} of 12 bytes",
                        True,
                    )
                return
            btype, blen = hdr(head, 0)
            frame_next = None if section == 0 else number + 1
            block_endian = endian
            minimum = 12
            if btype == BT_SHB:
                # The byte order of an SHB (and its section) is known only from its own magic.
                (bom,) = _LE_U32(head, 8)
                if bom == BYTE_ORDER_MAGIC:
                    block_endian = "<"
                elif bom == BYTE_ORDER_MAGIC_SWAPPED:
                    block_endian = ">"
                else:
                    sync(number - lost, nbytes, tmin, tmax)
                    yield problem(
                        frame_next,
                        offset,
                        "bad_byte_order",
                        f"section header byte-order magic is 0x{bom:08x}, not 0x1a2b3c4d in either byte "
                        "order; reading stopped",
                        True,
                    )
                    return
                (blen,) = struct.unpack_from(block_endian + "I", head, 4)
                minimum = _MIN_LEN[BT_SHB]
            name = _block_name(btype)
            damage = None
            reason = "bad_block_length"
            if blen > MAX_BLOCK:
                damage = f"{name} block claims {blen} bytes (the maximum is {MAX_BLOCK}): damaged block"
                reason = "record_too_large"
            elif blen < minimum:
                damage = f"{name} block length {blen} is below the {minimum}-byte minimum"
            elif blen & 3 and btype == BT_SHB:
                damage = f"{name} block length {blen} is not a multiple of 4"
            rec = b""
            claimed = blen
            if damage is None:
                # Some writers leave the padding of the packet data out of the total length.
                # Wireshark rounds such a length up to a multiple of 4; so do we, when the
                # trailing copy then agrees (with either value).
                blen = claimed + (-claimed & 3)
                rec = win.peek(blen)
                if len(rec) < blen:
                    sync(number - lost, nbytes, tmin, tmax)
                    if section == 0 and btype == BT_SHB:
                        yield problem(
                            None,
                            offset,
                            "truncated_header",
                            f"section header block claims {claimed} bytes, only {len(rec)} present",
                            True,
                        )
                        return
                    # Either the file was cut inside this block, or the length is garbage and
                    # valid blocks follow; only the second leaves something to resync on.
                    skipped = _resync(win, endian)
                    if skipped is None:
                        yield problem(
                            number + 1,
                            offset,
                            "truncated_block",
                            f"{name} block claims {claimed} bytes, only {len(rec)} present before the end of the file",
                            True,
                        )
                        return
                    yield problem(
                        number + 1,
                        offset,
                        "bad_block_length",
                        f"{name} block length {claimed} points past the end of the file; skipped {skipped} "
                        f"bytes, reading resumed at byte offset {win.offset}",
                    )
                    buf = win.buf
                    pos = win.pos
                    end = len(buf)
                    boff = win.base
                    continue
                (trailer,) = struct.unpack_from(block_endian + "I", rec, blen - 4)
                if trailer != blen and trailer != claimed:
                    damage = f"{name} block length {claimed} does not match its trailing copy {trailer}"
                    if claimed & 3:
                        damage = f"{name} block length {claimed} is not a multiple of 4 and does not match its trailer"
            if damage is not None:
                sync(number - lost, nbytes, tmin, tmax)
                if section == 0:
                    yield problem(None, offset, reason, f"{damage}; reading stopped", True)
                    return
                prob, going = recover(offset, frame_next, reason, damage)
                yield prob
                if not going:
                    return
                buf = win.buf
                pos = win.pos
                end = len(buf)
                boff = win.base
                continue
            win.skip(blen)
            if btype == BT_SHB:
                endian = block_endian
                hdr = struct.Struct(endian + "II").unpack_from
                u32 = struct.Struct(endian + "I").unpack_from
                head7 = struct.Struct(endian + "IIIIIII").unpack_from
                epb_eth = struct.Struct(endian + "IIIIIII12xH9xB").unpack_from
                et_ipv4 = 0x0800 if endian == ">" else 0x0008
                opb = struct.Struct(endian + "HHIIII").unpack_from
                ifaces = []
                section += 1
                ctx.sections = section
                buf = win.buf
                pos = win.pos
                end = len(buf)
                boff = win.base
                continue
            buf = rec
            pos = 0
            end = blen
            boff = offset
            detached = True
            if blen >= 28:
                btype, blen, ifid, hi, lo, cap, wire = head7(buf, 0)

        # The block at pos is whole and its lengths agree.
        if btype == BT_EPB or btype == BT_OPB:
            if blen < 32:
                number += 1
                lost += 1
                sync(number - lost, nbytes, tmin, tmax)
                yield problem(
                    number,
                    boff + pos,
                    "bad_block_length",
                    f"{_block_name(btype)} block length {blen} is below its 32-byte minimum; packet skipped",
                )
                pos += blen
                continue
            if btype == BT_EPB:
                drops = 0  # the EPB fields came with the block header
            else:
                ifid, drops, hi, lo, cap, wire = opb(buf, pos + 8)
            if cap > blen - 32:
                number += 1
                lost += 1
                sync(number - lost, nbytes, tmin, tmax)
                yield problem(
                    number,
                    boff + pos,
                    "bad_block_length",
                    f"{_block_name(btype)} captured length {cap} exceeds its block "
                    f"({blen - 32} bytes of data); packet skipped",
                )
                pos += blen
                continue
            try:
                gid, linktype, limit, div, toff, ifname, snaplen = ifaces[ifid]
            except IndexError:
                number += 1
                lost += 1
                sync(number - lost, nbytes, tmin, tmax)
                yield problem(
                    number,
                    boff + pos,
                    "unknown_interface",
                    f"{_block_name(btype)} names interface {ifid} but this section defines "
                    f"{len(ifaces)}; packet skipped",
                )
                pos += blen
                continue
            t = ((hi << 32) | lo) / div + toff
            start = pos + 28
            if drops and drops != 0xFFFF:
                opb_drops[gid] = opb_drops.get(gid, 0) + drops
                stats.dropped = _dropped(isb_drops, opb_drops)
            last_t = t
            if t < tmin:
                tmin = t
            if t > tmax:
                tmax = t
        elif btype == BT_SPB:
            ifid = 0
            try:
                gid, linktype, limit, div, toff, ifname, snaplen = ifaces[0]
            except IndexError:
                number += 1
                lost += 1
                sync(number - lost, nbytes, tmin, tmax)
                yield problem(
                    number,
                    boff + pos,
                    "unknown_interface",
                    "SPB needs interface 0 but this section defines none; packet skipped",
                )
                pos += blen
                continue
            (wire,) = u32(buf, pos + 8)
            cap = min(wire, blen - 16)
            if snaplen:
                cap = min(cap, snaplen)
            t = last_t  # an SPB carries no timestamp
            start = pos + 12
        else:
            if btype == BT_IDB or btype == BT_ISB:
                offset = boff + pos
                if blen < _MIN_LEN[btype]:
                    sync(number - lost, nbytes, tmin, tmax)
                    yield problem(
                        number + 1,
                        offset,
                        "bad_block_length",
                        f"{_block_name(btype)} block length {blen} is below its "
                        f"{_MIN_LEN[btype]}-byte minimum; block skipped",
                    )
                elif btype == BT_IDB:
                    linktype, snaplen, ifname, div, toff, overrun = _parse_idb(buf, pos, blen, endian)
                    gid = next_gid
                    next_gid += 1
                    limit = min(snaplen, MAX_RECORD) if snaplen else MAX_RECORD
                    ifaces.append((gid, linktype, limit, div, toff, ifname, snaplen))
                    stats.interfaces[gid] = ifname
                    stats.linktypes.add(linktype)
                    sync(number - lost, nbytes, tmin, tmax)
                    if overrun:
                        yield problem(
                            number + 1,
                            offset,
                            "bad_block_length",
                            f"options of interface {len(ifaces) - 1} run past the end of its IDB; rest ignored",
                        )
                    if linktype not in SUPPORTED_LINKTYPES:
                        yield problem(
                            number + 1,
                            offset,
                            "unknown_linktype",
                            f"interface {len(ifaces) - 1}"
                            + (f" ({ifname})" if ifname else "")
                            + f" has link type {linktype}, which is not supported; its frames are counted "
                            "but not decoded",
                        )
                else:
                    (ifid,) = u32(buf, pos + 8)
                    if ifid >= len(ifaces):
                        sync(number - lost, nbytes, tmin, tmax)
                        yield problem(
                            number + 1,
                            offset,
                            "unknown_interface",
                            f"ISB names interface {ifid} but this section defines {len(ifaces)}; block skipped",
                        )
                    else:
                        drop = _isb_ifdrop(buf, pos, blen, endian)
                        if drop is not None:
                            isb_drops[ifaces[ifid][0]] = drop
                            stats.dropped = _dropped(isb_drops, opb_drops)
            pos += blen
            continue

        # A packet block: common tail.
        if cap > limit:
            if cap > MAX_RECORD:
                number += 1
                lost += 1
                sync(number - lost, nbytes, tmin, tmax)
                yield problem(
                    number,
                    boff + pos,
                    "record_too_large",
                    f"{_block_name(btype)} carries {cap} captured bytes (the maximum is {MAX_RECORD}); packet skipped",
                )
                pos += blen
                continue
            sync(number - lost, nbytes, tmin, tmax)
            yield problem(
                number + 1,
                boff + pos,
                "caplen_exceeds_snaplen",
                f"frame has {cap} captured bytes but interface {gid} has snaplen {snaplen}; frame kept "
                "(further such frames on this interface are not reported)",
            )
            ifaces[ifid] = (gid, linktype, MAX_RECORD, div, toff, ifname, snaplen)
        number += 1
        pos += blen
        nbytes += cap
        if in_place:
            # The standard pre-filter tests the packet inside the block: no copy for rejects.
            if not candidate_at(linktype, buf, start, start + cap):
                continue
            data = buf[start : start + cap]
        else:
            data = buf[start : start + cap]
            if prefilter is not None and not prefilter(linktype, data):
                continue
        stats.frames = number - lost
        stats.bytes = nbytes
        if tmax != -INF:
            stats.first_time = tmin
            stats.last_time = tmax
        yield Frame(number, t, linktype, data, wire, gid, ifname, fname)


def _dropped(isb_drops: dict[int, int], opb_drops: dict[int, int]) -> int:
    """Capture loss: latest ``isb_ifdrop`` per interface, else the OPB drop counters, summed."""
    return sum(isb_drops.values()) + sum(v for g, v in opb_drops.items() if g not in isb_drops)


def _resync(win: Window, endian: str) -> int | None:
    """Find the next block after the damaged one at ``win.pos`` whose two lengths agree.

    Candidates start with a known block type in the section's byte order (or an SHB in either);
    the leading length must be a sane multiple of 4 and equal the trailing one. On success
    ``win.pos`` is moved there and the number of bytes skipped is returned; ``None`` when nothing
    is found within :data:`RESYNC_LIMIT` bytes or before the end of the file.
    """
    start = win.offset
    pattern = _CANDIDATES[endian]
    o = win.pos + 1
    while win.base + o - start <= RESYNC_LIMIT:
        win.pos = o
        # Keep a whole maximum-size block past the scan step so every candidate's trailer is here.
        win.fill(_RESYNC_STEP + MAX_BLOCK)
        buf = win.buf
        o = win.pos
        end = len(buf)
        stop = min(o + _RESYNC_STEP, end - 11)
        if stop <= o:
            return None
        for m in pattern.finditer(buf, o, stop):
            p = m.start()
            if buf[p : p + 4] == SHB_MAGIC:
                if p + 12 > end:
                    continue
                (bom,) = _LE_U32(buf, p + 8)
                if bom == BYTE_ORDER_MAGIC:
                    e = "<"
                elif bom == BYTE_ORDER_MAGIC_SWAPPED:
                    e = ">"
                else:
                    continue
                minimum = _MIN_LEN[BT_SHB]
            else:
                e = endian
                minimum = 12
            (blen,) = struct.unpack_from(e + "I", buf, p + 4)
            if blen & 3 or blen < minimum or blen > MAX_BLOCK or p + blen > end:
                continue
            if struct.unpack_from(e + "I", buf, p + blen - 4)[0] == blen:
                win.pos = p
                return win.offset - start
        o = stop
    return None
