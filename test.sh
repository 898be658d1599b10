#!/usr/bin/env bash
# Installs everything the tests need on a fresh Debian machine, then runs the whole suite.
# Real peers, not mocks: sipp and baresip are the other SIP party, Chromium drives the web UI.
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES=(sip-tester baresip tshark sox libsox-fmt-all espeak-ng socat chromium mosquitto gcc python3-dev postgresql iproute2 util-linux dnsmasq-base)
missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# PostgreSQL for the postgresql store tests: started when it is not answering. A fresh install
# lets TCP clients in only with a password, so the tests then get a role of their own.
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  AS_ROOT=""; [ "$(id -u)" -eq 0 ] || AS_ROOT="sudo"
  $AS_ROOT service postgresql start >/dev/null \
    || $AS_ROOT pg_ctlcluster "$(ls /etc/postgresql | sort -V | tail -n1)" main start
  for _ in $(seq 60); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
fi
if [ -z "${SALVESTI_TEST_PG:-}" ] \
  && ! psql -w -q -h 127.0.0.1 -U postgres -d postgres -c 'SELECT 1' >/dev/null 2>&1; then
  AS_PG="runuser -u postgres --"; [ "$(id -u)" -eq 0 ] || AS_PG="sudo -u postgres"
  (cd /tmp && $AS_PG psql -q -d postgres -c "DO \$\$ BEGIN CREATE ROLE salvesti_test LOGIN CREATEDB
    PASSWORD 'salvesti_test'; EXCEPTION WHEN duplicate_object THEN NULL; END \$\$")
  export SALVESTI_TEST_PG="postgresql://salvesti_test:salvesti_test@127.0.0.1:5432/postgres"
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --upgrade pip
.venv/bin/pip install -q -e '.[test]'

.venv/bin/ruff check src tests bench

# With no arguments, the SIP end-to-end files run at the same time in a network namespace of
# their own (only lo: their ports cannot meet the rest's, and they need no database or
# broker), as a second pytest; most of their time is calls in real time, so the two overlap.
# Anything else (a file, -k, a non-root user) runs as one pytest.
SIP_E2E=(tests/e2e/test_e2e_inbound.py tests/e2e/test_e2e_outbound.py tests/e2e/test_e2e_internal.py
  tests/e2e/test_e2e_robustness.py tests/e2e/test_e2e_browser_phone.py tests/e2e/test_e2e_click_to_call.py
  tests/e2e/test_e2e_keypad_pause.py tests/e2e/test_e2e_test_call.py tests/e2e/test_e2e_disk_full.py
  tests/e2e/test_e2e_sipvicious.py tests/e2e/test_e2e_carrier.py
  tests/e2e/test_e2e_tls_srtp.py tests/e2e/test_e2e_bench.py tests/e2e/test_e2e_shutdown.py
  tests/e2e/test_e2e_pause.py tests/e2e/test_e2e_harness.py)
if [ $# -gt 0 ] || [ "$(id -u)" -ne 0 ] || ! command -v unshare >/dev/null; then
  exec .venv/bin/python -m pytest -q "$@"
fi
side_log=$(mktemp)
unshare -n sh -c 'ip link set lo up && exec "$@"' sh \
  .venv/bin/python -m pytest -q -p no:cacheprovider --basetemp="$(mktemp -d)" "${SIP_E2E[@]}" >"$side_log" 2>&1 &
side=$!
ignore=()
for f in "${SIP_E2E[@]}"; do ignore+=(--ignore="$f"); done
status=0
.venv/bin/python -m pytest -q "${ignore[@]}" || status=$?
side_status=0
wait "$side" || side_status=$?
echo "--- SIP end-to-end tests (network namespace of their own):"
cat "$side_log"
rm -f "$side_log"
[ "$status" -eq 0 ] && [ "$side_status" -eq 0 ]
