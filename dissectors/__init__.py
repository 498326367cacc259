"""Pure protocol decoders for VRRP v2/v3, ARP and IPv6 ND: bytes in, immutable records out.

No I/O, no CLI, no scapy. Decoders never raise on any input; they return a record or a
:class:`~dissectors.records.Malformed`.
"""
