#!/usr/bin/env bash
# Side-by-side benchmarks; docs/BENCHMARKS.md says what each prints and records the tables.
#   scripts/bench.sh                 everything: utility micro-benchmarks, then the load benchmarks
#   scripts/bench.sh utils [...]     only the utility micro-benchmarks (bench/micro/run_utils.py)
#   scripts/bench.sh load [...]      only the load benchmarks (bench/load/run.py options, e.g. --quick,
#                                    --workloads fanout_100,echo --peers wse,raw --unpinned)
#   scripts/bench.sh render [FILE]   print the markdown tables of a load result (default bench/results/load.json)
#   scripts/bench.sh client [...]    Python client: async for vs a bare websockets loop (bench/client/bench_recv.py)
#   scripts/bench.sh redis [...]     Redis scale-out: PUBLISH rates vs redis-benchmark, fan-out on 1 vs 3 shards
#                                    (bench/redis/run_redis.py options, e.g. --quick, --json FILE)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-all}"
[ $# -gt 0 ] && shift

build_native() {
  local gen=()
  command -v ninja >/dev/null 2>&1 && gen=(-G Ninja)
  cmake -S . -B build/bench "${gen[@]}" -DCMAKE_BUILD_TYPE=Release -DWSE_BUILD_BENCH=ON >/dev/null
  cmake --build build/bench -j 2 --target wse_loadgen wse_raw_peer >/dev/null
}

raise_limits() {
  # 10,000 idle connections need 20,000 descriptors on this machine (both ends).
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true
  # A deep accept backlog and a wide port range for the accept-rate run (best effort: root only).
  if [ -w /proc/sys/net/core/somaxconn ]; then
    [ "$(cat /proc/sys/net/core/somaxconn)" -ge 4096 ] || echo 4096 > /proc/sys/net/core/somaxconn
    [ "$(cat /proc/sys/net/ipv4/tcp_max_syn_backlog)" -ge 4096 ] || echo 4096 > /proc/sys/net/ipv4/tcp_max_syn_backlog
    echo "1024 65000" > /proc/sys/net/ipv4/ip_local_port_range
  fi
}

load() {
  build_native
  raise_limits
  echo "bench: load $(uptime)"
  .venv/bin/python bench/load/run.py "$@"
  .venv/bin/python bench/load/render.py
}

case "$what" in
  utils) .venv/bin/python bench/micro/run_utils.py "$@" ;;
  load) load "$@" ;;
  render) .venv/bin/python bench/load/render.py "$@" ;;
  client) .venv/bin/python bench/client/bench_recv.py "$@" ;;
  redis) .venv/bin/python bench/redis/run_redis.py --json bench/results/redis.json "$@" ;;
  all)
    .venv/bin/python bench/micro/run_utils.py
    .venv/bin/python bench/client/bench_recv.py
    .venv/bin/python bench/redis/run_redis.py --json bench/results/redis.json
    load "$@"
    ;;
  *) echo "usage: scripts/bench.sh [all|utils|load|render|client|redis] [options]" >&2; exit 2 ;;
esac
