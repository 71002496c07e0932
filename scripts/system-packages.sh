#!/usr/bin/env bash
# Installs the Debian packages a task needs, only when something is missing, so a second run does no work.
#   venv: what `python3 -m venv` needs on a bare Debian 12
#   test: what the test suite needs: the servers of the backend plugins (redis-server, redis-cli), and openssl,
#         which makes the certificate of the redis TLS test; kcat, the independent client that reads the Kafka topics
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
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
