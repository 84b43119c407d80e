# Shared by scripts/dev and scripts/test: install what is missing where we can.
# shellcheck shell=bash

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "need root to run: $*" >&2; return 1; fi
}

apt_install() {
    if ! command -v apt-get >/dev/null; then
        echo "cannot install $* automatically (no apt-get); please install it and retry" >&2
        return 1
    fi
    echo "installing $* ..." >&2
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null 2>&1 || {
        as_root apt-get update -q >/dev/null 2>&1
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@" >/dev/null
    }
}

ensure_rust() {
    if ! command -v cargo >/dev/null; then
        echo "Rust is not installed: get it from https://rustup.rs and retry" >&2
        exit 1
    fi
    if ! command -v cc >/dev/null; then apt_install build-essential; fi
}

# initdb and pg_ctl, on PATH or in Debian's layout.
have_postgres_server() {
    command -v initdb >/dev/null && command -v pg_ctl >/dev/null && return 0
    compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null
}

ensure_postgres_server_binaries() {
    have_postgres_server || apt_install postgresql
}

# PostgreSQL on 127.0.0.1:5432 and Redis on 127.0.0.1:6379, started or
# installed if missing (scripts/test, bench/all.sh).
pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }

ensure_postgres() {
    command -v pg_isready >/dev/null || apt_install postgresql-client
    pg_up && return 0
    if ! compgen -G "/etc/postgresql/*/main" >/dev/null; then
        apt_install postgresql
        # A fresh Debian cluster asks for passwords over TCP; tests need the
        # superuser on loopback, as on a developer machine with trust auth.
        local hba
        hba=$(ls /etc/postgresql/*/main/pg_hba.conf | head -n1)
        as_root sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
    fi
    local version
    version=$(ls /etc/postgresql | sort -V | tail -n1)
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    for _ in $(seq 1 30); do pg_up && return 0; sleep 1; done
    echo "PostgreSQL is not reachable on 127.0.0.1:5432" >&2
    exit 1
}

redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }

ensure_redis() {
    command -v redis-server >/dev/null || apt_install redis-server
    redis_up && return 0
    local dir=/tmp/nudge-test-redis
    mkdir -p "$dir"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
        --dir "$dir" --logfile "$dir/redis.log"
    for _ in $(seq 1 30); do redis_up && return 0; sleep 1; done
    echo "Redis is not reachable on 127.0.0.1:6379" >&2
    exit 1
}

# Tests sign webhooks with Twilio's own library too.
ensure_twilio_python() {
    python3 -c 'import twilio' 2>/dev/null && return 0
    command -v python3 >/dev/null || apt_install python3 python3-pip
    python3 -m pip install --quiet twilio 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages twilio
}
