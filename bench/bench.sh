#!/usr/bin/env bash
# Speed and memory of svcctl beside the floor, on a private MariaDB (127.0.0.1 only):
#   1. listing 10,000 live services: `svcctl service list` (table and -f json) beside the
#      mariadb client over TCP running the smallest SELECT of the columns the table shows;
#   2. cleaning up a backend present on 2,000 nodes: `svcctl backend cleanup` beside one
#      hand-written UPDATE, and how many SQL statements svcctl needed for it.
# Each part is ONE paired run: the commands interleaved, RUNS times each, after a warm-up;
# medians of wall time (ns clock), peak RSS the largest seen. Prints figures; asserts nothing.
# Needs mariadb-server (mariadbd, mariadb-install-db, mariadb) and rustc (for bench/paired.rs).
#   bash bench/bench.sh [RUNS]       (default 11)
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-11}
ROWS=10000
NODES=2000

for tool in mariadbd mariadb-install-db mariadb; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || { echo "bench: $tool is missing (apt-get install -y mariadb-server)" >&2; exit 2; }
done
MARIADBD=$(command -v mariadbd || echo /usr/sbin/mariadbd)

cargo build --release -q
SVCCTL=$PWD/target/release/svcctl

DIR=$(mktemp -d /tmp/svcctl-bench.XXXXXX)
SOCK=$DIR/mysqld.sock
cleanup() { [ -f "$DIR/pid" ] && kill "$(cat "$DIR/pid")" 2>/dev/null; sleep 1; rm -rf "$DIR"; }
trap cleanup EXIT

rustc -O --edition 2024 -o "$DIR/paired" bench/paired.rs
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

mariadb-install-db --no-defaults --auth-root-authentication-method=normal --skip-test-db \
    --datadir="$DIR/data" --user="$(id -un)" >/dev/null
"$MARIADBD" --no-defaults --datadir="$DIR/data" --socket="$SOCK" --port="$PORT" \
    --bind-address=127.0.0.1 --user="$(id -un)" --pid-file="$DIR/pid" --skip-log-bin \
    --innodb-buffer-pool-size=256M --log-error="$DIR/error.log" >/dev/null 2>&1 &
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.2; done
ROOT=(mariadb --no-defaults --socket="$SOCK" -uroot)
"${ROOT[@]}" -e "CREATE DATABASE cinder; CREATE USER 'bench'@'127.0.0.1' IDENTIFIED BY 'bench'; GRANT ALL ON cinder.* TO 'bench'@'127.0.0.1';"
grep -v '^/\*M!999999' tests/fixtures/cinder-29.0.0-mysql-schema.sql | "${ROOT[@]}" cinder

# The client over TCP, as svcctl connects.
CLIENT=(mariadb --no-defaults --protocol=TCP -h127.0.0.1 -P"$PORT" -ubench -pbench cinder)
CONF=$DIR/cinder.conf
printf '[DEFAULT]\nhost = benchnode\n[database]\nconnection = mysql+pymysql://bench:bench@127.0.0.1:%s/cinder\n' "$PORT" > "$CONF"

"${ROOT[@]}" cinder -e "INSERT INTO services (created_at, updated_at, deleted, host, \`binary\`, topic, report_count, disabled, availability_zone, uuid)
  SELECT NOW(), NOW() - INTERVAL (seq % 120) SECOND, 0, CONCAT('node', LPAD(seq, 5, '0'), '@backend-', seq % 7), 'cinder-volume', 'cinder-volume', 1, 0, 'nova', UUID()
  FROM seq_1_to_${ROWS};"

# "LABEL median min max peak_kib" lines -> a table with the ratio of each median to the first
# line's (the floor), and the goals beside it.
report() {
    awk -F'\t' -v goal_x="$1" -v goal_mib="$2" '
        NR == 1 { base = $2 }
        {
            mib = $5 / 1024; ratio = $2 / base
            verdict = ""
            if (NR > 1) {
                verdict = sprintf("goal <= %sx", goal_x)
                if (goal_mib != "") verdict = verdict sprintf(", <= %s MiB", goal_mib)
                ok = ratio <= goal_x && (goal_mib == "" || mib <= goal_mib)
                verdict = verdict (ok ? ": met" : ": MISSED")
            }
            printf "  %-52s %8.1f ms (%6.1f-%6.1f) %6.1f MiB %6.2fx  %s\n", $1, $2 / 1e6, $3 / 1e6, $4 / 1e6, mib, ratio, verdict
        }'
}

echo "svcctl benchmark: MariaDB $("${ROOT[@]}" -N -e 'SELECT VERSION()') on 127.0.0.1, $(nproc) cores;"
echo "one paired run: the commands interleaved, median of $RUNS each (min-max), peak RSS the largest"
echo
echo "service list, $ROWS live services:"
printf '  %-52s %8s    %-15s %10s %7s\n' "" "wall" "(range)" "peak" "ratio"
FLOOR_SQL="SELECT \`binary\`, host, availability_zone, disabled, updated_at, created_at, modified_at, disabled_reason FROM services WHERE deleted = 0"
"$DIR/paired" "$RUNS" \
    ::: "mariadb client: SELECT of the table's columns" "" "${CLIENT[@]}" -e "$FLOOR_SQL" \
    ::: "svcctl service list (table)" "" "$SVCCTL" --config-file "$CONF" service list \
    ::: "svcctl service list -f json" "" "$SVCCTL" --config-file "$CONF" service list -f json \
    | report 1.5 20
echo

# A backend on NODES nodes, all down, seeded afresh (untimed) before every run of either side.
cat > "$DIR/seed.sql" <<EOF
DELETE FROM services WHERE host LIKE '%@backend-bench0001';
INSERT INTO services (created_at, updated_at, deleted, host, \`binary\`, topic, report_count, disabled, availability_zone, uuid)
  SELECT NOW() - INTERVAL 1 DAY, NOW() - INTERVAL 1 HOUR, 0, CONCAT('bnode', LPAD(seq, 5, '0'), '@backend-bench0001'), 'cinder-volume', 'cinder-volume', 1, 0, 'nova', UUID()
  FROM seq_1_to_${NODES};
EOF
SEED="mariadb --no-defaults --socket=$SOCK -uroot cinder < $DIR/seed.sql"
echo "backend cleanup, one backend on $NODES nodes (all down):"
"$DIR/paired" "$RUNS" \
    ::: "mariadb client: one UPDATE of $NODES services" "$SEED" "${CLIENT[@]}" -e "UPDATE services SET deleted = 1, deleted_at = UTC_TIMESTAMP(), updated_at = UTC_TIMESTAMP() WHERE deleted = 0 AND host LIKE '%@backend-bench0001'" \
    ::: "svcctl backend cleanup (plan + audit + write)" "$SEED" "$SVCCTL" --config-file "$CONF" backend cleanup backend-bench0001 --yes --no-kill --audit-log "$DIR/audit.jsonl" -f json \
    | report 2 ""
sh -c "$SEED"
statements=$("$SVCCTL" --config-file "$CONF" --debug backend cleanup backend-bench0001 --yes --no-kill --audit-log "$DIR/audit.jsonl" -f json 2>&1 >/dev/null | grep -c 'rows_affected' || true)
printf '  %-52s %8s\n' "SQL statements svcctl ran (constant in $NODES)" "$statements"
