#!/usr/bin/env bash
# The etcd-namespaces scenario without Docker: a real etcd, a real Redis and
# two cwm instances (CONFIG_BACKEND=etcd) on free loopback ports, seeded with
# docker/scenario/etcd-namespaces/seed_etcd.sh and checked with its run_test.sh.
#
#   scripts/local-stack.sh          start, seed, run run_test.sh, stop (exit code = the checks')
#   scripts/local-stack.sh up       start and seed, print the variables, keep running until Ctrl-C
#
# Everything it starts is stopped by PID on exit; cwm must exit 0 on SIGTERM.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-test}"
case "$mode" in test|up) ;; *) echo "usage: scripts/local-stack.sh [test|up]" >&2; exit 2 ;; esac
scenario=docker/scenario/etcd-namespaces

for tool in etcd etcdctl redis-server redis-cli curl node; do
  command -v "$tool" >/dev/null || { echo "local-stack: $tool is missing (run scripts/install-deps.sh)" >&2; exit 1; }
done
[ -f dist/src/config/schema-validators.js ] || npm run build --silent

work="$(mktemp -d "${TMPDIR:-/tmp}/cwm-local-stack.XXXXXX")"
pids=()
cwm_pids=()
stopped_ok=1

free_port() {
  node -e "const s = require('net').createServer(); s.listen(0, '127.0.0.1', () => { console.log(s.address().port); s.close(); })"
}

wait_until() { # wait_until SECONDS DESCRIPTION COMMAND...
  local limit="$1" what="$2"
  shift 2
  local deadline=$((SECONDS + limit))
  until "$@" >/dev/null 2>&1; do
    if [ "$SECONDS" -ge "$deadline" ]; then echo "local-stack: $what not up after ${limit}s" >&2; return 1; fi
    sleep 0.05
  done
}

teardown() {
  local code=$?
  for pid in "${cwm_pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || continue
    if wait "$pid"; then echo "local-stack: cwm pid $pid exited 0 after SIGTERM"; else
      echo "local-stack: cwm pid $pid exited $? after SIGTERM" >&2; stopped_ok=0; fi
  done
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  if [ "$code" -ne 0 ] || [ "$stopped_ok" -ne 1 ]; then
    for log in "$work"/*.log; do echo "--- last lines of $log" >&2; tail -n 20 "$log" >&2 || true; done
  fi
  rm -rf "$work"
  [ "$stopped_ok" -eq 1 ] || exit 1
  exit "$code"
}
trap teardown EXIT
trap 'exit 130' INT TERM

etcd_client="$(free_port)"; etcd_peer="$(free_port)"; redis_port="$(free_port)"
etcd --name local --data-dir "$work/etcd" \
  --listen-client-urls "http://127.0.0.1:$etcd_client" --advertise-client-urls "http://127.0.0.1:$etcd_client" \
  --listen-peer-urls "http://127.0.0.1:$etcd_peer" --initial-advertise-peer-urls "http://127.0.0.1:$etcd_peer" \
  --initial-cluster "local=http://127.0.0.1:$etcd_peer" --initial-cluster-state new \
  --heartbeat-interval 10 --election-timeout 100 --log-level error >"$work/etcd.log" 2>&1 &
pids+=($!)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$work" >"$work/redis.log" 2>&1 &
pids+=($!)

export ETCDCTL_API=3
export ETCDCTL_ENDPOINTS="http://127.0.0.1:$etcd_client"
export REDIS_URL="redis://127.0.0.1:$redis_port"
export ETCD_PREFIX=/cwm/
export CWM_DEFAULT_NAMESPACE=default
# The Redis here is real, so the scenario also checks the redis_queue webhook (no Kafka without Docker).
export SEED_OUTPUTS="${SEED_OUTPUTS:-redis}"
wait_until 20 etcd curl -sf "$ETCDCTL_ENDPOINTS/health"
wait_until 20 redis redis-cli -p "$redis_port" ping

urls=()
for n in 1 2; do
  port="$(free_port)"
  CONFIG_BACKEND=etcd ETCD_ENDPOINTS="$ETCDCTL_ENDPOINTS" ETCD_PREFIX="$ETCD_PREFIX" ETCD_NAMESPACE="$CWM_DEFAULT_NAMESPACE" \
    HOST=127.0.0.1 PORT="$port" LOG_LEVEL=info CWM_SECRET_ALPHA_TOKEN=alpha-secret \
    dist/cwm.js serve >"$work/cwm$n.log" 2>&1 &
  cwm_pids+=($!)
  urls+=("http://127.0.0.1:$port")
done
export CWM_URLS="${urls[*]}"
for url in "${urls[@]}"; do wait_until 20 "cwm $url" curl -sf "$url/health"; done

bash "$scenario/seed_etcd.sh"
echo "local-stack: CWM_URLS=\"$CWM_URLS\" ETCDCTL_ENDPOINTS=$ETCDCTL_ENDPOINTS REDIS_URL=$REDIS_URL"

if [ "$mode" = up ]; then
  echo "local-stack: running; Ctrl-C stops everything"
  wait "${cwm_pids[0]}"
else
  bash "$scenario/run_test.sh"
fi
