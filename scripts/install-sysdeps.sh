#!/usr/bin/env bash
# Installs the system tools vrrpscope's tests use, with apt-get, when running as root and they are
# missing: tshark (the decoding oracle), tcpdump, keepalived and nftables (the lab), chromium (the
# report renders in it), iproute2. Without root it only says what is missing; the tests that need a
# missing tool then skip with that reason (under CI=true they fail instead).
set -u
want=()
command -v tshark >/dev/null 2>&1 || want+=(tshark)
command -v tcpdump >/dev/null 2>&1 || want+=(tcpdump)
command -v keepalived >/dev/null 2>&1 || want+=(keepalived)
command -v nft >/dev/null 2>&1 || want+=(nftables)
command -v ip >/dev/null 2>&1 || want+=(iproute2)
command -v chromium >/dev/null 2>&1 || want+=(chromium)
command -v gzip >/dev/null 2>&1 || want+=(gzip)
[ -x /usr/lib/frr/vrrpd ] || want+=(frr)
command -v tcpreplay >/dev/null 2>&1 || want+=(tcpreplay)  # bench/live_storm.py (the live capture-rate benchmark)
if [ ${#want[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-sysdeps: not root or no apt-get; missing: ${want[*]} (tests needing them will skip)" >&2
  exit 0
fi
echo "install-sysdeps: apt-get install ${want[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null
