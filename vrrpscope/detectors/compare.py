"""Comparing two routers of one group: the differences that make VRRP receivers drop adverts.

keepalived (and the RFCs) discard an advert whose authentication, version, v2 interval, address
list, checksum, TTL or unicast/multicast mode does not match the receiver's configuration
(PROTOCOL.md §4.5). When two routers both act as master, the first such difference visible in the
capture is the likely cause; the split-brain detector and others quote these sentences.
"""

from __future__ import annotations

from vrrpscope.reconstruct.state import RouterState

#: v3/IPv4 checksum variants keepalived treats as compatible (it auto-detects the old unicast form).
COMPATIBLE_VARIANTS = frozenset({"v3-ipv4-pseudo", "v3-ipv4-pseudo-mcast"})

#: Plain-language names of the checksum variants (PROTOCOL.md §9.3).
VARIANT_TEXT = {
    "v2": "the VRRPv2 checksum (RFC 3768)",
    "v3-ipv6": "the IPv6 pseudo-header (RFC 9568)",
    "v3-ipv4-pseudo": "the IPv4 pseudo-header (keepalived/FRR/Wireshark default)",
    "v3-ipv4-plain": "the message only, no pseudo-header (RFC 9568 §5.2.8; Cisco/Juniper, "
    "keepalived >= 2.2.8 v3_checksum_as_v2, FRR >= 8.5)",
    "v3-ipv4-pseudo-mcast": "a pseudo-header with destination 224.0.0.18 (keepalived < 1.3.6 unicast, "
    "old_unicast_checksum)",
}


def auth_text(router: RouterState, show_secrets: bool = False, auth: tuple[str, str | None] | None = None) -> str:
    """``simple password sha256:…`` / ``no authentication`` / ``IPsec AH`` for a router's auth."""
    kind, fp = auth if auth is not None else router.last_auth
    if kind == "none":
        return "no authentication"
    if kind == "simple":
        text = f"simple password {fp}"
        if show_secrets and router.auth_texts:
            secret = max(router.auth_texts.items(), key=lambda kv: kv[1])[0]
            text += f" ({secret!r})"
        return text
    if kind == "ah":
        return "IPsec AH"
    if kind == "hmac":
        return "an auth_hmac trailer"
    return f"auth {kind}" + (f" {fp}" if fp else "")


def _is_multicast_dst(router: RouterState) -> bool:
    return not router.unicast


def differences(a: RouterState, b: RouterState, show_secrets: bool = False) -> list[str]:
    """Differences between two routers' latest adverts that make a receiver discard the other's."""
    out: list[str] = []
    if a.version != b.version:
        out.append(
            f"VRRP versions differ ({a.ip} v{a.version}, {b.ip} v{b.version}): keepalived drops the "
            f"other version ('wrong version. Received {a.version} and expect {b.version}')"
        )
    if a.last_auth != b.last_auth:
        out.append(
            f"authentication differs ({a.ip}: {auth_text(a, show_secrets)}; {b.ip}: "
            f"{auth_text(b, show_secrets)}): "
            "each discards the other's adverts ('received an invalid passwd!' / 'received a N "
            "auth, expecting M!')"
        )
    if a.advert_int != b.advert_int:
        if 2 in (a.version, b.version):
            out.append(
                f"advert intervals differ ({a.ip} {a.advert_int:g} s, {b.ip} {b.advert_int:g} s): VRRPv2 "
                "receivers drop adverts with another interval ('advertisement interval mismatch')"
            )
        else:
            out.append(
                f"advert intervals differ ({a.ip} {a.advert_int:g} s, {b.ip} {b.advert_int:g} s; VRRPv3 "
                "only logs this, so it is rarely the cause by itself)"
            )
    if set(a.vips) != set(b.vips):
        only_a = sorted(set(a.vips) - set(b.vips))
        only_b = sorted(set(b.vips) - set(a.vips))
        out.append(
            f"VIP sets differ (only {a.ip}: {', '.join(only_a) or '-'}; only {b.ip}: "
            f"{', '.join(only_b) or '-'}): "
            "keepalived discards adverts whose address list differs ('ip address associated with VRID "
            "not present in MASTER advert'), or these are two unrelated clusters sharing the VRID"
        )
    va, vb = a.last_checksum_variant, b.last_checksum_variant
    if va is None or vb is None:
        bad = [r.ip for r, v in ((a, va), (b, vb)) if v is None]
        out.append(f"adverts of {', '.join(bad)} have an invalid checksum: receivers discard them")
    elif va != vb and a.version == b.version == 3 and not {va, vb} <= COMPATIBLE_VARIANTS:
        out.append(
            f"checksum variants differ ({a.ip}: {VARIANT_TEXT.get(va, va)}; {b.ip}: "
            f"{VARIANT_TEXT.get(vb, vb)}): "
            "each rejects the other's adverts ('Invalid VRRPv3 checksum')"
        )
    for r in (a, b):
        if r.last_ttl != 255 and _is_multicast_dst(r):
            out.append(
                f"{r.ip}'s adverts arrive with TTL/hop limit {r.last_ttl}, not 255: receivers discard them "
                "(RFC 9568 §7.1)"
            )
    if a.unicast != b.unicast:
        uni, multi = (a, b) if a.unicast else (b, a)
        out.append(
            f"{uni.ip} sends unicast adverts (to {uni.last_dst}), {multi.ip} multicast: keepalived discards "
            "them ('Expected unicast packet but received multicast packet')"
        )
    elif a.unicast and b.unicast:
        for x, y in ((a, b), (b, a)):
            if y.ip not in x.destinations:
                out.append(
                    f"{x.ip}'s unicast adverts go to {', '.join(sorted(x.destinations))}, not to {y.ip} "
                    "(unicast_peer lists do not include each other)"
                )
    return out
