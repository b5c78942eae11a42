#!/usr/bin/env bash
# End-to-end checks of the etcd-namespaces scenario with curl and etcdctl.
# The same script runs against docker-compose and against scripts/local-stack.sh;
# everything it talks to comes from variables:
#   CWM_URLS            cwm instances, space or comma separated (default http://localhost:8001 http://localhost:8002)
#   ETCDCTL_ENDPOINTS   etcd (default http://localhost:2379)
#   ETCD_PREFIX         key prefix (default /cwm/)
#   CWM_DEFAULT_NAMESPACE  ETCD_NAMESPACE of the instances (default "default")
#   CWM_SECRET_ALPHA_TOKEN  the token the instances were given for ns_alpha/secured (default alpha-secret)
#   POLL_TIMEOUT_S      how long a change may take to reach every instance (default 30)
#   SEED_OUTPUTS        as given to seed_etcd.sh; with "redis" or "full", REDIS_URL (and redis-cli) is
#                       needed and every 2xx of ns_beta/hook1 is looked up as a BullMQ job
# It polls for every change; it never sleeps a fixed time and hopes.
set -euo pipefail
export ETCDCTL_API=3
export ETCDCTL_ENDPOINTS="${ETCDCTL_ENDPOINTS:-http://localhost:2379}"
read -r -a urls <<<"$(echo "${CWM_URLS:-http://localhost:8001 http://localhost:8002}" | tr ',' ' ')"
prefix="${ETCD_PREFIX:-/cwm/}"
default_ns="${CWM_DEFAULT_NAMESPACE:-default}"
timeout_s="${POLL_TIMEOUT_S:-30}"
passed=0

fail() { echo "not ok - $*" >&2; exit 1; }
ok() { passed=$((passed + 1)); echo "ok $passed - $*"; }

# status METHOD URL [BODY] → the HTTP status code (000 when unreachable); CT overrides the content type.
status() {
  local method="$1" url="$2" body="${3:-"{}"}"
  curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X "$method" -H "content-type: ${CT:-application/json}" --data "$body" "$url" || true
}

# eventually EXPECTED METHOD PATH [BODY]: polls every instance until each answers EXPECTED.
eventually() {
  local expected="$1" method="$2" path="$3" body="${4:-"{}"}" url got
  local deadline=$((SECONDS + timeout_s))
  for url in "${urls[@]}"; do
    while :; do
      got="$(status "$method" "$url$path" "$body")"
      [ "$got" = "$expected" ] && break
      [ "$SECONDS" -ge "$deadline" ] && fail "$method $url$path: expected $expected, still $got after ${timeout_s}s"
      sleep 0.05
    done
  done
}

# now EXPECTED METHOD PATH [BODY]: every instance must answer EXPECTED right away.
now() {
  local expected="$1" method="$2" path="$3" body="${4:-"{}"}" url got
  for url in "${urls[@]}"; do
    got="$(status "$method" "$url$path" "$body")"
    [ "$got" = "$expected" ] || fail "$method $url$path: expected $expected, got $got"
  done
}

metric() { # metric URL NAME → value of an unlabelled or first matching sample (0 when absent)
  # awk reads to the end (no early exit), so curl never dies of SIGPIPE under pipefail.
  curl -s --max-time 10 "$1/metrics" | awk -v n="$2" '!found && index($0, n " ") == 1 { print $2; found = 1 } END { if (!found) print 0 }'
}

command -v curl >/dev/null || fail "curl is required"
command -v etcdctl >/dev/null || fail "etcdctl is required"
etcdctl endpoint health >/dev/null 2>&1 || fail "etcd at $ETCDCTL_ENDPOINTS is not healthy"

for url in "${urls[@]}"; do
  deadline=$((SECONDS + timeout_s))
  until [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url/ready" || true)" = 200 ]; do
    [ "$SECONDS" -ge "$deadline" ] && fail "$url/ready not 200 after ${timeout_s}s"
    sleep 0.05
  done
  body="$(curl -s --max-time 5 "$url/health")"
  case "$body" in *'"etcd":"healthy"'*) ;; *) fail "$url/health does not report etcd healthy: $body" ;; esac
done
ok "every instance is ready and reports etcd healthy (${#urls[@]} instances)"

eventually 200 POST /webhook/ns_alpha/hook1 '{"event":"seeded"}'
eventually 200 POST /webhook/ns_alpha/hook2 '{"order_id":42}'
eventually 200 POST /webhook/ns_beta/hook1 '{"event":"seeded"}'
ok "seeded ns_alpha/hook1, ns_alpha/hook2, ns_beta/hook1 answer 200 on every instance"

now 404 POST /webhook/ns_beta/hook2
now 404 POST /webhook/ns_gamma/hook1
ok "ns_beta/hook2 and an unknown namespace answer 404"

token="${CWM_SECRET_ALPHA_TOKEN:-alpha-secret}"
eventually 401 POST /webhook/ns_alpha/secured
for url in "${urls[@]}"; do
  got="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST -H 'content-type: application/json' -H "authorization: Bearer wrong-$token" --data '{}' "$url/webhook/ns_alpha/secured" || true)"
  [ "$got" = 401 ] || fail "$url ns_alpha/secured with a wrong token: expected 401, got $got"
  got="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST -H 'content-type: application/json' -H "authorization: Bearer $token" --data '{}' "$url/webhook/ns_alpha/secured" || true)"
  [ "$got" = 200 ] || fail "$url ns_alpha/secured with the token: expected 200, got $got"
done
ok "ns_alpha/secured: 401 without or with a wrong token, 200 with the token substituted from the environment"

eventually 200 POST /webhook/ping '{"via":"default namespace"}'
ok "POST /webhook/<id> resolves in namespace $default_ns"

now 422 POST /webhook/ns_alpha/hook2 '{"no_order_id":true}'
CT=text/plain now 415 POST /webhook/ns_alpha/hook1 'x'
now 400 POST '/webhook/bad%20ns/hook1'
now 405 GET /webhook/ns_alpha/hook1
ok "schema failure 422, wrong content type 415, bad name 400, GET 405"

etcdctl put "${prefix}ns_beta/webhooks/hook2" '{"module":"log"}' >/dev/null
eventually 200 POST /webhook/ns_beta/hook2 '{"event":"live add"}'
ok "live put of ns_beta/hook2 is served by every instance"

declare -A invalid_before
for url in "${urls[@]}"; do invalid_before[$url]="$(metric "$url" 'cwm_config_invalid_total{kind="webhook"}')"; done
etcdctl put "${prefix}ns_beta/webhooks/hook2" '{ this is not json' >/dev/null
for url in "${urls[@]}"; do
  deadline=$((SECONDS + timeout_s))
  until [ "$(metric "$url" 'cwm_config_invalid_total{kind="webhook"}')" != "${invalid_before[$url]}" ]; do
    [ "$SECONDS" -ge "$deadline" ] && fail "$url never counted the invalid value"
    sleep 0.05
  done
done
now 200 POST /webhook/ns_beta/hook2 '{"event":"after invalid put"}'
ok "an invalid value is counted and the previous version stays active"

etcdctl del "${prefix}ns_beta/webhooks/hook2" >/dev/null
eventually 404 POST /webhook/ns_beta/hook2
ok "live delete of ns_beta/hook2 answers 404 on every instance"

for url in "${urls[@]}"; do
  rid="$(curl -s -D - -o /dev/null --max-time 5 -H 'x-request-id: run-test-1' -X POST -H 'content-type: application/json' --data '{}' "$url/webhook/ns_alpha/hook1" | tr -d '\r' | awk -F': ' 'tolower($1) == "x-request-id" { print $2 }')"
  [ "$rid" = run-test-1 ] || fail "$url did not echo X-Request-Id (got '$rid')"
  # Read fully before matching: grep -q would close the pipe early and pipefail would count curl's SIGPIPE.
  metrics="$(curl -s --max-time 5 "$url/metrics")"
  grep -q '^cwm_requests_total{namespace="ns_alpha",status="200"}' <<<"$metrics" || fail "$url/metrics lacks request counts for ns_alpha"
done
ok "X-Request-Id is echoed and /metrics counts requests by namespace"

if [ "${SEED_OUTPUTS:-log}" != log ]; then
  [ -n "${REDIS_URL:-}" ] || fail "SEED_OUTPUTS=${SEED_OUTPUTS} needs REDIS_URL to check the queued jobs"
  command -v redis-cli >/dev/null || fail "redis-cli is required to check the queued jobs"
  for url in "${urls[@]}"; do
    for n in 1 2 3; do
      id="run-test-$$-${RANDOM}-$n"
      got="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -X POST -H 'content-type: application/json' -H "x-delivery-id: $id" --data "{\"n\":$n}" "$url/webhook/ns_beta/hook1" || true)"
      [ "$got" = 200 ] || fail "$url ns_beta/hook1 (redis_queue): expected 200, got $got"
      # A 2xx means BullMQ's add resolved: the job must already be there, no polling.
      [ "$(redis-cli -u "$REDIS_URL" exists "bull:beta-events:$id")" = 1 ] || fail "job $id answered 200 but is not in Redis"
    done
  done
  ok "every 2xx of the redis_queue webhook is a BullMQ job in Redis (job id = the sender's X-Delivery-Id)"
fi

echo "all $passed checks passed"
