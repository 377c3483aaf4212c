#!/usr/bin/env bash
# Start Debian's PostgreSQL and make a throwaway database for the test suite.
# Prints the SQLAlchemy URL on standard output (its own role and database). Installs the server with apt-get (as root) when missing.
# As root it uses Debian's cluster; as any other user, a private cluster in a folder of its own,
# and a line "started PG_CTL DATADIR" before the URL when this call started it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/ensure_system_deps.sh" postgresql >&2
if [ "$(id -u)" -ne 0 ]; then
    # Any other user: a private cluster of their own, listening only on a Unix socket in a
    # folder no one else may enter (so "trust" lets in this user alone), kept between runs.
    bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    base="${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}/bwv-postgres-$(id -u)"
    user=$(id -un)
    port=$((20000 + $(id -u) % 20000))
    mkdir -p "$base"
    chmod 700 "$base"
    if [ ! -f "$base/data/PG_VERSION" ]; then
        "$bin/initdb" -D "$base/data" -A trust -U "$user" >/dev/null
    fi
    if ! "$bin/pg_ctl" -D "$base/data" status >/dev/null 2>&1; then
        "$bin/pg_ctl" -D "$base/data" -l "$base/server.log" -w \
            -o "-c listen_addresses='' -c unix_socket_directories='$base' -p $port" start >&2
        echo "started $bin/pg_ctl $base/data"  # the caller stops what it started
    fi
    db="bwv_test_$$_$(date +%s)"
    "$bin/createdb" -h "$base" -p "$port" -U "$user" "$db"
    echo "postgresql+psycopg://$user@/$db?host=$base&port=$port"
    exit 0
fi
version=$(pg_lsclusters -h | awk 'NR==1 {print $1}')
cluster=$(pg_lsclusters -h | awk 'NR==1 {print $2}')
if [ -z "$version" ]; then
    version=$(ls /usr/lib/postgresql | sort -n | tail -1)
    cluster=main
    pg_createcluster "$version" "$cluster" >&2
fi
port=$(pg_lsclusters -h | awk -v v="$version" -v c="$cluster" '$1 == v && $2 == c {print $3}')
pg_ctlcluster "$version" "$cluster" start >&2 2>/dev/null || true
for _ in $(seq 1 50); do
    su postgres -c "pg_isready -q -p $port" && break
    sleep 0.2
done
db="bwv_test_$$_$(date +%s)"
password=$(head -c 18 /dev/urandom | base64 | tr -dc 'A-Za-z0-9')
# One role per database, so test sessions running at once never change each other's password;
# roles whose database is gone (earlier sessions) are dropped first.
su postgres -c "psql -q -p $port -v ON_ERROR_STOP=1" >&2 <<SQL
DO \$\$ DECLARE r record; BEGIN
  FOR r IN SELECT rolname FROM pg_roles WHERE rolname LIKE 'bwv\_test\_%'
      AND NOT EXISTS (SELECT 1 FROM pg_database d WHERE d.datdba = pg_roles.oid) LOOP
    EXECUTE format('DROP ROLE %I', r.rolname);
  END LOOP;
END \$\$;
CREATE ROLE $db LOGIN PASSWORD '$password';
CREATE DATABASE $db OWNER $db;
SQL
echo "postgresql+psycopg://$db:$password@127.0.0.1:$port/$db"
