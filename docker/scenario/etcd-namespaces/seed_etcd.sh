#!/usr/bin/env bash
# Seeds the etcd-namespaces scenario with etcdctl, as an operator would.
#   ETCDCTL_ENDPOINTS   etcd to write to (etcdctl reads it itself; default http://localhost:2379)
#   ETCD_PREFIX         key prefix (default /cwm/)
#   CWM_DEFAULT_NAMESPACE  namespace served by POST /webhook/<id> (default "default")
#   SEED_OUTPUTS        "log" (default): every webhook logs;
#                       "redis": ns_beta/hook1 queues to Redis (BullMQ queue beta-events; needs REDIS_URL);
#                       "full": as "redis", and ns_alpha/hook2 also produces to Kafka (needs KAFKA_BOOTSTRAP)
#   KAFKA_BOOTSTRAP     written as connection kafka_main when set
#   REDIS_URL           written as connection redis_main when set
set -euo pipefail
export ETCDCTL_API=3
export ETCDCTL_ENDPOINTS="${ETCDCTL_ENDPOINTS:-http://localhost:2379}"
prefix="${ETCD_PREFIX:-/cwm/}"
default_ns="${CWM_DEFAULT_NAMESPACE:-default}"
outputs="${SEED_OUTPUTS:-log}"

put() {
  etcdctl put "${prefix}$1" "$2" >/dev/null
  echo "seeded ${prefix}$1"
}

if [ -n "${KAFKA_BOOTSTRAP:-}" ]; then
  put global/connections/kafka_main "{\"type\":\"kafka\",\"bootstrap_servers\":\"${KAFKA_BOOTSTRAP}\",\"client_id\":\"cwm-scenario\"}"
fi
if [ -n "${REDIS_URL:-}" ]; then
  put global/connections/redis_main "{\"type\":\"redis\",\"url\":\"${REDIS_URL}\"}"
fi

put ns_alpha/webhooks/hook1 '{"data_type":"json","module":"log","module-config":{"redact_sensitive":true}}'

orders_schema='"json_schema":{"type":"object","required":["order_id"]}'
case "$outputs" in
  log | redis | full) ;;
  *) echo "seed_etcd.sh: SEED_OUTPUTS must be log, redis or full, got '$outputs'" >&2; exit 2 ;;
esac
if [ "$outputs" = full ]; then
  put ns_alpha/webhooks/hook2 "{\"chain\":[{\"module\":\"log\"},{\"module\":\"kafka\",\"connection\":\"kafka_main\",\"module-config\":{\"topic\":\"orders\",\"key\":\"\$.order_id\"}}],\"chain-config\":{\"execution\":\"parallel\"},${orders_schema}}"
else
  put ns_alpha/webhooks/hook2 "{\"module\":\"log\",${orders_schema}}"
fi
if [ "$outputs" = log ]; then
  put ns_beta/webhooks/hook1 '{"module":"log"}'
else
  put ns_beta/webhooks/hook1 '{"module":"redis_queue","connection":"redis_main","module-config":{"queue_name":"beta-events"}}'
fi

# The token is not in etcd: the instances substitute it from their CWM_SECRET_ALPHA_TOKEN.
put ns_alpha/webhooks/secured '{"module":"log","authorization":"Bearer {$CWM_SECRET_ALPHA_TOKEN}"}'
put "${default_ns}/webhooks/ping" '{"module":"log"}'
