#!/usr/bin/env bash
# The whole headless drill (`toban runbook run restore-postgres --drill`: scratch database,
# the dump verified and read in the same pass as psql restores it, every table's count(*)
# compared with the dump, the scratch database dropped) against bare
# `gunzip -c dump | psql` into an empty database, on the same 2,000,000-row dump, runs
# interleaved in one go: medians and the ratio (budget 1.3x).
# Usage: TOBAN_TEST_PG_URL=postgres://user:pw@host:port/postgres \
#        benches/drill_vs_psql.sh [path/to/release/toban] [runs]
# (cargo build --release first; psql, pg_dump and gzip on PATH)
set -euo pipefail
bin=$(realpath "${1:-target/release/toban}")
runs=${2:-7}
url=${TOBAN_TEST_PG_URL:?set TOBAN_TEST_PG_URL to an admin URL}
rest=${url#*://}; auth=${rest%@*}; hostpart=${rest##*@}
user=${auth%%:*}; pw=${auth#*:}; hostport=${hostpart%%/*}
host=${hostport%:*}; port=${hostport##*:}
dir=$(mktemp -d)
src=bench_drill_src; bare=bench_drill_bare
cleanup() {
    psql -X -q "$url" -c "DROP DATABASE IF EXISTS $src WITH (FORCE)" \
        -c "DROP DATABASE IF EXISTS $bare WITH (FORCE)" >/dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup EXIT
printf '%s:%s:*:%s:%s\n' "$host" "$port" "$user" "$pw" > "$dir/pgpass"
chmod 600 "$dir/pgpass"
export PGPASSFILE="$dir/pgpass"
psql -X -q "$url" -c "DROP DATABASE IF EXISTS $src WITH (FORCE)" -c "CREATE DATABASE $src" >/dev/null
psql -X -q -h "$host" -p "$port" -U "$user" -d "$src" >/dev/null <<'SQL'
CREATE TABLE items (id bigint PRIMARY KEY, name text NOT NULL, qty int NOT NULL, at timestamptz NOT NULL);
INSERT INTO items SELECT g, 'item ' || g, g % 97, '2026-01-01'::timestamptz + g * interval '1 second'
  FROM generate_series(1, 2000000) g;
CREATE TABLE notes (id serial PRIMARY KEY, body text);
INSERT INTO notes (body) SELECT 'note ' || g FROM generate_series(1, 1000) g;
SQL
pg_dump --clean --if-exists --no-owner -h "$host" -p "$port" -U "$user" -d "$src" | gzip > "$dir/dump.sql.gz"
echo "dump: $(stat -c %s "$dir/dump.sql.gz") bytes gzipped, $(gunzip -c "$dir/dump.sql.gz" | wc -c) bytes of SQL"

home="$dir/home"; mkdir -p "$home/c/toban"
printf '[runbooks.connections]\npg = "%s"\n' "$url" > "$home/c/toban/config.toml"
drill() {
    HOME="$home" XDG_CONFIG_HOME="$home/c" XDG_DATA_HOME="$home/d" XDG_STATE_HOME="$home/s" \
        "$bin" runbook run restore-postgres --drill --set "dump=$dir/dump.sql.gz" \
        --set "database=$src" --set "host=$host" --set "port=$port" --set "user=$user" \
        --set "passfile=$dir/pgpass" --set connection=pg --set services= --set health_url= \
        > "$dir/drill.out" 2>&1 || { cat "$dir/drill.out"; exit 1; }
}
bare_restore() {
    gunzip -c "$dir/dump.sql.gz" | psql -X -q -v ON_ERROR_STOP=1 -h "$host" -p "$port" \
        -U "$user" -d "$bare" > /dev/null
}
now_us() { echo $(( $(date +%s%N) / 1000 )); }
d_times=(); b_times=()
for _ in $(seq "$runs"); do
    psql -X -q "$url" -c "DROP DATABASE IF EXISTS $bare WITH (FORCE)" -c "CREATE DATABASE $bare" >/dev/null
    t0=$(now_us); bare_restore; t1=$(now_us); b_times+=($((t1 - t0)))
    t0=$(now_us); drill; t1=$(now_us); d_times+=($((t1 - t0)))
done
median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
d=$(median "${d_times[@]}"); b=$(median "${b_times[@]}")
printf 'headless drill          median %6.2f s  (runs: %s)\n' "$(echo "$d / 1000000" | bc -l)" "${d_times[*]}"
printf 'gunzip -c dump | psql   median %6.2f s  (runs: %s)\n' "$(echo "$b / 1000000" | bc -l)" "${b_times[*]}"
printf 'ratio drill / bare: %.2f (budget 1.30)\n' "$(echo "$d / $b" | bc -l)"
grep -i "compare\|drill" "$dir/drill.out" | tail -3 || true
