#!/usr/bin/env bash
# Memory and CPU while following a busy file: toban's Logs tab and lnav, each in its own tmux
# session at 80x24 on the same generated 1,000,000-line file (page cache), while a writer
# appends 1,000 lines a second. Each run: wait until the file is loaded, then sample the
# process for $secs seconds — CPU from /proc/PID/stat (utime+stime over the window, % of one
# core), resident memory (VmRSS) every second. $runs runs each; medians and ratios, and each
# tool's median RSS against the file's size (issue 17's budget for toban: under 1.2x). Each
# run also prints the process's anonymous / file-backed resident memory (RssAnon / RssFile:
# the binary's own pages are file-backed) at the end of its window.
# Usage: benches/logs_follow_vs_lnav.sh [path/to/release/toban] [runs] [secs] [lines/s]
#        (lines/s default 1000; issue 17's CPU budget is for 10000: under 5 % of a core)
#        (cargo build --release first; apt-get install lnav tmux)
set -euo pipefail
bin=$(realpath "${1:-target/release/toban}")
runs=${2:-3}
secs=${3:-20}
rate=${4:-1000}
command -v lnav >/dev/null || { echo "lnav not installed (apt-get install lnav)" >&2; exit 2; }
dir=$(mktemp -d)
sock="bench-follow-$$"
cleanup() {
    tmux -L "$sock" kill-server 2>/dev/null || true
    [ -n "${writer:-}" ] && kill "$writer" 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
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
size=$(stat -c %s "$dir/big.log")
echo "file: $(wc -l < "$dir/big.log") lines, $size bytes; appends $rate lines/s; ${secs}s windows, $runs runs" >&2
mkdir -p "$dir/home/c/toban"
printf '[calendar]\npresets = []\n[logs]\nfiles = ["%s"]\n' "$dir/big.log" > "$dir/home/c/toban/config.toml"
hz=$(getconf CLK_TCK)

# Appends rate/10 lines every 100 ms until killed.
start_writer() {
    python3 - "$dir/big.log" "$rate" <<'PY' &
import sys, time
i = 0
batch = max(1, int(sys.argv[2]) // 10)
with open(sys.argv[1], "a") as f:
    while True:
        t = time.time()
        for _ in range(batch):
            f.write("2026-12-03T12:00:00Z INFO  [svc-1] appended=%09d GET /api/v1/live took=3ms\n" % i)
            i += 1
        f.flush()
        time.sleep(max(0.0, 0.1 - (time.time() - t)))
PY
    writer=$!
}

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
rss_split() { awk '/^RssAnon:/ {a=$2} /^RssFile:/ {f=$2} END {printf "anon %.1f MB, file %.1f MB", a/1024, f/1024}' "/proc/$1/status"; }

# One run: marker (text on screen once loaded), key to press first ("" for none), cmd…;
# prints "cpu_pct rss_median_kb".
run_one() {
    local marker=$1 key=$2; shift 2
    tmux -L "$sock" kill-server 2>/dev/null || true
    tmux -L "$sock" new-session -d -s b -x 80 -y 24 \
        env HOME="$dir/home" XDG_CONFIG_HOME="$dir/home/c" XDG_DATA_HOME="$dir/home/d" \
        XDG_STATE_HOME="$dir/home/s" TERM=xterm-256color "$@"
    local pid
    pid=$(tmux -L "$sock" display -p -t b '#{pane_pid}')
    sleep 0.5
    [ -n "$key" ] && tmux -L "$sock" send-keys -t b "$key"
    # Loaded: the marker (a line of the file's end) on screen.
    for _ in $(seq 600); do
        tmux -L "$sock" capture-pane -p -t b | grep -q "$marker" && break
        sleep 0.1
    done
    start_writer
    sleep 2
    local t0 c0 rss=()
    t0=$(date +%s%N); c0=$(cpu_ticks "$pid")
    for _ in $(seq "$secs"); do
        sleep 1
        rss+=("$(rss_kb "$pid")")
    done
    local c1 t1
    c1=$(cpu_ticks "$pid"); t1=$(date +%s%N)
    echo "  $(rss_split "$pid")" >&2
    kill "$writer"; wait "$writer" 2>/dev/null || true; writer=
    tmux -L "$sock" kill-server 2>/dev/null || true
    local cpu med
    cpu=$(echo "($c1 - $c0) * 100 / $hz / (($t1 - $t0) / 1000000000)" | bc -l)
    med=$(printf '%s\n' "${rss[@]}" | sort -n | sed -n "$(( (${#rss[@]} + 1) / 2 ))p")
    echo "$cpu $med"
}

median() { sort -n | sed -n "$(( (runs + 1) / 2 ))p"; }

declare -A cpu rss
for tool in toban lnav; do
    cs=(); rs=()
    for r in $(seq "$runs"); do
        # Each run starts from the 1,000,000 lines again.
        head -n 1000000 "$dir/big.log" > "$dir/big.tmp" && mv "$dir/big.tmp" "$dir/big.log"
        if [ "$tool" = toban ]; then
            # The Logs tab (4) shows the file's end.
            out=$(run_one "req=0999999" 4 sh -c 'exec "$0" 2>/dev/null' "$bin")
        else
            out=$(run_one "req=0999999" "" sh -c 'exec lnav "$0"' "$dir/big.log")
        fi
        read -r c m <<<"$out"
        printf '%-6s run %d: CPU %5.1f %% of a core, RSS median %6.1f MB\n' "$tool" "$r" "$c" "$(echo "$m / 1024" | bc -l)" >&2
        cs+=("$c"); rs+=("$m")
    done
    cpu[$tool]=$(printf '%s\n' "${cs[@]}" | median)
    rss[$tool]=$(printf '%s\n' "${rs[@]}" | median)
done
printf 'median CPU: toban %.1f %%, lnav %.1f %% (toban/lnav %.2f)\n' "${cpu[toban]}" "${cpu[lnav]}" "$(echo "${cpu[toban]} / ${cpu[lnav]}" | bc -l)"
printf 'median RSS: toban %.1f MB, lnav %.1f MB (toban/lnav %.2f)\n' "$(echo "${rss[toban]} / 1024" | bc -l)" "$(echo "${rss[lnav]} / 1024" | bc -l)" "$(echo "${rss[toban]} / ${rss[lnav]}" | bc -l)"
printf 'median RSS / file size: toban %.2fx, lnav %.2fx\n' "$(echo "${rss[toban]} * 1024 / $size" | bc -l)" "$(echo "${rss[lnav]} * 1024 / $size" | bc -l)"
