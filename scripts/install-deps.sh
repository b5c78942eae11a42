#!/usr/bin/env bash
# Installs what a bare machine lacks: Debian packages for the real services the
# tests start (etcd, Redis, librdkafka for the Kafka test broker, PostgreSQL,
# MariaDB) and the npm
# tests start (etcd, Redis, librdkafka for the Kafka test broker, RabbitMQ,
# Mosquitto, nats-server for the broker outputs) and the npm
# packages. Idempotent and quiet when everything is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v etcd >/dev/null 2>&1 || need+=(etcd-server)
command -v etcdctl >/dev/null 2>&1 || need+=(etcd-client)
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
[ -f /usr/include/librdkafka/rdkafka_mock.h ] || need+=(librdkafka-dev)
command -v kcat >/dev/null 2>&1 || need+=(kcat)
command -v wrk >/dev/null 2>&1 || need+=(wrk)
command -v gcc >/dev/null 2>&1 || need+=(gcc libc6-dev)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
command -v curl >/dev/null 2>&1 || need+=(curl)
# The postgresql / mysql output tests start their own servers from these binaries.
[ -x /usr/lib/postgresql/15/bin/initdb ] || need+=(postgresql-15)
command -v mariadbd >/dev/null 2>&1 || need+=(mariadb-server)
[ -f /usr/share/activemq/bin/activemq.jar ] || need+=(activemq)
command -v clickhouse-server >/dev/null 2>&1 || need+=(clickhouse-server clickhouse-client)
[ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || need+=(rabbitmq-server)
command -v mosquitto >/dev/null 2>&1 || need+=(mosquitto)
command -v nats-server >/dev/null 2>&1 || need+=(nats-server)
# The auth tests sign their vectors with python (hmac, hashlib, cryptography), independently of jose.
python3 -c "import cryptography" >/dev/null 2>&1 || need+=(python3 python3-cryptography)
# The redis_rq tests run an unmodified RQ worker (Debian's rq 1.13, on Debian's python3).
[ -x /usr/bin/rq ] && /usr/bin/python3 -c "import rq" >/dev/null 2>&1 || need+=(python3-rq)
if [ ${#need[@]} -gt 0 ]; then
  echo "install-deps: apt-get install ${need[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "install-deps: npm install (lock file respected; npm ci trips over msgpackr optional deps with npm 11)"
  npm install --no-audit --no-fund --loglevel=error
fi
