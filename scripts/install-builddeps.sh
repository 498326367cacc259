#!/usr/bin/env bash
# Installs what building vrrpscope's one C module (vrrpscope/sources/_walk.c, the readers' inner
# loops) needs, with apt-get, when running as root and it is missing: a C compiler and the headers
# of the Python that builds the venv. Without them the install still succeeds and the readers use
# their pure-Python loops (same results, several times slower); this only says so.
# Usage: install-builddeps.sh PYTHON
set -u
py=${1:-python3}
want=()
command -v cc >/dev/null 2>&1 || want+=(gcc libc6-dev)
inc=$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["include"])' 2>/dev/null)
if [ -z "$inc" ] || [ ! -f "$inc/Python.h" ]; then
  ver=$("$py" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")' 2>/dev/null)
  want+=("libpython${ver:-3}-dev")
fi
if [ ${#want[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null 2>&1; then
  echo "install-builddeps: not root or no apt-get; missing: ${want[*]} (the readers will use pure Python)" >&2
  exit 0
fi
echo "install-builddeps: apt-get install ${want[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${want[@]}" >/dev/null || \
  echo "install-builddeps: apt-get failed; the readers will use pure Python" >&2
exit 0
