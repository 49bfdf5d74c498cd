#!/usr/bin/env bash
# cluster/cron/refresh on a tiny model: a first refresh publishes `current`;
# a refresh while another holds the lock does nothing; a refresh killed in
# the middle (after grads) leaves `current` and its files untouched; the next
# one continues the unfinished run on 2 ranks, computes features only for the
# appended candidates (manifest counts) and selects what a from-scratch run
# on the grown corpus selects; old runs are pruned to --keep.
#
#   tests/scripts/cron_refresh.sh NTK_SELECT_BINARY
set -euo pipefail
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
refresh="$repo/cluster/cron/refresh"
tmp=$(mktemp -d /tmp/ntks-cron.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; for f in "$tmp"/root/logs/*.log; do echo "---- $f"; tail -n 25 "$f"; done >&2; exit 1; }
count() { /usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['counts'][sys.argv[2]])" "$@"; }

source "$here/tiny_run_inputs.sh"
tiny_run_inputs "$bin" "$tmp" 6 "$tmp/unused"
candidates() { for i in $(seq "$1" "$2"); do echo "{\"instruction\": \"q$i $((i % 4)) mg?\", \"output\": \"a$i $([[ $((i % 3)) == 0 ]] && echo no || echo mg)\", \"id\": \"c$i\"}"; done; }
candidates 0 29 >"$tmp/candidates.jsonl"
export OMP_NUM_THREADS=1
"$refresh" --help | grep -q "current " || fail "--help"

echo "== 1. first refresh"
"$refresh" -c "$tmp/config.yaml" -r "$tmp/root" >"$tmp/r1.out" 2>&1 || { cat "$tmp/r1.out"; fail "first refresh"; }
[[ -L "$tmp/root/current" && -f "$tmp/root/current/select/selected.jsonl" ]] || fail "no current selection"
[[ ! -e "$tmp/root/pending" ]] || fail "pending left after a complete run"
first=$(realpath "$tmp/root/current")
[[ $(ls "$tmp/root/logs" | wc -l) == 1 ]] || fail "one log per refresh"
cp "$first/select/selected_ids.txt" "$tmp/first_ids.txt"

echo "== 2. a refresh while another holds the lock"
flock "$tmp/root/.lock" sleep 4 &
sleep 1
out=$("$refresh" -c "$tmp/config.yaml" -r "$tmp/root" 2>&1) || fail "locked refresh failed: $out"
grep -q "another refresh of .* is running" <<<"$out" || fail "locked refresh did not say so: $out"
[[ $(ls "$tmp/root/runs" | wc -l) == 1 ]] || fail "the locked refresh made a run folder"
wait

echo "== 3. grown corpus, refresh killed after grads"
candidates 30 39 >>"$tmp/candidates.jsonl"
sleep 1  # a new second: a new run folder name
if NTKS_TEST_KILL_AFTER_STAGE=grads "$refresh" -c "$tmp/config.yaml" -r "$tmp/root" >"$tmp/r3.out" 2>&1; then
  cat "$tmp/r3.out"; fail "the killed refresh reported success"
fi
grep -q "FAILED" "$tmp/r3.out" || fail "no FAILED line"
[[ $(realpath "$tmp/root/current") == "$first" ]] || fail "current moved after a failed refresh"
cmp -s "$first/select/selected_ids.txt" "$tmp/first_ids.txt" || fail "the published selection changed"
[[ -L "$tmp/root/pending" ]] || fail "no pending link after a failed refresh"
pending=$(realpath "$tmp/root/pending")

echo "== 4. the next refresh continues it on 2 ranks"
sleep 1
"$refresh" -c "$tmp/config.yaml" -r "$tmp/root" -n 2 --keep 1 >"$tmp/r4.out" 2>&1 || { cat "$tmp/r4.out"; fail "refresh 4"; }
grep -q "continuing the unfinished run $pending" "$tmp/r4.out" || fail "did not continue the pending run"
grep -q "embed: up to date, skipped" "$tmp/r4.out" || fail "embed was not kept from the killed refresh"
now=$(realpath "$tmp/root/current")
[[ "$now" == "$pending" ]] || fail "current is $now, expected $pending"
[[ $(count "$now/embed/manifest.json" computed) == 10 ]] || fail "embed computed $(count "$now/embed/manifest.json" computed) rows, expected the 10 new"
[[ $(count "$now/embed/manifest.json" reused) == 36 ]] || fail "embed reused $(count "$now/embed/manifest.json" reused), expected 36"
[[ ! -e "$first" ]] || fail "--keep 1 kept the old run"
[[ $(ls "$tmp/root/logs" | wc -l) == 3 ]] || fail "expected 3 logs (the locked refresh writes none), got $(ls "$tmp/root/logs" | tr "\n" " ")"

echo "== 5. equal to a from-scratch run on the grown corpus"
"$bin" run --config "$tmp/config.yaml" --set run.dir="$tmp/scratch" >"$tmp/scratch.log" 2>&1 || { cat "$tmp/scratch.log"; fail "scratch run"; }
cmp "$now/select/selected_ids.txt" "$tmp/scratch/select/selected_ids.txt" || fail "selection differs from a from-scratch run"
cmp "$now/select/mixture.jsonl" "$tmp/scratch/select/mixture.jsonl" || fail "mixture differs from a from-scratch run"
echo "PASS"
