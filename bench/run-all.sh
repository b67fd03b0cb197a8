#!/usr/bin/env bash
# Runs every benchmark under bench/ (each bench/*.ts except lib.ts) one after the other and prints the
# collected table. Inputs are generated into $BENCH_DIR (default /tmp/modelgate-bench) on the first run and
# reused afterwards; rows are appended to bench/out/results.jsonl. Usage:
#   bench/run-all.sh            # all benchmarks
#   bench/run-all.sh pickle     # only those whose file name contains "pickle"
set -u
cd "$(dirname "$0")/.."
mkdir -p bench/out
stamp=$(date -u +%Y-%m-%dT%H:%M:%SZ)
table=bench/out/table-$stamp.md
extra=$(mktemp)
{
  echo "Benchmarks run $stamp on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'))," \
    "node $(node --version), $(openssl version | cut -d' ' -f1-2), BENCH_REPEAT=${BENCH_REPEAT:-3}."
  echo
  echo '| benchmark | size | files | scan s | scan MB/s | openssl s | openssl MB/s | ratio | CPU s scan / openssl | peak RSS MB | verdict |'
  echo '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|'
} >"$table"
status=0
for f in bench/*.ts; do
  name=$(basename "$f" .ts)
  [ "$name" = lib ] && continue
  if [ $# -gt 0 ] && [[ "$name" != *"$1"* ]]; then continue; fi
  echo "== $f" >&2
  # Each benchmark prints its own header and rows; keep only the rows for the collected table.
  if ! out=$(NODE_NO_WARNINGS=1 node --import tsx "$f" 2>&2); then
    echo "| $name | failed | | | | | | | | | |" >>"$table"
    status=1
    continue
  fi
  echo "$out" >&2
  # Uniform rows (the ones under a `| benchmark |` header) go to the collected table; any other table a
  # benchmark prints (its own format) and its free-text lines are kept below it.
  echo "$out" | awk '/^\| benchmark \|/ {t=1; next} /^\|---/ {next} t && /^\| / {print; next} {t=0}' >>"$table"
  {
    echo "### $name"
    echo "$out" | awk '/^\| benchmark \|/ {t=1; next} /^\|---/ && t {next} t && /^\| / {next} {t=0; print}'
    echo
  } >>"$extra"
done
{
  echo
  echo '## Other output'
  echo
  cat "$extra"
} >>"$table"
rm -f "$extra"
echo
cat "$table"
exit $status
