#!/usr/bin/env bash
# Speed and memory of svcctl beside the floor, on a private MariaDB (127.0.0.1 only):
#   1. listing 10,000 and 100,000 live services, in every format (table, json, csv, value,
#      yaml), beside the mariadb client over TCP running the smallest SELECT of the columns the
#      table shows; and 100,000 rows against 10,000 of the same format (time and memory);
#   2. cleaning up a backend present on 2,000 and on 20,000 nodes: `svcctl backend cleanup`
#      beside one hand-written UPDATE, and how many SQL statements svcctl needed for each;
#   3. `service check` (plain, --textfile) and `service list -f prometheus` on the 10,000
#      services beside the same floor as the listing, and how many statements the check ran.
# Each part is ONE paired run: the commands interleaved, RUNS times each, after a warm-up;
# medians of wall time (ns clock), peak RSS the largest seen. Prints figures; asserts nothing.
# Needs mariadb-server (mariadbd, mariadb-install-db, mariadb) and rustc (for bench/paired.rs).
#   bash bench/bench.sh [RUNS]       (default 11)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-11}
. bench/lib.sh

cargo build --release -q
SVCCTL=$PWD/target/release/svcctl

bench_start
rustc -O --edition 2024 -o "$DIR/paired" bench/paired.rs
bench_database cinder 10000
bench_database cinder100k 100000

echo "svcctl benchmark: MariaDB $("${ROOT[@]}" -N -e 'SELECT VERSION()') on 127.0.0.1, $(nproc) cores;"
echo "one paired run per part: the commands interleaved, median of $RUNS each (min-max), peak RSS the largest"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo

# "LABEL median min max peak_kib" lines, the cases below in their order -> two tables: each
# size against its floor, and 100,000 rows against 10,000 of the same format.
FORMATS=(table json csv value yaml)
report_list() {
    awk -F'\t' -v nf="${#FORMATS[@]}" '
        function line(i, base, goal,    mib, ratio, verdict) {
            mib = peak[i] / 1024; ratio = med[i] / med[base]
            verdict = ""
            if (goal != "") {
                ok = ratio <= 1.5 && mib <= 20
                verdict = "goal <= 1.5x, <= 20 MiB: " (ok ? "met" : "MISSED")
            }
            printf "  %-44s %8.1f ms (%6.1f-%6.1f) %6.1f MiB %6.2fx  %s\n", label[i], med[i] / 1e6, lo[i] / 1e6, hi[i] / 1e6, mib, ratio, verdict
        }
        { label[NR] = $1; med[NR] = $2; lo[NR] = $3; hi[NR] = $4; peak[NR] = $5 }
        END {
            n = nf + 1
            print "service list, 10000 live services:"
            printf "  %-44s %8s    %-15s %10s %7s\n", "", "wall", "(range)", "peak", "ratio"
            for (i = 1; i <= n; i++) line(i, 1, (i == 2 || i == 3) ? "goal" : "")
            print ""
            print "service list, 100000 live services:"
            printf "  %-44s %8s    %-15s %10s %7s   %s\n", "", "wall", "(range)", "peak", "ratio", "against 10000 rows: time, peak"
            for (i = n + 1; i <= 2 * n; i++) {
                mib = peak[i] / 1024; ratio = med[i] / med[n + 1]
                tx = med[i] / med[i - n]; mx = peak[i] / peak[i - n]
                verdict = (i == n + 1) ? "" : sprintf("goal <= 10x, <= 5x: %s", (tx <= 10 && mx <= 5) ? "met" : "MISSED")
                printf "  %-44s %8.1f ms (%6.1f-%6.1f) %6.1f MiB %6.2fx   %5.2fx %5.2fx  %s\n", label[i], med[i] / 1e6, lo[i] / 1e6, hi[i] / 1e6, mib, ratio, tx, mx, verdict
            }
        }'
}

FLOOR_SQL="SELECT \`binary\`, host, availability_zone, disabled, updated_at, created_at, modified_at, disabled_reason FROM services WHERE deleted = 0"
cases=()
for db in cinder cinder100k; do
    bench_client "$db"
    cases+=(::: "mariadb client: SELECT of the table's columns" "" "${CLIENT[@]}" -e "$FLOOR_SQL")
    for f in "${FORMATS[@]}"; do
        label="svcctl service list -f $f"
        [ "$f" = table ] && label="svcctl service list (table)"
        cases+=(::: "$label" "" "$SVCCTL" --config-file "$DIR/$db.conf" service list -f "$f")
    done
done
"$DIR/paired" "$RUNS" "${cases[@]}" | report_list
echo

# A backend on N nodes, all down, seeded afresh (untimed) before every run of either side.
report_cleanup() {
    awk -F'\t' '
        NR % 2 == 1 { base = $2; verdict = "" }
        NR % 2 == 0 { verdict = (NR == 2) ? sprintf("goal <= 2x: %s", ($2 / base <= 2) ? "met" : "MISSED") : "" }
        {
            printf "  %-52s %8.1f ms (%6.1f-%6.1f) %6.1f MiB %6.2fx  %s\n", $1, $2 / 1e6, $3 / 1e6, $4 / 1e6, $5 / 1024, $2 / base, verdict
        }'
}
bench_client cinder
CONF=$DIR/cinder.conf
cases=()
for nodes in 2000 20000; do
    key=backend-bench$nodes
    bench_backend cinder "$key" "$nodes"
    cases+=(::: "mariadb client: one UPDATE of $nodes services" "sh $DIR/seed-$key.sh"
        "${CLIENT[@]}" -e "UPDATE services SET deleted = 1, deleted_at = UTC_TIMESTAMP(), updated_at = UTC_TIMESTAMP() WHERE deleted = 0 AND host LIKE '%@$key'")
    cases+=(::: "svcctl backend cleanup, $nodes nodes (plan+audit+write)" "sh $DIR/seed-$key.sh"
        "$SVCCTL" --config-file "$CONF" backend cleanup "$key" --yes --no-kill --audit-log "$DIR/audit.jsonl" -f json)
done
echo "backend cleanup, one backend on 2000 and on 20000 nodes (all down):"
"$DIR/paired" "$RUNS" "${cases[@]}" | report_cleanup
counts=()
for nodes in 2000 20000; do
    key=backend-bench$nodes
    sh "$DIR/seed-$key.sh"
    counts+=("$("$SVCCTL" --config-file "$CONF" --debug backend cleanup "$key" --yes --no-kill --audit-log "$DIR/audit.jsonl" -f json 2>&1 >/dev/null | grep -c 'rows_affected' || true)")
done
printf '  %-52s %8s\n' "SQL statements svcctl ran, 2000 nodes / 20000 nodes" "${counts[0]} / ${counts[1]}"

# service check, a monitoring plugin run every minute, beside the same floor on the same 10,000
# services: heartbeats fresh (a day's service_down_time keeps them up for the whole run), 1,000
# down 8 days (stale candidates, whose references are counted), 100 of those with a volume (in
# use). Rules loosened to exit 0: paired counts any other exit as a failure.
report_check() {
    awk -F'\t' '
        NR == 1 { base = $2 }
        {
            mib = $5 / 1024; ratio = $2 / base
            verdict = ""
            if (NR > 1) verdict = "goal <= 1.5x, <= 20 MiB: " ((ratio <= 1.5 && mib <= 20) ? "met" : "MISSED")
            printf "  %-52s %8.1f ms (%6.1f-%6.1f) %6.1f MiB %6.2fx  %s\n", $1, $2 / 1e6, $3 / 1e6, $4 / 1e6, mib, ratio, verdict
        }'
}
CHECK_CONF=$DIR/check.conf
printf '[DEFAULT]\nhost = benchnode\nservice_down_time = 86400\n[database]\nconnection = mysql+pymysql://bench:bench@127.0.0.1:%s/cinder\nmax_retries = 0\n' "$PORT" >"$CHECK_CONF"
"${ROOT[@]}" cinder -e "UPDATE services SET updated_at = UTC_TIMESTAMP() WHERE deleted = 0 AND host LIKE 'node%';
  UPDATE services SET updated_at = UTC_TIMESTAMP() - INTERVAL 8 DAY WHERE deleted = 0 AND host LIKE 'node%' AND id % 10 = 0;
  INSERT INTO volumes (created_at, deleted, id, host, status, volume_type_id, use_quota)
    SELECT UTC_TIMESTAMP(), 0, UUID(), CONCAT(host, '#pool'), 'available', 'vt', 1 FROM services
    WHERE deleted = 0 AND host LIKE 'node%' AND id % 100 = 0;"
bench_client cinder
CHECK=("$SVCCTL" --config-file "$CHECK_CONF" service check --warning-down 0 --stale-is ok)
echo
echo "service check, 10000 live services (1,000 down 8 days, 100 of them in use):"
"$DIR/paired" "$RUNS" \
    ::: "mariadb client: SELECT of the table's columns" "" "${CLIENT[@]}" -e "$FLOOR_SQL" \
    ::: "svcctl service check" "" "${CHECK[@]}" \
    ::: "svcctl service check --textfile" "" "${CHECK[@]}" --textfile "$DIR/cinder.prom" \
    ::: "svcctl service list -f prometheus" "" "$SVCCTL" --config-file "$CHECK_CONF" service list -f prometheus \
    | report_check
statements=$("$SVCCTL" --config-file "$CHECK_CONF" --debug service check --stale-is ok 2>&1 >/dev/null | grep -c 'rows_returned' || true)
printf '  %-52s %8s\n' "SQL statements service check ran (constant)" "$statements"
echo
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
