#!/usr/bin/env bash
# Speed and memory of svcctl beside the mariadb client, on a private MariaDB (127.0.0.1 only):
#   1. listing 10,000 live services: svcctl service list (json, table) vs the equivalent SELECT;
#   2. cleaning up a backend present on 2,000 nodes: svcctl backend cleanup vs one hand-written
#      UPDATE, and how many SQL statements svcctl needed for it.
# Prints its figures; asserts nothing. Needs mariadb-server (mariadbd, mariadb-install-db,
# mariadb) and GNU time at /usr/bin/time.
#   bash bench/bench.sh [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
RUNS=${1:-5}
ROWS=10000
NODES=2000

for tool in mariadbd mariadb-install-db mariadb; do
    command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || { echo "bench: $tool is missing (apt-get install -y mariadb-server)" >&2; exit 2; }
done
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time is missing (apt-get install -y time)" >&2; exit 2; }
MARIADBD=$(command -v mariadbd || echo /usr/sbin/mariadbd)

cargo build --release -q
SVCCTL=$PWD/target/release/svcctl

DIR=$(mktemp -d /tmp/svcctl-bench.XXXXXX)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
SOCK=$DIR/mysqld.sock
cleanup() { [ -f "$DIR/pid" ] && kill "$(cat "$DIR/pid")" 2>/dev/null; sleep 1; rm -rf "$DIR"; }
trap cleanup EXIT

mariadb-install-db --no-defaults --auth-root-authentication-method=normal --skip-test-db \
    --datadir="$DIR/data" --user="$(id -un)" >/dev/null
"$MARIADBD" --no-defaults --datadir="$DIR/data" --socket="$SOCK" --port="$PORT" \
    --bind-address=127.0.0.1 --user="$(id -un)" --pid-file="$DIR/pid" --skip-log-bin \
    --innodb-buffer-pool-size=256M --log-error="$DIR/error.log" >/dev/null 2>&1 &
for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.2; done
ROOT=(mariadb --no-defaults --socket="$SOCK" -uroot)
"${ROOT[@]}" -e "CREATE DATABASE cinder; CREATE USER 'bench'@'127.0.0.1' IDENTIFIED BY 'bench'; GRANT ALL ON cinder.* TO 'bench'@'127.0.0.1';"
grep -v '^/\*M!999999' ../shared/fixtures/cinder-29.0.0-mysql-schema.sql | "${ROOT[@]}" cinder

CLIENT=(mariadb --no-defaults -h127.0.0.1 -P"$PORT" -ubench -pbench cinder)
CONF=$DIR/cinder.conf
printf '[DEFAULT]\nhost = benchnode\n[database]\nconnection = mysql+pymysql://bench:bench@127.0.0.1:%s/cinder\n' "$PORT" > "$CONF"

# Median of RUNS runs: "seconds max_rss_kib".
measure() {
    local out=()
    for _ in $(seq "$RUNS"); do
        /usr/bin/time -f '%e %M' -o "$DIR/t" "$@" >/dev/null 2>"$DIR/err" || { cat "$DIR/err" >&2; return 1; }
        out+=("$(cat "$DIR/t")")
    done
    printf '%s\n' "${out[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p"
}
row() { printf '%-58s %9s s %9.1f MiB\n' "$1" "$2" "$(echo "$3 / 1024" | bc -l)"; }

"${ROOT[@]}" cinder -e "INSERT INTO services (created_at, updated_at, deleted, host, \`binary\`, topic, report_count, disabled, availability_zone, uuid)
  SELECT NOW(), NOW() - INTERVAL (seq % 120) SECOND, 0, CONCAT('node', LPAD(seq, 5, '0'), '@backend-', seq % 7), 'cinder-volume', 'cinder-volume', 1, 0, 'nova', UUID()
  FROM seq_1_to_${ROWS};"

echo "svcctl benchmark: $ROWS live services, median of $RUNS runs, MariaDB $("${ROOT[@]}" -N -e 'SELECT VERSION()') on 127.0.0.1"
echo
read -r t m < <(measure "${CLIENT[@]}" -e "SELECT id, uuid, \`binary\`, host, availability_zone, disabled, updated_at, created_at, disabled_reason, cluster_name, replication_status, active_backend_id, frozen FROM services WHERE deleted = 0 ORDER BY \`binary\`, host, id")
row "mariadb client: equivalent SELECT" "$t" "$m"; base=$t
read -r t m < <(measure "$SVCCTL" --config-file "$CONF" service list -f json)
row "svcctl service list -f json" "$t" "$m"; json=$t
read -r t m < <(measure "$SVCCTL" --config-file "$CONF" service list)
row "svcctl service list (table)" "$t" "$m"
printf '%-58s %9.2f x\n' "svcctl json / client (target: within 1.5x)" "$(echo "$json / $base" | bc -l)"
echo

# A backend on NODES nodes, all down: cleanup vs one UPDATE.
seed_backend() {
    "${ROOT[@]}" cinder -e "DELETE FROM services WHERE host LIKE '%@backend-bench0001';
      INSERT INTO services (created_at, updated_at, deleted, host, \`binary\`, topic, report_count, disabled, availability_zone, uuid)
      SELECT NOW() - INTERVAL 1 DAY, NOW() - INTERVAL 1 HOUR, 0, CONCAT('bnode', LPAD(seq, 5, '0'), '@backend-bench0001'), 'cinder-volume', 'cinder-volume', 1, 0, 'nova', UUID()
      FROM seq_1_to_${NODES};"
}
cleanup_times=()
update_times=()
for _ in $(seq "$RUNS"); do
    seed_backend
    /usr/bin/time -f '%e %M' -o "$DIR/t" "$SVCCTL" --config-file "$CONF" backend cleanup backend-bench0001 --yes --no-kill --audit-log "$DIR/audit.jsonl" -f json >/dev/null 2>"$DIR/err" || { cat "$DIR/err"; exit 1; }
    cleanup_times+=("$(cat "$DIR/t")")
    seed_backend
    /usr/bin/time -f '%e %M' -o "$DIR/t" "${CLIENT[@]}" -e "UPDATE services SET deleted = 1, deleted_at = UTC_TIMESTAMP(), updated_at = UTC_TIMESTAMP() WHERE deleted = 0 AND host LIKE '%@backend-bench0001'" 2>/dev/null
    update_times+=("$(cat "$DIR/t")")
done
mid=$(( (RUNS + 1) / 2 ))
read -r t m < <(printf '%s\n' "${update_times[@]}" | sort -n | sed -n "${mid}p")
row "mariadb client: one UPDATE of $NODES services" "$t" "$m"
read -r t m < <(printf '%s\n' "${cleanup_times[@]}" | sort -n | sed -n "${mid}p")
row "svcctl backend cleanup ($NODES nodes, plan + audit + write)" "$t" "$m"
seed_backend
statements=$("$SVCCTL" --config-file "$CONF" --debug backend cleanup backend-bench0001 --yes --no-kill --audit-log "$DIR/audit.jsonl" -f json 2>&1 >/dev/null | grep -c 'rows_affected' || true)
printf '%-58s %9s\n' "SQL statements svcctl ran for $NODES services (constant)" "$statements"
