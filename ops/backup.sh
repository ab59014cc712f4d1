#!/usr/bin/env bash
# Back up PPO Case's PostgreSQL database: one pg_dump file in custom format (compressed;
# pg_restore reads it, table by table). Every table, the audit trail and its append-only
# trigger, the sequences and the migrations applied are in it.
#
#   DATABASE_URL=postgres://user:password@host:5432/ppo_case ops/backup.sh [FILE]
#   ops/backup.sh FILE DATABASE_URL
#
# FILE defaults to ppo_case-<UTC time>.dump here. pg_dump must be as new as the server
# (Debian/Ubuntu: postgresql-client-16 for docker-compose's PostgreSQL 16). The file holds
# every person's personal data: keep it as OFFICIAL-SENSITIVE, encrypted, off this machine.
# Exit codes: 0 done, 2 usage, 1 pg_dump failed (no file is left behind).
set -euo pipefail

usage() {
    echo "Usage: DATABASE_URL=postgres://... $0 [FILE]   or   $0 FILE DATABASE_URL" >&2
    exit 2
}

[ $# -le 2 ] || usage
file=${1:-ppo_case-$(date -u +%Y%m%dT%H%M%SZ).dump}
url=${2:-${DATABASE_URL:-}}
[ -n "$url" ] || { echo "Set DATABASE_URL or give it after the file." >&2; usage; }
case $url in
    postgres://* | postgresql://*) ;;
    *) echo "DATABASE_URL is not a PostgreSQL address (postgres://...)." >&2; exit 2 ;;
esac
if [ -e "$file" ]; then
    echo "$file already exists: choose another name (a backup is never overwritten)." >&2
    exit 2
fi

partial="$file.partial"
trap 'rm -f "$partial"' EXIT
# --no-owner/--no-privileges: the restore belongs to whoever restores it (the app's role).
pg_dump --format=custom --no-owner --no-privileges --file "$partial" "$url"
# Readable from end to end before it counts as a backup.
pg_restore --list "$partial" >/dev/null
mv "$partial" "$file"
trap - EXIT
echo "Backed up to $file ($(du -h "$file" | cut -f1))."
