#!/bin/sh
# Decommission a dead Cinder node with svcctl, for automation: disable it with a reason, move
# its volumes (keeping their pools) and backups to another node's same backends, wait until
# it is down, delete its services. Relies only on svcctl's exit codes and -f json/value
# output; safe to re-run (--missing-ok): a step with nothing left to do exits 0.
#
#   scripts/decommission-example.sh NODE TARGET_NODE "REASON"
#   e.g. SVCCTL="cargo run -q -- --config-file cinder.conf.example" \
#        scripts/decommission-example.sh node02 node01 "RMA 4711: mainboard"
#
# Exit codes are svcctl's: 3 = refused (a target down or missing, a volume busy, node still
# up), nothing changed by that step; 1 = database trouble; 2 = usage.
set -eu
NODE=${1:?usage: $0 NODE TARGET_NODE REASON}
TARGET=${2:?usage: $0 NODE TARGET_NODE REASON}
REASON=${3:?usage: $0 NODE TARGET_NODE REASON}
SVCCTL=${SVCCTL:-svcctl}
AUDIT=${AUDIT:-/var/log/svcctl/audit.jsonl}
WAIT=${WAIT:-300}

run() { $SVCCTL "$@" --yes --missing-ok --audit-log "$AUDIT" -f json; }

# 1. Nothing new is scheduled onto the node. (For services in a cluster the scheduler reads
#    only the cluster's flag: svcctl warns; disable the cluster too, with --cluster, when the
#    whole cluster goes.)
run service disable --host "$NODE" --host "$NODE@*" --reason "$REASON" >/dev/null

# 2. Each of its volume backends' volumes (and groups) to the same backend on TARGET.
for host in $($SVCCTL service list --host "$NODE@*" --binary cinder-volume -f value -c host); do
    backend=${host#*@}
    txn=$(run volume move-host --from "$host" --to "$TARGET@$backend" | jq -r '.txn // empty')
    [ -n "$txn" ] && echo "moved $host -> $TARGET@$backend (undo: svcctl volume move-host --undo $txn)"
done
# Its backups, if it ran cinder-backup.
if [ -n "$($SVCCTL service list --host "$NODE" --binary cinder-backup -f value -c host)" ]; then
    run backup move-host --from "$NODE" --to "$TARGET" >/dev/null
fi

# 3. Wait until none of its services is up (a running one would recreate its row).
deadline=$(( $(date +%s) + WAIT ))
while [ "$($SVCCTL service list --host "$NODE" --host "$NODE@*" --state up -f json | jq length)" != 0 ]; do
    [ "$(date +%s)" -lt "$deadline" ] || { echo "$NODE still up after ${WAIT}s" >&2; exit 3; }
    sleep 10
done

# 4. Delete its services; refused (exit 3) if anything still uses them.
run service delete --host "$NODE" --host "$NODE@*" | jq -r '.deleted[] | "deleted \(.binary) \(.host)"'
