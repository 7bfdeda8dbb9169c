#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# User networking as the NVMe/TCP tests will use it: the guest reaches a TCP
# listener on the host's 127.0.0.1 at 10.0.2.2 (both directions checked with a
# random token), and `nvme discover` against a host port where nothing listens
# fails with a non-zero status within a bound instead of hanging, and so does
# nvkv-connect after its retries.  One boot.
set -u
. "$(dirname "$0")/guest_lib.sh"
guest_prereqs

token=nvkv-$RANDOM$RANDOM
python3 tests/guest/listener.py "$TMP/port" "$TMP/got" "reply-$token" "$GUEST_TIMEOUT" &
LISTENER=$!
trap 'kill $LISTENER 2>/dev/null; wait $LISTENER 2>/dev/null; rm -rf "$TMP"' EXIT
for _ in $(seq 100); do [ -s "$TMP/port" ] && break; sleep 0.05; done
port=$(cat "$TMP/port" 2>/dev/null)
# A port nobody listens on: bound by the kernel a moment ago, then released.
closed=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
[ -n "$port" ] && [ -n "$closed" ] || { echo "FAIL: listener did not start"; exit 1; }

cat >"$TMP/guest.sh" <<GUEST
fail() { echo "GUEST FAIL: \$2"; exit "\$1"; }
got=\$(echo "ping-$token" | nc -w 10 10.0.2.2 $port)
echo "guest got: \$got"
[ "\$got" = "reply-$token" ] || fail 10 "no reply from 10.0.2.2:$port"

modprobe nvme-tcp || fail 11 "modprobe nvme-tcp"
t0=\$(cut -d. -f1 /proc/uptime)
timeout 40 nvme discover -t tcp -a 10.0.2.2 -s $closed
rc=\$?
t1=\$(cut -d. -f1 /proc/uptime)
echo "discover on a closed port: status \$rc after \$((t1 - t0)) s"
[ \$rc -ne 0 ] || fail 12 "nvme discover on a closed port succeeded"
[ \$((t1 - t0)) -lt 30 ] || fail 13 "nvme discover on a closed port took \$((t1 - t0)) s"
NVKV_TARGET_PORT=$closed NVKV_CONNECT_TRIES=2 timeout 40 nvkv-connect
rc=\$?
echo "nvkv-connect on a closed port: status \$rc"
[ \$rc -eq 1 ] || fail 14 "nvkv-connect on a closed port: status \$rc, want 1"
echo "network steps passed"
GUEST

guest 0 "guest network" -- --script "$TMP/guest.sh"
console_has "network steps passed" "the guest script reached its end"
console_has "nvkv-connect: no connection to" "nvkv-connect says why it gave up"
if [ "$(cat "$TMP/got" 2>/dev/null)" = "ping-$token" ]; then
	pass=$((pass + 1))
else
	fail=$((fail + 1))
	echo "FAIL: the host listener received '$(cat "$TMP/got" 2>/dev/null)', want 'ping-$token'"
fi
finish
