#!/usr/bin/env bash
# A/B of the headers at git revision REV against the working tree, alternating runs of
# bench/ab_bench.c (one measurement per run) built against each. Prints a Markdown
# table: best and median of each side, and new/old as a speed ratio (>1: new faster).
#   usage: bench/ab.sh REV [RUNS] [MEASUREMENTS...]
#   measurements: step:1 step:2 fit:1 fit:2 gemm1024:1 gemm1024:2 gemm9:1 infer:1
#                 latency:1 busy (the 2-thread step with a busy process on CPU 0)
#   AB_NEW_CFLAGS: extra flags for the new side only (e.g. -DNN__AVX512_DIRECT_H=8)
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:?usage: bench/ab.sh REV [RUNS] [MEASUREMENTS...]}
runs=${2:-30}
shift $(( $# >= 2 ? 2 : 1 ))
what=("$@")
[ ${#what[@]} -gt 0 ] || what=(step:1 step:2 fit:1 fit:2 gemm1024:1 gemm1024:2 gemm9:1 infer:1 latency:1 busy)
B=build/ab
mkdir -p $B/old
for f in nn.h nn_simd.h; do git show "$rev:$f" > $B/old/$f; done
CC=${CC:-cc}
$CC -std=c99 -O3 -fopenmp -I$B/old -Ibench bench/ab_bench.c -o $B/ab_bench_old -lm
$CC -std=c99 -O3 -fopenmp ${AB_NEW_CFLAGS:-} -I. -Ibench bench/ab_bench.c -o $B/ab_bench_new -lm
stat() { sort -g | awk -v hi="$1" '{v[NR]=$1} END {b = hi ? v[NR] : v[1]; printf "%s %s\n", b, v[int((NR+1)/2)]}'; }
echo "A/B: old = $rev, new = working tree ($(git rev-parse --short HEAD)$(git diff --quiet HEAD -- nn.h nn_simd.h || echo '+changes')${AB_NEW_CFLAGS:+ $AB_NEW_CFLAGS}), $runs runs each, alternated"
echo "cpu: $(grep -m1 "model name" /proc/cpuinfo | cut -d: -f2- | sed "s/^ //"), $(nproc) CPUs"
echo
echo "| measurement | threads | unit | old best | old median | new best | new median | new/old best | new/old median |"
echo "|---|---|---|---|---|---|---|---|---|"
for w in "${what[@]}"; do
  busy=0; m=${w%%:*}; t=${w#*:}
  if [ "$w" = busy ]; then busy=1; m=step; t=2; fi
  bpid=""
  if [ $busy = 1 ]; then taskset -c 0 sh -c 'while :; do :; done' & bpid=$!; fi
  : > $B/ab_old.txt; : > $B/ab_new.txt
  for ((i = 0; i < runs; i++)); do
    if (( i % 2 == 0 )); then order="old new"; else order="new old"; fi
    for side in $order; do
      OMP_NUM_THREADS=$t $B/ab_bench_$side $m $t >> $B/ab_$side.txt
    done
  done
  [ -n "$bpid" ] && kill $bpid 2>/dev/null && wait $bpid 2>/dev/null || true
  unit=$(awk 'NR==1{print $2}' $B/ab_new.txt)
  hi=0; case $unit in samples/s|GFLOP/s) hi=1;; esac
  read ob om < <(awk '{print $1}' $B/ab_old.txt | stat $hi)
  read nb nm < <(awk '{print $1}' $B/ab_new.txt | stat $hi)
  rb=$(awk -v o=$ob -v n=$nb -v h=$hi 'BEGIN{printf "%.3f", h ? n/o : o/n}')
  rm_=$(awk -v o=$om -v n=$nm -v h=$hi 'BEGIN{printf "%.3f", h ? n/o : o/n}')
  label=$m; [ $busy = 1 ] && label="step, busy CPU 0"
  echo "| $label | $t | $unit | $ob | $om | $nb | $nm | $rb | $rm_ |"
done
