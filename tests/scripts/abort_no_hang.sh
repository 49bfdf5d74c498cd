#!/usr/bin/env bash
# An exception on one rank ends every rank quickly, message printed once.
# usage: abort_no_hang.sh MPIEXEC DRIVER
set -u
mpiexec=$1 driver=$2
out=$(mktemp)
start=$(date +%s)
timeout 60 "$mpiexec" --oversubscribe -np 3 "$driver" >"$out" 2>&1
rc=$?
elapsed=$(( $(date +%s) - start ))
cat "$out"
fail() { echo "FAIL: $*"; rm -f "$out"; exit 1; }
[ "$rc" -ne 124 ] || fail "the job hung (killed by timeout after 60 s)"
[ "$rc" -ne 0 ] || fail "the job exited 0 although rank 1 failed"
[ "$elapsed" -le 30 ] || fail "the job took ${elapsed} s to end"
n=$(grep -c "injected failure on rank 1" "$out")
[ "$n" -eq 1 ] || fail "the message was printed $n times, expected once"
grep -q "\[1/3\].*error: injected failure" "$out" || fail "the message does not name rank 1 of 3"
echo "PASS: job ended in ${elapsed} s with exit code $rc, message printed once"
rm -f "$out"
