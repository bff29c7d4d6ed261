# The benchmark's private MariaDB (127.0.0.1 only), shared by bench.sh and profile.sh: sourced,
# not run. Needs mariadb-server (mariadbd, mariadb-install-db, mariadb).
#
#   bench_start                 starts the server in a fresh $DIR, stopped again on exit
#   bench_database NAME ROWS    database NAME with Cinder 29's schema and ROWS live services;
#                               writes $DIR/NAME.conf (a cinder.conf that points svcctl at it)
#   bench_client NAME           the mariadb client over TCP to NAME, as svcctl connects ("${CLIENT[@]}")
#   bench_backend NAME KEY N    $DIR/seed-KEY.sql: re-creates backend KEY on N nodes, all down
#                               (run untimed before every cleanup; $DIR/seed-KEY.sh runs it)

bench_start() {
    local tool
    for tool in mariadbd mariadb-install-db mariadb; do
        command -v "$tool" >/dev/null 2>&1 || [ -x "/usr/sbin/$tool" ] || {
            echo "bench: $tool is missing (apt-get install -y mariadb-server)" >&2
            exit 2
        }
    done
    local mariadbd
    mariadbd=$(command -v mariadbd || echo /usr/sbin/mariadbd)
    DIR=$(mktemp -d /tmp/svcctl-bench.XXXXXX)
    SOCK=$DIR/mysqld.sock
    trap bench_stop EXIT
    PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
    mariadb-install-db --no-defaults --auth-root-authentication-method=normal --skip-test-db \
        --datadir="$DIR/data" --user="$(id -un)" >/dev/null
    "$mariadbd" --no-defaults --datadir="$DIR/data" --socket="$SOCK" --port="$PORT" \
        --bind-address=127.0.0.1 --user="$(id -un)" --pid-file="$DIR/pid" --skip-log-bin \
        --innodb-buffer-pool-size=256M --log-error="$DIR/error.log" >/dev/null 2>&1 &
    for _ in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.2; done
    ROOT=(mariadb --no-defaults --socket="$SOCK" -uroot)
    "${ROOT[@]}" -e "CREATE USER 'bench'@'127.0.0.1' IDENTIFIED BY 'bench';"
}

bench_stop() {
    [ -f "$DIR/pid" ] && kill "$(cat "$DIR/pid")" 2>/dev/null
    sleep 1
    rm -rf "$DIR"
}

bench_database() {
    local name=$1 rows=$2
    "${ROOT[@]}" -e "CREATE DATABASE $name; GRANT ALL ON $name.* TO 'bench'@'127.0.0.1';"
    grep -v '^/\*M!999999' tests/fixtures/cinder-29.0.0-mysql-schema.sql | "${ROOT[@]}" "$name"
    # Hosts node000001@backend-1 ...: one width for every size, so 10,000 and 100,000 rows
    # differ in number only.
    "${ROOT[@]}" "$name" -e "INSERT INTO services (created_at, updated_at, deleted, host, \`binary\`, topic, report_count, disabled, availability_zone, uuid)
      SELECT NOW(), NOW() - INTERVAL (seq % 120) SECOND, 0, CONCAT('node', LPAD(seq, 6, '0'), '@backend-', seq % 7), 'cinder-volume', 'cinder-volume', 1, 0, 'nova', UUID()
      FROM seq_1_to_${rows};"
    printf '[DEFAULT]\nhost = benchnode\n[database]\nconnection = mysql+pymysql://bench:bench@127.0.0.1:%s/%s\n' \
        "$PORT" "$name" >"$DIR/$name.conf"
}

bench_client() {
    CLIENT=(mariadb --no-defaults --protocol=TCP -h127.0.0.1 -P"$PORT" -ubench -pbench "$1")
}

bench_backend() {
    local name=$1 key=$2 nodes=$3
    cat >"$DIR/seed-$key.sql" <<EOF
DELETE FROM services WHERE host LIKE '%@$key';
INSERT INTO services (created_at, updated_at, deleted, host, \`binary\`, topic, report_count, disabled, availability_zone, uuid)
  SELECT NOW() - INTERVAL 1 DAY, NOW() - INTERVAL 1 HOUR, 0, CONCAT('bnode', LPAD(seq, 6, '0'), '@$key'), 'cinder-volume', 'cinder-volume', 1, 0, 'nova', UUID()
  FROM seq_1_to_${nodes};
EOF
    printf 'mariadb --no-defaults --socket=%s -uroot %s < %s\n' "$SOCK" "$name" "$DIR/seed-$key.sql" >"$DIR/seed-$key.sh"
}
