#!/usr/bin/env bash
# Selection quality on labelled real text: for each WordNet domain, the share
# of on-topic samples among M = select.size picked from its 5000-sample pool
# (5% on-topic) by
#   random         M pool samples drawn with a fixed seed (its expectation is the base rate)
#   kNN            the pre-selection alone: its M most relevant (relevance count, then distance)
#   pre-selected   all m = 4M samples the pre-selection hands to the gradient stage
#   NTK (paper)    the paper's score, <g(c), domain mean g> (score.rule ntk), M of those m
#   NTK (lda)      the whitened domain-vs-pool discriminant of the same gradients
#                  (score.rule lda, configs/demo.yaml's choice), M of those m
# with the proxy model cluster/proxy-model trains here (4-layer Llama, real
# English text, none of these samples). The labels are only read here, to
# count; the selection never sees them. Prints a Markdown table (the README's)
# and writes it with the per-domain figures to build/demo/quality/quality.md
# and quality.json.
#
#   bench/quality.sh [BUILD_DIR] [-- extra `ntk-select run` options, e.g. --set grads.output=log_likelihood]
# Environment: NTKS_DOMAINS (default "medicine law sport music"), NTKS_RANKS
# (default 2), NTKS_QUALITY_DIR (default build/demo/quality).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
build=build
if [[ $# -gt 0 && $1 != -- ]]; then build=$1; shift; fi
[[ ${1:-} == -- ]] && shift
bin=$build/src/ntk-select
ranks=${NTKS_RANKS:-2}
domains=${NTKS_DOMAINS:-medicine law sport music}
out=${NTKS_QUALITY_DIR:-build/demo/quality}
mkdir -p "$out"

NTKS_DOMAINS=$domains cluster/proxy-model "$build"

# on_topic DATA_DIR IDS_FILE: "count of total" from demo-data's report line.
on_topic() {
  "$bin" demo-data --out "$1" --report "$2" --log-level warn | sed -n 's/^on-topic: \([0-9]*\) of \([0-9]*\) .*/\1 \2/p'
}
share() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f%%", b ? 100 * a / b : 0 }'; }

table="| domain | base rate | random | kNN (top M) | pre-selected (m) | NTK, paper's score | NTK, lda score | lda / base | lda - kNN |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |"
json="["
for d in $domains; do
  data=build/demo/data/$d
  run=$out/$d
  echo "== $d: ntk-select run on $ranks rank(s)"
  : > "$run.log"
  # The paper's score first, then the config's: only score and select run again.
  for rule in ntk lda; do
    launch/ntks-mpirun -n "$ranks" -- "$bin" run --config configs/demo.yaml --log-level warn \
      --set run.dir="$run" --set data.domain="$data/domain.jsonl" --set data.candidates="[$data/pool.jsonl]" \
      --set score.rule=$rule "$@" >> "$run.log" 2>&1 || { cat "$run.log" >&2; exit 1; }
    cp "$run/select/selected_ids.txt" "$run/${rule}_ids.txt"
  done
  m=$(wc -l < "$run/lda_ids.txt")
  base=$(/usr/bin/python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['pool_base_rate'])" "$data/labels.json")
  # Random: M pool ids drawn with a fixed seed, independent of the run.
  /usr/bin/python3 - "$data/pool.jsonl" "$m" > "$run/random_ids.txt" <<'EOF'
import json, random, sys
ids = [json.loads(line)["id"] for line in open(sys.argv[1])]
print("\n".join(random.Random(12345).sample(ids, int(sys.argv[2]))))
EOF
  head -n "$m" "$run/preselect/preselected_ids.txt" > "$run/knn_ids.txt"
  read -r r_on r_n < <(on_topic "$data" "$run/random_ids.txt")
  read -r k_on k_n < <(on_topic "$data" "$run/knn_ids.txt")
  read -r p_on p_n < <(on_topic "$data" "$run/preselect/preselected_ids.txt")
  read -r t_on t_n < <(on_topic "$data" "$run/ntk_ids.txt")
  read -r n_on n_n < <(on_topic "$data" "$run/lda_ids.txt")
  ratio=$(awk -v a="$n_on" -v b="$n_n" -v r="$base" 'BEGIN { printf "%.1fx", a / b / r }')
  diff=$(awk -v a="$n_on" -v b="$n_n" -v c="$k_on" -v e="$k_n" 'BEGIN { printf "%+.1f pts", 100 * (a / b - c / e) }')
  row="| $d | $(awk -v r="$base" 'BEGIN { printf "%.1f%%", 100 * r }') | $(share "$r_on" "$r_n") | $(share "$k_on" "$k_n") | $(share "$p_on" "$p_n") | $(share "$t_on" "$t_n") | $(share "$n_on" "$n_n") | $ratio | $diff |"
  echo "$row"
  table+=$'\n'"$row"
  json+=$(printf '%s{"domain": "%s", "base_rate": %s, "M": %s, "m": %s, "random": %s, "knn": %s, "preselected": %s, "ntk_paper": %s, "ntk_lda": %s}' \
    "$([[ $json == "[" ]] || echo ", ")" "$d" "$base" "$m" "$p_n" "$r_on" "$k_on" "$p_on" "$t_on" "$n_on")
done
json+="]"
printf '%s\n' "$table" | tee "$out/quality.md"
printf '%s\n' "$json" > "$out/quality.json"
echo "on-topic counts per method in $out/quality.json; runs and logs in $out/<domain>/"
