#!/usr/bin/env bash
# `toban logs FILE --grep RE` against `grep -cE RE FILE` and `grep -E RE FILE` on the same
# generated 1,000,000-line file (in the page cache), 11 runs each: medians and ratios.
# Usage: benches/logs_vs_grep.sh [path/to/release/toban]   (cargo build --release first)
set -euo pipefail
bin=${1:-target/release/toban}
re='ERROR.*svc-1[0-2]'
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir/big.log" <<'PY'
import sys
levels = ["INFO", "INFO", "INFO", "DEBUG", "WARN", "INFO", "ERROR", "INFO"]
with open(sys.argv[1], "w") as f:
    for i in range(1_000_000):
        s = i % 86400
        f.write("2026-12-03T%02d:%02d:%02dZ %-5s [svc-%d] req=%07d GET /api/v1/items/%d took=%dms\n"
                % (s // 3600, s // 60 % 60, s % 60, levels[i * 7 % 8], i % 13, i, i * 31 % 977, i * 17 % 1500))
PY
cat "$dir/big.log" > /dev/null
echo "file: $(wc -l < "$dir/big.log") lines, $(stat -c %s "$dir/big.log") bytes"
median() {
    local name=$1; shift
    local times=()
    for _ in $(seq 11); do
        local t0 t1
        t0=$(date +%s%N)
        # Into a file, not /dev/null: GNU grep stops at the first match when its output is
        # /dev/null, which would measure nothing.
        "$@" > "$dir/out"
        t1=$(date +%s%N)
        times+=($(( (t1 - t0) / 1000 )))
    done
    local m
    m=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 6p)
    printf '%-40s median %7.1f ms\n' "$name" "$(echo "$m / 1000" | bc -l)" >&2
    echo "$m"
}
export LC_ALL=C
cfg="$dir/config.toml"; printf '[calendar]\npresets = []\n' > "$cfg"
g=$(median "grep -cE" grep -cE "$re" "$dir/big.log")
ge=$(median "grep -E (lines to a file)" grep -E "$re" "$dir/big.log")
t=$(median "toban logs --grep (lines to a file)" "$bin" --config "$cfg" logs "$dir/big.log" --grep "$re")
printf 'ratio toban / grep -cE: %.2f\n' "$(echo "$t / $g" | bc -l)"
printf 'ratio toban / grep -E:  %.2f\n' "$(echo "$t / $ge" | bc -l)"
