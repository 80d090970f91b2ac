#!/usr/bin/env bash
# Starts whichever of PostgreSQL, Redis and RabbitMQ is not answering on 127.0.0.1, enables the
# RabbitMQ plugins the stack uses (management UI, Prometheus) and waits until all answer.
# Never stops or restarts a healthy server (one broken RabbitMQ state is repaired, see below). Used by `.ci/run`,
# `scripts/test-prereqs.sh` and `scripts/start-stack.js`.
set -euo pipefail

log() { printf 'ensure-servers: %s\n' "$*" >&2; }

# true when something accepts TCP connections on 127.0.0.1:$1
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# wait_port PORT NAME SECONDS
wait_port() {
  local deadline=$((SECONDS + $3))
  until port_open "$1"; do
    if ((SECONDS >= deadline)); then
      log "$2 did not answer on 127.0.0.1:$1 within $3 s"
      return 1
    fi
    sleep 0.5
  done
}

if pg_isready -q -h 127.0.0.1 -p 5432; then
  log 'PostgreSQL is up'
else
  log 'starting PostgreSQL'
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start
  wait_port 5432 PostgreSQL 60
  until pg_isready -q -h 127.0.0.1 -p 5432; do sleep 0.5; done
fi

if port_open 6379; then
  log 'Redis is up'
else
  log 'starting Redis'
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port 6379 Redis 30
fi

if port_open 5672; then
  log 'RabbitMQ is up'
else
  log 'starting RabbitMQ'
  rabbitmq-server -detached
  wait_port 5672 RabbitMQ 120
  rabbitmqctl -q await_startup >/dev/null
fi

# RabbitMQ 3.10 can lose its at-least-once dead-letter supervisor for good after a burst of
# crashing dead-letter workers (seen here when many test vhosts holding such quorum queues were
# deleted at once): every quorum queue with at-least-once dead-lettering then fails
# (541 INTERNAL_ERROR) until the application restarts. Repair that one broken state.
if [ "$(rabbitmqctl -q eval 'whereis(rabbit_fifo_dlx_sup).' 2>/dev/null || true)" = "undefined" ]; then
  log 'RabbitMQ lost rabbit_fifo_dlx_sup (at-least-once dead-lettering): restarting its application'
  rabbitmqctl -q stop_app
  rabbitmqctl -q start_app
  rabbitmqctl -q await_startup >/dev/null
fi

# Online enable: a running node loads the plugins without a restart.
if ! port_open 15672; then
  log 'enabling RabbitMQ plugins rabbitmq_management rabbitmq_prometheus'
  rabbitmq-plugins -q enable rabbitmq_management rabbitmq_prometheus >/dev/null
  wait_port 15672 'RabbitMQ management' 60
fi
if ! port_open 15692; then
  rabbitmq-plugins -q enable rabbitmq_prometheus >/dev/null
  wait_port 15692 'RabbitMQ prometheus' 60
fi

# The tests' default database (the stack's own, `reten`, is created by the migrate command).
if ! psql -h 127.0.0.1 -U root -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1; then
  log 'creating database test'
  psql -h 127.0.0.1 -U root -d postgres -qc 'CREATE DATABASE test'
fi

log 'PostgreSQL, Redis and RabbitMQ answer on 127.0.0.1'
