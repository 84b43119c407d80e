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
