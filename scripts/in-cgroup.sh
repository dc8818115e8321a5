#!/usr/bin/env bash
# Run a command inside a fresh cgroup-v1 memory cgroup with a cold page cache.
#
#   scripts/in-cgroup.sh 600M ./ferry bench -m model.gguf --mem 536MiB
#
# Needs root. The limit counts the process's memory and the page cache it
# causes, as the kernel charges it; swap is not used. The cgroup's peak usage
# (memory.max_usage_in_bytes) is printed at the end.
set -euo pipefail
limit=$1; shift
cg=/sys/fs/cgroup/memory/ferry-bench-$$
mkdir "$cg"
trap 'rmdir "$cg" 2>/dev/null || true' EXIT
echo "$limit" > "$cg/memory.limit_in_bytes"
[ -f "$cg/memory.memsw.limit_in_bytes" ] && echo "$limit" > "$cg/memory.memsw.limit_in_bytes" || true
sync
echo 3 > /proc/sys/vm/drop_caches
set +e
bash -c 'echo $$ > '"$cg"'/cgroup.procs; exec "$@"' bash "$@"
status=$?
set -e
echo "cgroup $limit: peak usage $(( $(cat "$cg/memory.max_usage_in_bytes") / 1048576 )) MiB, failcnt $(cat "$cg/memory.failcnt")" >&2
exit $status
