#!/usr/bin/env bash
# Start Debian's PostgreSQL and make a throwaway database for the test suite.
# Prints the SQLAlchemy URL on standard output (its own role and database). Installs the server with apt-get (as root) when missing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
"$here/ensure_system_deps.sh" postgresql >&2
if [ "$(id -u)" -ne 0 ]; then
    echo "starting PostgreSQL for the tests needs root (pg_ctlcluster, su postgres)" >&2
    exit 1
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
