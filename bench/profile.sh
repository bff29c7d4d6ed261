#!/usr/bin/env bash
# Where the benchmark's time goes: callgrind instruction counts (independent of the machine's
# load) of `service list` (10,000 live services: table, -f json) and `backend cleanup` (one
# backend on 2,000 nodes), on the benchmark's private MariaDB (127.0.0.1 only); and the CPU time
# mariadbd spends per listing, from /proc. Prints the totals and the costliest functions
# (inclusive); keeps the callgrind files in target/profile/ for callgrind_annotate.
# Needs valgrind and mariadb-server. Builds the `profiling` profile (release with symbols).
#   bash bench/profile.sh [TOP]     (default 40 functions each)
#   ROWS=100000 bash bench/profile.sh   (another number of services to list)
set -euo pipefail
cd "$(dirname "$0")/.."
TOP=${1:-40}
ROWS=${ROWS:-10000}
command -v valgrind >/dev/null || { echo "profile: valgrind is missing (apt-get install -y valgrind)" >&2; exit 2; }
cargo build --profile profiling -q
SVCCTL=$PWD/target/profiling/svcctl
OUT=$PWD/target/profile
mkdir -p "$OUT"

. bench/lib.sh
bench_start
bench_database cinder "$ROWS"
bench_backend cinder backend-bench0001 2000
CONF=$DIR/cinder.conf

# $1 label, then the command: runs it under callgrind, prints its total and top functions.
profile() {
    local label=$1 file
    shift
    file=$OUT/callgrind.$label
    valgrind --tool=callgrind --callgrind-out-file="$file" "$@" >/dev/null 2>"$OUT/$label.err"
    echo "== $label: $(grep -m1 '^summary:' "$file" | awk '{printf "%.1fM instructions", $2 / 1e6}')"
    # Inclusive, then self cost; paths shortened. `|| true`: head closes the pipe early.
    for inclusive in yes no; do
        echo "-- ${label}, $([ $inclusive = yes ] && echo inclusive || echo self):"
        { callgrind_annotate --inclusive=$inclusive "$file" 2>/dev/null || true; } |
            awk '/^-+$/ { n++; next } n >= 3 && NF' | grep -v 'PROGRAM TOTALS' |
            sed -E 's#/rustc/[0-9a-f]+/library/|/root/.cargo/registry/src/[^/]+/|'"$PWD"'/##' |
            head -n "$TOP" | cut -c1-160 || true
    done
    echo
}

profile list-table "$SVCCTL" --config-file "$CONF" service list
profile list-json "$SVCCTL" --config-file "$CONF" service list -f json
sh "$DIR/seed-backend-bench0001.sh"
profile cleanup "$SVCCTL" --config-file "$CONF" backend cleanup backend-bench0001 --yes --no-kill \
    --audit-log "$DIR/audit.jsonl" -f json

# The server's share: mariadbd's CPU time (utime + stime, in clock ticks) over 20 listings.
ticks() { awk '{ print $14 + $15 }' "/proc/$(cat "$DIR/pid")/stat"; }
bench_client cinder
hz=$(getconf CLK_TCK)
for what in floor table; do
    before=$(ticks)
    for _ in $(seq 20); do
        if [ "$what" = floor ]; then
            "${CLIENT[@]}" -e "SELECT \`binary\`, host, availability_zone, disabled, updated_at, created_at, modified_at, disabled_reason FROM services WHERE deleted = 0" >/dev/null
        else
            "$SVCCTL" --config-file "$CONF" service list >/dev/null
        fi
    done
    echo "mariadbd CPU per $what listing: $(( ($(ticks) - before) * 1000 / hz / 20 )) ms"
done
