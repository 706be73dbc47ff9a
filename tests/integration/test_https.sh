#!/usr/bin/env bash
# HTTPS and HTTP/2 against a real server (issue: real endpoints and real
# scale, part 3): Debian's nginx, started here on a loopback port with a
# throwaway certificate, terminates TLS and HTTP/2 in front of the fake
# server. The certificate is refused unless the endpoint's ca_file trusts
# it; many requests share one connection as streams; a stream reset (the
# upstream cuts a reply short), GOAWAY after keepalive_requests, and a
# reload of nginx under load lose no sample.
set -u
cd "$(dirname "$0")/../.."
export SLMMUX_HOME="$PWD"
. tests/lib/nginx.sh
tmp=$(mktemp -d); trap 'nginx_stop; kill $spid 2>/dev/null; rm -rf "$tmp"' EXIT
pass=0 fail=0
check() { if eval "$2"; then pass=$((pass+1)); echo "ok   $1"; else fail=$((fail+1)); echo "FAIL $1"; fi; }
command -v nginx >/dev/null || { echo "FAIL nginx is not installed (make deps)"; echo "0 passed, 1 failed"; exit 1; }

# the first three requests of model "cut" get their reply cut short inside the
# body: nginx has sent the headers, so it can only reset the stream
cat >"$tmp/script.json" <<'JSON'
{"rules":[{"model":"cut","steps":[{"truncate":150},{"truncate":150},{"truncate":150}]}]}
JSON
build/fakeserver --port 0 --latency-ms 20 --max-seconds 300 --script "$tmp/script.json" >"$tmp/port" &
spid=$!
for _ in $(seq 50); do grep -q PORT "$tmp/port" && break; sleep 0.1; done
up=$(awk '/PORT/{print $2}' "$tmp/port")
load() {  # requests [extra -s...]
  local n=$1; shift
  ./slmmux run tests/integration/https_load.lua --no-store -s url="https://127.0.0.1:$nginx_port/v1" \
    -s ca="$tmp/ngx/cert.pem" -s requests="$n" "$@" 2>&1 | grep '^RESULT'
}
field() { sed -n "s/.*$1=\([0-9]*\).*/\1/p" <<<"$2"; }
conns() { awk '{print $1}' "$tmp/ngx/access.log" | sort -u | wc -l; }

mkdir -p "$tmp/ngx"
nginx_start "$tmp/ngx" "$up" || { echo "FAIL nginx did not start"; echo "0 passed, 1 failed"; exit 1; }
r=$(load 1 -s ca=none)
check "the throwaway certificate is refused without ca_file, at once ($r)" \
  "[ \"\$(field lost \"\$r\")\" = 1 ] && grep -q 'certificate' <<<\"\$r\" && grep -q 'attempts 1' <<<\"\$r\""
: >"$tmp/ngx/access.log"
r=$(load 400)
check "400 requests with ca_file trusting it: none lost ($r)" "[ \"\$(field ok \"\$r\")\" = 400 ]"
check "they went over HTTP/2" "[ \$(grep -c ' HTTP/2.0 200' '$tmp/ngx/access.log') -eq 400 ]"
check "as streams of few connections ($(conns) for 400 requests)" "[ \$(conns) -le 4 ]"
./slmmux run tests/integration/https_load.lua --no-store -v -s url="https://127.0.0.1:$nginx_port/v1" \
  -s ca="$tmp/ngx/cert.pem" -s requests=1 -s model=cut >"$tmp/cut.log" 2>&1
r=$(grep '^RESULT' "$tmp/cut.log")
check "a stream reset (RST_STREAM, curl error 92) is retried until the reply arrives ($r)" \
  "[ \"\$(field ok \"\$r\")\" = 1 ] && [ \$(grep -c 'failed (.*curl error 92' '$tmp/cut.log') -eq 3 ]"
check "... nginx saw the upstream cut the reply" "grep -q 'upstream prematurely closed' '$tmp/ngx/error.log'"
nginx_stop

nginx_start "$tmp/ngx" "$up" 50 || { echo "FAIL nginx did not restart"; exit 1; }
: >"$tmp/ngx/access.log"
r=$(load 600)
check "GOAWAY after 50 requests per connection: 600 requests, none lost ($r)" "[ \"\$(field ok \"\$r\")\" = 600 ]"
check "... over $(conns) connections, as GOAWAY asked" "[ \$(conns) -ge 12 ]"
r=$(load 3000 -s hup="$nginx_pid")
check "nginx reloaded under 3000 requests: none lost ($r)" "[ \"\$(field ok \"\$r\")\" = 3000 ]"
check "... and it did reload" "grep -q 'reconfiguring' '$tmp/ngx/error.log'"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
