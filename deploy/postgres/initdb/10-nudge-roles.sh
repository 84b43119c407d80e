#!/bin/sh
# First start only (an empty data directory): the owner role Nudge's
# migrations and admin CLI use, its database, and a monitoring role for
# postgres-exporter. Passwords come from Docker secrets, read by psql itself
# (never on a command line). The application role (nudge_app) is created by
# `nudge migrate` from DATABASE_URL.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres <<'SQL'
\set owner_pw `cat /run/secrets/postgres_owner_password`
\set monitor_pw `cat /run/secrets/postgres_monitor_password`
create role nudge_owner login createrole bypassrls password :'owner_pw';
create database nudge owner nudge_owner;
create role nudge_monitor login password :'monitor_pw' in role pg_monitor;
SQL
