"""The kernel packet filter of ``watch``: classic BPF that lets only VRRP, AH, ARP and ICMPv6 through.

A busy segment carries far more traffic than VRRP, so the filter runs in the kernel
(``SO_ATTACH_FILTER``) and user space only ever sees what :func:`dissectors.packet.dissect` could
want: IPv4 protocol 112 (VRRP, also CARP) and 51 (AH, keepalived ``auth_type AH``), ARP, IPv6
next header 112 and 58 (ICMPv6: neighbour solicitations/advertisements), untagged or behind up to
two in-packet 802.1Q/802.1ad/0x9100 tags. It is :data:`BASE_EXPRESSION` in tcpdump syntax.

Two ways to get the program:

* :func:`compile_expression` runs ``tcpdump -ddd`` (libpcap's compiler) on the capture interface,
  which also knows Linux's BPF extensions: the kernel strips the outer VLAN tag before packet
  sockets see a frame and reports it in auxdata, which ``vlan`` in an expression then tests via
  the ``vlanp`` ancillary load. A user's ``-f`` expression is AND-ed this way and needs tcpdump.
* :data:`BUILTIN_PROGRAM`, hand-written here for machines without tcpdump. It walks up to two
  in-packet tags and tests the ethertype and protocol behind them; a tag the kernel stripped is not
  in the packet any more, so the same walk covers tagged and untagged frames. Tests check it
  against tcpdump's compilation of :data:`BASE_EXPRESSION` frame by frame, and in the kernel.

Instructions are ``(code, jt, jf, k)`` tuples, as ``tcpdump -ddd`` prints them and as
``struct sock_filter`` holds them.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import struct
import subprocess
import tempfile
from collections.abc import Sequence

#: One classic BPF instruction: opcode, jump-if-true offset, jump-if-false offset, constant.
Instruction = tuple[int, int, int, int]

# Opcode parts (linux/filter.h, linux/bpf_common.h).
BPF_LD = 0x00  # load into the accumulator A
BPF_LDX = 0x01  # load into the index register X
BPF_JMP = 0x05  # jumps
BPF_RET = 0x06  # return: accept that many bytes (0 = drop)
BPF_H = 0x08  # half word (16 bits)
BPF_B = 0x10  # byte
BPF_IMM = 0x00  # constant operand
BPF_ABS = 0x20  # packet data at a fixed offset
BPF_IND = 0x40  # packet data at X + offset
BPF_JEQ = 0x10  # jump if A == k
BPF_K = 0x00  # operand is the constant k

#: Bytes of a frame the filter accepts (libpcap's default snapshot length).
SNAPLEN = 262144

#: IPv4 protocols and IPv6 next headers let through.
IPPROTO_AH = 51
IPPROTO_VRRP = 112
IPPROTO_ICMPV6 = 58
IPPROTO_FRAGMENT = 44  # IPv6 fragment header: libpcap's "ip6 proto N" looks behind it too
#: Ethertypes.
ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_ARP = 0x0806
ETHERTYPE_IPV6 = 0x86DD
#: VLAN tag protocol identifiers walked over (802.1Q, 802.1ad, the old QinQ 0x9100).
VLAN_TPIDS = (0x8100, 0x88A8, 0x9100)

_PROTOCOLS = "ip proto 112 or ip proto 51 or arp or ip6 proto 112 or ip6 proto 58"
#: The traffic ``watch`` needs, in tcpdump syntax: untagged, or behind one or two VLAN tags.
BASE_EXPRESSION = f"({_PROTOCOLS}) or (vlan and (({_PROTOCOLS}) or (vlan and ({_PROTOCOLS}))))"


class FilterError(Exception):
    """A filter could not be compiled (tcpdump missing, or it rejected the expression)."""


# --------------------------------------------------------------------------- the hand-written program


def _assemble(lines: Sequence[tuple[str, int, str | None, str | None, int] | str]) -> list[Instruction]:
    """Resolve label names to relative jump offsets.

    Each line is a label (a plain ``str``) or ``(label_or_empty, code, jt_label, jf_label, k)``.
    """
    labels: dict[str, int] = {}
    body: list[tuple[int, str | None, str | None, int]] = []
    for line in lines:
        if isinstance(line, str):
            labels[line] = len(body)
            continue
        _name, code, jt, jf, k = line
        body.append((code, jt, jf, k))
    out: list[Instruction] = []
    for pc, (code, jt, jf, k) in enumerate(body):
        t = labels[jt] - pc - 1 if jt else 0
        f = labels[jf] - pc - 1 if jf else 0
        if t < 0 or f < 0 or t > 255 or f > 255:
            raise ValueError(f"jump out of range at instruction {pc}")
        out.append((code, t, f, k))
    return out


_LDH_ABS = BPF_LD | BPF_H | BPF_ABS
_LDH_IND = BPF_LD | BPF_H | BPF_IND
_LDB_IND = BPF_LD | BPF_B | BPF_IND
_LDX_IMM = BPF_LDX | BPF_IMM
_JEQ = BPF_JMP | BPF_JEQ | BPF_K
_RET = BPF_RET | BPF_K

#: The hand-written equivalent of :data:`BASE_EXPRESSION` for Ethernet (X = bytes of in-packet tags).
BUILTIN_PROGRAM: list[Instruction] = _assemble(
    [
        ("", _LDX_IMM, None, None, 0),
        ("", _LDH_ABS, None, None, 12),  # ethertype, or the TPID of a first in-packet tag
        ("", _JEQ, "tag1", None, VLAN_TPIDS[0]),
        ("", _JEQ, "tag1", None, VLAN_TPIDS[1]),
        ("", _JEQ, "tag1", "ethertype", VLAN_TPIDS[2]),
        "tag1",
        ("", _LDX_IMM, None, None, 4),
        ("", _LDH_ABS, None, None, 16),  # behind one tag
        ("", _JEQ, "tag2", None, VLAN_TPIDS[0]),
        ("", _JEQ, "tag2", None, VLAN_TPIDS[1]),
        ("", _JEQ, "tag2", "ethertype", VLAN_TPIDS[2]),
        "tag2",
        ("", _LDX_IMM, None, None, 8),
        "ethertype",
        ("", _LDH_IND, None, None, 12),  # the ethertype behind X bytes of tags
        ("", _JEQ, "ipv4", None, ETHERTYPE_IPV4),
        ("", _JEQ, "accept", None, ETHERTYPE_ARP),
        ("", _JEQ, "ipv6", "drop", ETHERTYPE_IPV6),
        "ipv4",
        ("", _LDB_IND, None, None, 14 + 9),  # IPv4 protocol
        ("", _JEQ, "accept", None, IPPROTO_VRRP),
        ("", _JEQ, "accept", "drop", IPPROTO_AH),
        "ipv6",
        ("", _LDB_IND, None, None, 14 + 6),  # IPv6 next header
        ("", _JEQ, "accept", None, IPPROTO_VRRP),
        ("", _JEQ, "accept", None, IPPROTO_ICMPV6),
        ("", _JEQ, None, "drop", IPPROTO_FRAGMENT),
        ("", _LDB_IND, None, None, 14 + 40),  # the fragment header's next header
        ("", _JEQ, "accept", None, IPPROTO_VRRP),
        ("", _JEQ, "accept", "drop", IPPROTO_ICMPV6),
        "accept",
        ("", _RET, None, None, SNAPLEN),
        "drop",
        ("", _RET, None, None, 0),
    ]
)


# --------------------------------------------------------------------------- tcpdump


def tcpdump_path() -> str | None:
    """Where tcpdump is, or ``None``."""
    return shutil.which("tcpdump") or next(
        (p for p in ("/usr/sbin/tcpdump", "/usr/bin/tcpdump") if os.access(p, os.X_OK)), None
    )


def parse_ddd(text: str) -> list[Instruction]:
    """Parse ``tcpdump -ddd`` output: a count line, then ``code jt jf k`` per instruction."""
    lines = [ln.split() for ln in text.strip().splitlines() if ln.strip()]
    if not lines or len(lines[0]) != 1:
        raise FilterError("unexpected tcpdump -ddd output")
    count = int(lines[0][0])
    prog: list[Instruction] = []
    for fields in lines[1:]:
        if len(fields) != 4:
            raise FilterError(f"unexpected tcpdump -ddd line: {' '.join(fields)}")
        code, jt, jf, k = (int(f) for f in fields)
        prog.append((code, jt, jf, k & 0xFFFFFFFF))
    if len(prog) != count:
        raise FilterError(f"tcpdump -ddd announced {count} instructions and printed {len(prog)}")
    return prog


def _empty_pcap(linktype: int) -> bytes:
    return struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN, linktype)


def compile_expression(expression: str, *, interface: str | None = None, linktype: int = 1) -> list[Instruction]:
    """Compile a tcpdump expression with ``tcpdump -ddd``.

    With ``interface`` the program is compiled for that live interface (libpcap then uses Linux's
    BPF extensions for ``vlan``, as it would when capturing); without, for an offline capture of
    ``linktype`` (no extensions). Raises :class:`FilterError` with tcpdump's own message.
    """
    exe = tcpdump_path()
    if exe is None:
        raise FilterError("tcpdump is not installed (needed to compile a filter expression)")
    env = {"LC_ALL": "C", "PATH": os.environ.get("PATH", "/usr/sbin:/usr/bin:/sbin:/bin")}
    tmp: str | None = None
    try:
        if interface is not None:
            argv = [exe, "-i", interface, "-ddd", expression]
        else:
            fd, tmp = tempfile.mkstemp(suffix=".pcap", prefix="vrrpscope-bpf-")
            with os.fdopen(fd, "wb") as fh:
                fh.write(_empty_pcap(linktype))
            argv = [exe, "-r", tmp, "-ddd", expression]
        try:
            proc = subprocess.run(argv, capture_output=True, text=True, timeout=30, env=env, check=False)
        except (OSError, subprocess.SubprocessError) as exc:
            raise FilterError(f"could not run tcpdump: {exc}") from exc
    finally:
        if tmp is not None:
            os.unlink(tmp)
    if proc.returncode != 0:
        lines = [ln.strip() for ln in proc.stderr.splitlines() if ln.strip()]
        ours = [ln for ln in lines if ln.startswith("tcpdump:")]
        text = (ours or lines or [f"tcpdump exited with status {proc.returncode}"])[-1]
        raise FilterError(f"filter {expression!r}: {text.removeprefix('tcpdump: ')}")
    return parse_ddd(proc.stdout)


def combined_expression(extra: str | None) -> str:
    """The user's ``-f`` expression AND-ed with :data:`BASE_EXPRESSION` (just the latter without one).

    The user's part comes first: libpcap's ``vlan`` moves the offsets of everything after it, so
    ``-f 'vlan 30'`` first steps over the tag and the base expression then reads the protocol
    behind it (the other way round, ``vlan 30`` would look for a second tag).
    """
    if not extra or not extra.strip():
        return BASE_EXPRESSION
    return f"({extra}) and ({BASE_EXPRESSION})"


# --------------------------------------------------------------------------- attaching


class FilterBuffer:
    """A ``struct sock_fprog`` for ``setsockopt(SO_ATTACH_FILTER)``: it points at the instructions,
    so this object must live until the call returns (the kernel copies the program)."""

    def __init__(self, program: Sequence[Instruction]) -> None:
        if not program or len(program) > 4096:
            raise FilterError(f"a classic BPF program has 1..4096 instructions, not {len(program)}")
        raw = b"".join(struct.pack("=HBBI", code, jt, jf, k) for code, jt, jf, k in program)
        self._array = ctypes.create_string_buffer(raw, len(raw))
        #: The ``struct sock_fprog`` bytes: ``unsigned short len`` and a pointer (native alignment).
        self.fprog = struct.pack("HP", len(program), ctypes.addressof(self._array))
