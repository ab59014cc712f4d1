#!/usr/bin/env bash
# Restore a backup made by ops/backup.sh into an EMPTY PostgreSQL database.
#
#   DATABASE_URL=postgres://user:password@host:5432/ppo_case_restored ops/restore.sh FILE
#   ops/restore.sh FILE DATABASE_URL
#
# Make the database first (createdb, or docker compose's POSTGRES_DB on a fresh volume).
# A database that already has tables, sequences, views or functions of its own is refused
# (exit 3) and left as it was: a restore never mixes two databases' rows. The restore is
# one transaction: if any part fails, nothing of it is left (exit 1). The audit trail's
# append-only trigger is restored with the rows it protects. Run `manage.py migrate`
# afterwards only if the code is newer than the backup.
# Exit codes: 0 restored, 1 pg_restore failed (nothing changed), 2 usage or unreadable
# file, 3 the database is not empty.
set -euo pipefail

usage() {
    echo "Usage: DATABASE_URL=postgres://... $0 FILE   or   $0 FILE DATABASE_URL" >&2
    exit 2
}

[ $# -ge 1 ] && [ $# -le 2 ] || usage
file=$1
url=${2:-${DATABASE_URL:-}}
[ -n "$url" ] || { echo "Set DATABASE_URL or give it after the file." >&2; usage; }
case $url in
    postgres://* | postgresql://*) ;;
    *) echo "DATABASE_URL is not a PostgreSQL address (postgres://...)." >&2; exit 2 ;;
esac
if ! pg_restore --list "$file" >/dev/null 2>&1; then
    echo "$file is not a backup pg_restore can read (ops/backup.sh makes them)." >&2
    exit 2
fi

# Anything of its own in the target: relations and functions outside PostgreSQL's schemas.
objects=$(psql "$url" -X -q -t -A -v ON_ERROR_STOP=1 -c "
    SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
              AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%')
         + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
            WHERE n.nspname NOT IN ('pg_catalog', 'information_schema'))")
if [ "$objects" != 0 ]; then
    database=$(psql "$url" -X -q -t -A -c "SELECT current_database()")
    echo "Refusing to restore: database \"$database\" is not empty ($objects tables," \
        "sequences, views or functions). Restore into a new, empty database" \
        "(createdb NAME); nothing was changed." >&2
    exit 3
fi

pg_restore --no-owner --no-privileges --exit-on-error --single-transaction \
    --dbname "$url" "$file"
psql "$url" -X -q -v ON_ERROR_STOP=1 -c "ANALYZE" >/dev/null
echo "Restored $file."
