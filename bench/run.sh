#!/usr/bin/env bash
# bench/run.sh - nn.h against its peers (OpenBLAS, PyTorch) on this machine, side by side,
# and bench/RESULTS.md with the tables and a plot. `make bench` calls it after building
# $(BUILD)/bench_* and $(BUILD)/ex_fashion_mnist; it builds nothing itself.
#
#   bench/run.sh            full run (< 10 min): writes bench/RESULTS.md, bench/results/
#   bench/run.sh --quick    development run (fewer epochs/reps, 20k training images, 1 round):
#                           writes only bench/results/quick/ (RESULTS.md there is marked QUICK)
#   bench/run.sh [--quick] --report   rewrite RESULTS.md and the plot from the raw outputs
#                           of the last run (nothing is measured)
#
# Environment: BUILD (default build), ROUNDS (nn/torch alternations; default 2, quick 1),
# LOCK (default /tmp/nn_bench.lock), QUIET_WAIT (seconds to wait per run for the machine to
# go idle; default 30, quick 3) and QUIET_BUDGET (total such waiting; default 60, quick 10),
# MAX_SECONDS (per batch size and library, training stops after the first timed epoch past
# it; default 40, quick 15), ROUND_DEADLINE (no further round starts after this many
# seconds; default 300), FASHION_DIR, PYTHON_TORCH (default /usr/bin/python3).
#
# What runs, each under `flock $LOCK` (the lock every engineer's timing runs take), 1-thread
# runs pinned with `taskset -c 0`:
#   1. bench_fma_peak: measured FMA peak, 1 and 2 threads
#   2. bench_gemm, 1 thread: nn_simd_gemm vs OpenBLAS (OpenMP build) and oneDNN; again with
#      NN_BACKEND=avx2 and ONEDNN_MAX_CPU_ISA=AVX2 on an AVX-512 machine
#   3. bench_threads: GEMM 1024^3, a wide-layer GEMM and a training step, 1 vs 2 threads; a
#      busy-loop process on CPU 0 (contention); the per-thread work thresholds
#   4. bench_kernels, 1 thread: activations, softmax, column sums, optimizers, SIMD vs scalar
#   5. ex_fashion_mnist --epochs 10 --threads 2, seeds 1 2 3: test accuracy and wall time
#   6. bench_train, torch_bench.py and libtorch_bench alternating, 1 then 2 threads (x ROUNDS)
#   7. hyperfine: ex_fashion_mnist --epochs 2 --quiet vs torch_fashion.py --epochs 2 --quiet,
#      1 and 2 threads, --warmup 1 --runs 5, JSON + Markdown into the results folder
#   8. bench_threads again (without the contention part): both rounds are reported
#   9. bench_mpi (when built): 2 ranks x 1 thread vs 1 process x 2 threads, the
#      gradient all-reduce, and a cost model for clusters
# (bench_threads runs twice, minutes apart: on a 2-vCPU VM whose host now and then
# deschedules a vCPU, its 2-thread figures moved by up to 45% between full runs.)
# A missing peer (hyperfine, torch, OpenBLAS, gnuplot) or binary is reported and skipped.
# Before each run the script samples /proc/stat for 0.5 s and waits (up to QUIET_WAIT s)
# while other processes keep more than 25% of the machine busy (QUIET_BUDGET s in total);
# the busy share it saw is recorded next to every measurement.
set -u
cd "$(dirname "$0")/.." || exit 1

BUILD=${BUILD:-build}
LOCK=${LOCK:-/tmp/nn_bench.lock}
PY=${PYTHON_TORCH:-/usr/bin/python3}
OBLAS_OMP=/usr/lib/x86_64-linux-gnu/openblas-openmp
FASHION_DIR=${FASHION_DIR:-/usr/share/datasets/fashion-mnist}
QUICK=0
REPORT_ONLY=0
for a in "$@"; do
    case $a in
        --quick) QUICK=1 ;;
        --report) REPORT_ONLY=1 ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown option $a (try --help)" >&2; exit 2 ;;
    esac
done
if [ $QUICK = 1 ]; then
    OUT=bench/results/quick; RES=$OUT/RESULTS.md; ROUNDS=${ROUNDS:-1}; QUIET_WAIT=${QUIET_WAIT:-3}; QUIET_BUDGET=${QUIET_BUDGET:-10}
    MAX_SECONDS=${MAX_SECONDS:-15}
    QF=--quick; HF_ARGS=(--warmup 0 --runs 2); EX_EPOCHS=1; FM_EPOCHS=2; FM_SEEDS="1"
else
    OUT=bench/results; RES=bench/RESULTS.md; ROUNDS=${ROUNDS:-2}; QUIET_WAIT=${QUIET_WAIT:-30}; QUIET_BUDGET=${QUIET_BUDGET:-60}
    MAX_SECONDS=${MAX_SECONDS:-40}
    QF=; HF_ARGS=(--warmup 1 --runs 5); EX_EPOCHS=2; FM_EPOCHS=10; FM_SEEDS="1 2 3"
fi
RAW=$OUT/raw
mkdir -p "$RAW"
[ $REPORT_ONLY = 1 ] || rm -f "$RAW"/*.txt "$RAW"/*.busy "$RAW"/notes "$OUT"/hyperfine_*
T_START=$(date +%s)
QUIET_BUDGET_0=$QUIET_BUDGET
NOTES=()   # lines for the "Skipped / warnings" section
note() { echo "run.sh: $*" >&2; NOTES+=("$*"); [ $REPORT_ONLY = 1 ] || echo "$*" >> "$RAW/notes"; }

# ---------------------------------------------------------------- machine state
busy_pct() { # share of all CPUs busy over 0.5 s, in percent (integer)
    local a b
    a=($(head -1 /proc/stat)); sleep 0.5; b=($(head -1 /proc/stat))
    local ta=0 tb=0 i
    for i in 1 2 3 4 5 6 7 8; do ta=$((ta + a[i])); tb=$((tb + b[i])); done
    local idle=$(( (b[4] + b[5]) - (a[4] + a[5]) )) tot=$((tb - ta))
    [ $tot -gt 0 ] || { echo 0; return; }
    echo $(( 100 * (tot - idle) / tot ))
}
LAST_BUSY=0
quiet_gate() {
    local waited=0 b
    b=$(busy_pct)
    while [ "$b" -gt 25 ] && [ $waited -lt "$QUIET_WAIT" ] && [ "$QUIET_BUDGET" -gt 0 ]; do
        sleep 2; waited=$((waited + 2)); QUIET_BUDGET=$((QUIET_BUDGET - 2)); b=$(busy_pct)
    done
    LAST_BUSY=$b
    [ "$b" -gt 25 ] && echo "run.sh: machine still ${b}% busy after ${waited}s; measuring anyway" >&2
    return 0
}
# locked LOGFILE CMD...: under the bench lock, after the quiet gate; output to LOGFILE
# (and the terminal). Records the busy share in $LOGFILE.busy.
exec 9>>"$LOCK"
locked() {
    local log=$1; shift
    if ! flock -w 1800 9; then note "could not take $LOCK within 30 min: skipped $*"; return 99; fi
    quiet_gate
    echo "$LAST_BUSY" > "$log.busy"
    "$@" 9>&- 2>&1 | tee "$log"
    local rc=${PIPESTATUS[0]}
    flock -u 9
    return "$rc"
}

# ---------------------------------------------------------------- peers
HAVE_HF=0; HAVE_TORCH=0; HAVE_OBLAS=0; HAVE_GP=0
command -v hyperfine >/dev/null 2>&1 && HAVE_HF=1 || note "hyperfine not found (apt-get install hyperfine): whole-program timing skipped"
command -v gnuplot >/dev/null 2>&1 && HAVE_GP=1 || note "gnuplot not found: plot written as plain SVG"
[ -e "$OBLAS_OMP/libopenblas.so.0" ] && HAVE_OBLAS=1 || note "OpenMP OpenBLAS not found in $OBLAS_OMP (apt-get install libopenblas-openmp-dev): torch may use another BLAS"
TORCH_ENV=(env LD_LIBRARY_PATH="$OBLAS_OMP${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}")
if [ -x "$PY" ] && "${TORCH_ENV[@]}" "$PY" -c 'import torch' >/dev/null 2>&1; then HAVE_TORCH=1
else note "torch not importable with $PY (apt-get install python3-torch): torch comparisons skipped"; fi
for b in bench_fma_peak bench_gemm bench_train ex_fashion_mnist; do
    [ -x "$BUILD/$b" ] || note "$BUILD/$b not built (make $BUILD/$b): its part is skipped"
done
if [ -x "$BUILD/bench_gemm" ] && ! ldd "$BUILD/bench_gemm" 2>/dev/null | grep -q openblas; then
    note "$BUILD/bench_gemm is not linked with OpenBLAS: GEMM table has nn.h only"
fi
[ -e "$FASHION_DIR/train-images-idx3-ubyte.gz" ] || note "Fashion-MNIST not in $FASHION_DIR (apt-get install dataset-fashion-mnist): RANDOM data of the same shape is used, and hyperfine is skipped"

HF_DONE=()
if [ $REPORT_ONLY = 0 ]; then
# ---------------------------------------------------------------- 1. FMA peak
if [ -x "$BUILD/bench_fma_peak" ]; then
    echo "== FMA peak"
    locked "$RAW/fma_peak.txt" env OMP_NUM_THREADS=2 "$BUILD/bench_fma_peak" $QF || note "bench_fma_peak failed"
fi

# ---------------------------------------------------------------- 2. GEMM vs OpenBLAS and oneDNN
if [ -x "$BUILD/bench_gemm" ]; then
    echo "== GEMM, 1 thread"
    locked "$RAW/gemm_1t.txt" env OMP_NUM_THREADS=1 taskset -c 0 "$BUILD/bench_gemm" $QF || note "bench_gemm failed (exit $?)"
    if grep -q 'backend=avx512' "$RAW/gemm_1t.txt" 2>/dev/null; then # each backend meets oneDNN at its ISA
        echo "== GEMM, 1 thread, AVX2 (nn.h and oneDNN)"
        locked "$RAW/gemm_1t_avx2.txt" env OMP_NUM_THREADS=1 NN_BACKEND=avx2 ONEDNN_MAX_CPU_ISA=AVX2 taskset -c 0 "$BUILD/bench_gemm" $QF || note "bench_gemm avx2 failed (exit $?)"
    fi
    if grep -q 'onednn=' "$RAW/gemm_1t.txt" 2>/dev/null && [ $QUICK = 0 ]; then
        echo "== GEMM sweep of layer shapes vs oneDNN, 1 thread"
        locked "$RAW/sweep_1t.txt" env OMP_NUM_THREADS=1 taskset -c 0 "$BUILD/bench_gemm" --sweep || note "bench_gemm --sweep failed"
        if [ -e "$RAW/gemm_1t_avx2.txt" ]; then
            locked "$RAW/sweep_1t_avx2.txt" env OMP_NUM_THREADS=1 NN_BACKEND=avx2 ONEDNN_MAX_CPU_ISA=AVX2 taskset -c 0 "$BUILD/bench_gemm" --sweep || note "bench_gemm --sweep avx2 failed"
        fi
    fi
fi

# ---------------------------------------------------------------- 3. threads, contention
if [ -x "$BUILD/bench_threads" ]; then
    echo "== bench_threads: 1 vs 2 threads, contention, thresholds (round 1)"
    locked "$RAW/threads_r1.txt" "$BUILD/bench_threads" $QF || note "bench_threads round 1 failed"
fi

# ---------------------------------------------------------------- 4. element-wise kernels
if [ -x "$BUILD/bench_kernels" ]; then
    echo "== bench_kernels, 1 thread"
    kreps=(); [ $QUICK = 1 ] && kreps=(--reps 7)
    locked "$RAW/kernels.txt" env OMP_NUM_THREADS=1 taskset -c 0 "$BUILD/bench_kernels" "${kreps[@]}" || note "bench_kernels failed"
fi

# ---------------------------------------------------------------- 5. Fashion-MNIST accuracy and wall time
# Target: >= 0.89 test accuracy in <= 8 s wall on 2 cores, data loading included.
if [ -x "$BUILD/ex_fashion_mnist" ] && [ -e "$FASHION_DIR/train-images-idx3-ubyte.gz" ]; then
    exdir=$(mktemp -d)
    for s in $FM_SEEDS; do
        echo "== ex_fashion_mnist --epochs $FM_EPOCHS --threads 2 --seed $s"
        locked "$RAW/fashion_s$s.txt" bash -c 'a=$(date +%s%N); "$@"; rc=$?; b=$(date +%s%N); echo "WALL $(( (b - a) / 1000000 )) ms"; exit $rc' _ \
            env OMP_NUM_THREADS=2 "$BUILD/ex_fashion_mnist" --epochs "$FM_EPOCHS" --threads 2 --seed "$s" --quiet \
            --data "$FASHION_DIR" --out "$exdir" || note "ex_fashion_mnist seed $s failed"
    done
    rm -rf "$exdir"
fi

# ---------------------------------------------------------------- 6. training/inference/latency
ROUND_DEADLINE=${ROUND_DEADLINE:-300}
ROUNDS_RUN=0
for r in $(seq 1 "$ROUNDS"); do
    if [ "$r" -gt 1 ] && [ $(( $(date +%s) - T_START )) -gt "$ROUND_DEADLINE" ]; then
        note "round $r of $ROUNDS skipped: ${ROUND_DEADLINE} s had passed (ROUND_DEADLINE)"; break
    fi
    ROUNDS_RUN=$r
    for t in 1 2; do
        pin=(); [ $t = 1 ] && pin=(taskset -c 0)
        if [ -x "$BUILD/bench_train" ]; then
            echo "== nn.h bench_train, $t thread(s), round $r"
            locked "$RAW/nn_${t}t_r$r.txt" env OMP_NUM_THREADS=$t "${pin[@]}" "$BUILD/bench_train" $QF --max-seconds "$MAX_SECONDS" --data "$FASHION_DIR" \
                || note "bench_train ${t}T round $r failed"
        fi
        if [ $HAVE_TORCH = 1 ]; then
            echo "== torch torch_bench.py, $t thread(s), round $r"
            locked "$RAW/torch_${t}t_r$r.txt" "${TORCH_ENV[@]}" OMP_NUM_THREADS=$t "${pin[@]}" "$PY" bench/torch_bench.py \
                --threads $t $QF --max-seconds "$MAX_SECONDS" --data "$FASHION_DIR" || note "torch_bench ${t}T round $r failed"
        fi
        if [ -x "$BUILD/libtorch_bench" ]; then
            echo "== libtorch C++ libtorch_bench, $t thread(s), round $r"
            locked "$RAW/libtorch_${t}t_r$r.txt" "${TORCH_ENV[@]}" OMP_NUM_THREADS=$t "${pin[@]}" "$BUILD/libtorch_bench" \
                --threads $t $QF --max-seconds "$MAX_SECONDS" --data "$FASHION_DIR" || note "libtorch_bench ${t}T round $r failed"
        fi
    done
done
[ -x "$BUILD/libtorch_bench" ] || [ $REPORT_ONLY = 1 ] || note "libtorch_bench not built (no libtorch-dev): the libtorch C++ rows are missing"


# ---------------------------------------------------------------- 7. hyperfine
if [ $HAVE_HF = 1 ] && [ -x "$BUILD/ex_fashion_mnist" ] && [ -e "$FASHION_DIR/train-images-idx3-ubyte.gz" ]; then
    exdir=$(mktemp -d)
    for t in 1 2; do
        pin=; [ $t = 1 ] && pin="taskset -c 0 "
        cmds=(-n "nn.h ex_fashion_mnist ${t}T" "env OMP_NUM_THREADS=$t ${pin}$BUILD/ex_fashion_mnist --epochs $EX_EPOCHS --quiet --threads $t --data $FASHION_DIR --out $exdir")
        [ $HAVE_TORCH = 1 ] && cmds+=(-n "torch torch_fashion.py ${t}T" "env LD_LIBRARY_PATH=$OBLAS_OMP OMP_NUM_THREADS=$t ${pin}$PY bench/torch_fashion.py --epochs $EX_EPOCHS --quiet --threads $t --data $FASHION_DIR")
        echo "== hyperfine, $t thread(s)"
        if locked "$RAW/hyperfine_${t}t.txt" hyperfine -N --style basic "${HF_ARGS[@]}" \
                --export-json "$OUT/hyperfine_${t}t.json" --export-markdown "$OUT/hyperfine_${t}t.md" "${cmds[@]}"; then
            HF_DONE+=($t)
        else note "hyperfine ${t}T failed"; fi
    done
    rm -rf "$exdir"
fi

# ---------------------------------------------------------------- 8. threads again
# bench_threads once more, minutes later: its 2-thread figures are the ones a host that
# deschedules a vCPU for a few seconds ruins, and both rounds are reported.
if [ -x "$BUILD/bench_threads" ] && [ $QUICK = 0 ]; then
    echo "== bench_threads (round 2)"
    locked "$RAW/threads_r2.txt" "$BUILD/bench_threads" --no-contention || note "bench_threads round 2 failed"
fi

# ---------------------------------------------------------------- 9. MPI (nn_mpi.h)
# 2 ranks x 1 thread against 1 process x 2 threads (alternated, ROUNDS times), the
# all-reduce of the gradient, and the cluster cost model from the measured step time.
if [ -x "$BUILD/bench_mpi" ]; then
    echo "== bench_mpi"
    ep=2; [ $QUICK = 1 ] && ep=1
    for ((r = 1; r <= ROUNDS; r++)); do
        locked "$RAW/mpi_2r_r$r.txt" env OMP_NUM_THREADS=1 ${MPIRUN:-mpirun} -np 2 "$BUILD/bench_mpi" --threads 1 --epochs $ep || note "bench_mpi 2 ranks failed"
        locked "$RAW/mpi_1p_r$r.txt" env OMP_NUM_THREADS=2 "$BUILD/bench_mpi" --threads 2 --epochs $ep || note "bench_mpi 1 process failed"
        locked "$RAW/mpi_2rr_r$r.txt" env OMP_NUM_THREADS=1 ${MPIRUN:-mpirun} -np 2 "$BUILD/bench_mpi" --threads 1 --epochs $ep --reproducible || note "bench_mpi 2 ranks reproducible failed"
    done
    locked "$RAW/mpi_model.txt" env OMP_NUM_THREADS=1 taskset -c 0 "$BUILD/bench_mpi" --threads 1 --epochs 1 --model || note "bench_mpi --model failed"
else
    note "bench_mpi not built (no mpicc): MPI section skipped (apt-get install openmpi-bin libopenmpi-dev)"
fi

else
    for t in 1 2; do [ -e "$OUT/hyperfine_${t}t.md" ] && HF_DONE+=($t); done
    NOTES=()   # the run's notes, not today's peer check
    [ -e "$RAW/notes" ] && mapfile -t NOTES < "$RAW/notes"
fi
if [ $REPORT_ONLY = 0 ]; then
    echo $(( $(date +%s) - T_START )) > "$RAW/elapsed"; date -u '+%Y-%m-%d %H:%M UTC' > "$RAW/date"
    echo "$ROUNDS_RUN" > "$RAW/rounds"
    echo "$QUIET_WAIT $QUIET_BUDGET_0 $MAX_SECONDS" > "$RAW/settings"
    cut -d' ' -f1-3 /proc/loadavg > "$RAW/loadavg"
    echo "$(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- nn.h nn_simd.h nn_data.h 2>/dev/null || echo " with uncommitted changes to the headers")" > "$RAW/commit"
fi
ELAPSED=$(cat "$RAW/elapsed" 2>/dev/null || echo 0)
ROUNDS=$(cat "$RAW/rounds" 2>/dev/null || echo "$ROUNDS")
[ -e "$RAW/settings" ] && read -r QUIET_WAIT QUIET_BUDGET_0 MAX_SECONDS < "$RAW/settings"
RUN_DATE=$(cat "$RAW/date" 2>/dev/null || date -u '+%Y-%m-%d %H:%M UTC')

# ---------------------------------------------------------------- collect
# results.tsv: lib name threads batch best median unit busy   (best over rounds of best,
# median of the rounds' medians; latency: the lowest p10, median of medians)
TSV=$OUT/results.tsv
: > "$TSV"
for lib in nn torch libtorch; do
    for t in 1 2; do
        cat "$RAW/${lib}_${t}t_r"*.txt 2>/dev/null | awk -v lib=$lib -v busyf="$(cat "$RAW/${lib}_${t}t_r"*.txt.busy 2>/dev/null | sort -n | tail -1)" '
            /^RESULT / { k = $2 " " $3 " " $4; unit[k] = $7; n[k]++; v[k, n[k]] = $6
                         if (!(k in best) || ($7 == "us" ? $5 < best[k] : $5 > best[k])) best[k] = $5
                         if (!(k in order)) { order[k] = ++no; key[no] = k } }
            END { for (i = 1; i <= no; i++) { k = key[i]; m = n[k]
                    for (a = 1; a <= m; a++) for (b = a + 1; b <= m; b++) if (v[k, b] < v[k, a]) { x = v[k, a]; v[k, a] = v[k, b]; v[k, b] = x }
                    med = (m % 2) ? v[k, (m + 1) / 2] : (v[k, m / 2] + v[k, m / 2 + 1]) / 2
                    split(k, f, " "); printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", lib, f[1], f[2], f[3], best[k], med, unit[k], busyf } }' >> "$TSV"
    done
done
get() { # get lib name threads batch field(best|median)  -> value or empty
    awk -F'\t' -v l="$1" -v n="$2" -v t="$3" -v b="$4" -v f="$5" \
        '$1 == l && $2 == n && $3 == t && $4 == b { print (f == "best" ? $5 : $6); exit }' "$TSV"
}
fmt_k() { # samples/s as 46.4k
    [ -n "$1" ] && awk -v x="$1" 'BEGIN { printf "%.1fk", x / 1000 }' || echo "–"
}
hdr_field() { # hdr_field FILE KEY -> value of KEY=... on the file's header line
    [ -e "$1" ] && grep -m1 -E "^(bench_train|torch_bench) " "$1" | tr ' ' '\n' | awk -F= -v k="$2" '$1 == k { sub(/^[^=]*=/, ""); print; exit }'
}

# ---------------------------------------------------------------- plot
PLOT_DAT=$OUT/train_throughput.dat
getn() { local x; x=$(get "$@"); echo "${x:-NaN}"; }
{
    echo "# batch nn_1T torch_1T nn_2T torch_2T (best samples/s)"
    for b in 32 128 256; do
        echo "$b $(getn nn train 1 $b best) $(getn torch train 1 $b best) $(getn nn train 2 $b best) $(getn torch train 2 $b best)"
    done
} > "$PLOT_DAT"
PLOT=
if [ $HAVE_GP = 1 ]; then
    PLOT=train_throughput.png
    gnuplot <<EOF || { note "gnuplot failed"; PLOT=; }
set terminal pngcairo size 900,560 font "sans,11"
set output "$OUT/$PLOT"
set title "Fashion-MNIST 784-256-128-10, Adam: training throughput (best epoch)"
set xlabel "batch size"; set ylabel "samples/s"
set logscale x 2; set xtics ("32" 32, "128" 128, "256" 256); set xrange [24:340]
set yrange [0:*]; set grid; set key left top
set datafile missing "NaN"
plot "$PLOT_DAT" u 1:2 w lp lw 2 pt 7 lc rgb "#1f77b4" t "nn.h 1 thread", \
     ""          u 1:4 w lp lw 2 pt 5 lc rgb "#1f77b4" dt 2 t "nn.h 2 threads", \
     ""          u 1:3 w lp lw 2 pt 7 lc rgb "#d62728" t "PyTorch 1.13 1 thread", \
     ""          u 1:5 w lp lw 2 pt 5 lc rgb "#d62728" dt 2 t "PyTorch 1.13 2 threads"
EOF
fi
if [ -z "$PLOT" ]; then # plain SVG, no dependencies
    PLOT=train_throughput.svg
    awk 'NR > 1 { for (c = 2; c <= 5; c++) { y[NR, c] = $c; if ($c != "NaN" && $c + 0 > ymax) ymax = $c + 0 }; x[NR] = $1; n = NR }
    END {
        W = 900; H = 560; L = 90; R = 220; T = 50; B = 60; if (ymax <= 0) ymax = 1; ymax *= 1.1
        split("#1f77b4 #d62728 #1f77b4 #d62728", col, " "); split("nn.h_1_thread PyTorch_1_thread nn.h_2_threads PyTorch_2_threads", lab, " ")
        printf "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" font-family=\"sans-serif\" font-size=\"13\">\n", W, H
        printf "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n<text x=\"%d\" y=\"28\">Fashion-MNIST 784-256-128-10, Adam: training throughput (best epoch)</text>\n", L
        printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"black\"/>\n", L, H - B, W - R, H - B, L, T, L, H - B
        for (g = 0; g <= 5; g++) { yy = H - B - g * (H - B - T) / 5
            printf "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/><text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.0fk</text>\n", L, yy, W - R, yy, L - 6, yy + 4, g * ymax / 5 / 1000 }
        for (i = 2; i <= n; i++) { px[i] = L + (log(x[i]) - log(24)) / (log(340) - log(24)) * (W - R - L)
            printf "<text x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s</text>\n", px[i], H - B + 20, x[i] }
        printf "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">batch size</text>\n", (L + W - R) / 2, H - 15
        printf "<text x=\"20\" y=\"%d\" transform=\"rotate(-90 20 %d)\" text-anchor=\"middle\">samples/s</text>\n", (T + H - B) / 2, (T + H - B) / 2
        for (c = 2; c <= 5; c++) { pts = ""
            for (i = 2; i <= n; i++) if (y[i, c] != "NaN") pts = pts sprintf("%.1f,%.1f ", px[i], H - B - y[i, c] / ymax * (H - B - T))
            dash = (c >= 4) ? " stroke-dasharray=\"6,4\"" : ""
            if (pts != "") printf "<polyline points=\"%s\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s/>\n", pts, col[c - 1], dash
            ly = T + 20 * (c - 1); gsub(/_/, " ", lab[c - 1])
            printf "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"2\"%s/><text x=\"%d\" y=\"%d\">%s</text>\n", W - R + 15, ly, W - R + 45, ly, col[c - 1], dash, W - R + 52, ly + 4, lab[c - 1] }
        print "</svg>" }' "$PLOT_DAT" > "$OUT/$PLOT"
fi

# ---------------------------------------------------------------- RESULTS.md
CPU=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
CPUFM=$(awk -F': ' '/^cpu family/ { f = $2 } /^model[ \t]*:/ { m = $2 } /^stepping/ { print "family " f " model " m " stepping " $2; exit }' /proc/cpuinfo)
NCPU=$(nproc)
FLAGS=$(grep -m1 '^flags' /proc/cpuinfo | tr ' ' '\n' | grep -xE 'avx2|fma|avx512f' | tr '\n' ' ')
GCCV=$(gcc --version 2>/dev/null | head -1)
OBV=$(dpkg-query -W -f='${Version}' libopenblas0-openmp 2>/dev/null || ls "$OBLAS_OMP" 2>/dev/null | grep -o 'r0\.[0-9.]*[0-9]' | head -1)
HFV=$(hyperfine --version 2>/dev/null)
TORCHV=$(hdr_field "$RAW/torch_1t_r1.txt" torch)
TORCH_BLAS=$(hdr_field "$RAW/torch_1t_r1.txt" blas_kind)
TORCH_MM=$(hdr_field "$RAW/torch_1t_r1.txt" matmul512)
NN_BACKEND_NAME=$(hdr_field "$RAW/nn_1t_r1.txt" backend)
DATA=$(hdr_field "$RAW/nn_1t_r1.txt" data)
PEAK1=$(awk '/^RESULT fma_peak 1 / { print $5 }' "$RAW/fma_peak.txt" 2>/dev/null)
PEAK2=$(awk '/^RESULT fma_peak 2 / { print $5 }' "$RAW/fma_peak.txt" 2>/dev/null)
PEAKZ1=$(awk '/^RESULT fma_peak512 1 / { print $5 }' "$RAW/fma_peak.txt" 2>/dev/null)
PEAKZ2=$(awk '/^RESULT fma_peak512 2 / { print $5 }' "$RAW/fma_peak.txt" 2>/dev/null)

ratio() { # ratio lib-a-value lib-b-value -> a/b with 2 decimals
    [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "–" }' || echo "–"
}
PK=${PEAKZ1:-${PEAK1:-}} # the widest measured FMA peak per core
share() { # share FLOP_PER_SAMPLE SAMPLES_PER_S THREADS -> % of PK x THREADS (1 decimal), or empty
    [ -n "$2" ] && [ -n "$PK" ] && awk -v f="$1" -v s="$2" -v t="$3" -v p="$PK" 'BEGIN { printf "%.1f", 100 * f * s / (p * 1e9 * t) }'
}
status() { # status value op target -> met / NOT met
    [ -z "$1" ] && { echo "not measured"; return; }
    awk -v v="$1" -v op="$2" -v t="$3" 'BEGIN { ok = (op == ">=") ? v >= t : v <= t; print ok ? "met" : "**not met**" }'
}

{
    echo "# nn.h benchmarks: against OpenBLAS, oneDNN and PyTorch"
    echo
    [ $QUICK = 1 ] && { echo "> **QUICK RUN** (\`bench/run.sh --quick\`): fewer epochs and repetitions, one round. For development only; do not cite."; echo; }
    [ "$DATA" = RANDOM ] && { echo "> **RANDOM DATA**: Fashion-MNIST was not found in \`$FASHION_DIR\`; the training/inference numbers below were measured on random data of the same shape (60,000 x 784 / 10,000 x 784, 10 classes). Throughput is comparable, accuracies are meaningless."; echo; }
    echo "Generated by \`bench/run.sh\`$([ $QUICK = 1 ] && echo " --quick") on $RUN_DATE in $((ELAPSED / 60)) min $((ELAPSED % 60)) s; commit \`$(cut -d' ' -f1 "$RAW/commit" 2>/dev/null)\`$(cut -s -d' ' -f2- "$RAW/commit" 2>/dev/null | sed 's/^/ /')."
    echo "Raw output of every run: \`$RAW/\`; parsed: \`$TSV\`."
    echo
    echo "## Machine and versions"
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| CPU | $CPU ($CPUFM), $NCPU logical CPUs, flags: $FLAGS|"
    echo "| measured fp32 FMA peak, ymm (bench_fma_peak, best of reps) | ${PEAK1:-–} GFLOP/s 1 thread, ${PEAK2:-–} GFLOP/s 2 threads |"
    [ -n "$PEAKZ1" ] && echo "| measured fp32 FMA peak, zmm (AVX-512) | ${PEAKZ1} GFLOP/s 1 thread, ${PEAKZ2:-–} GFLOP/s 2 threads |"
    echo "| compiler | $GCCV (benches: \`-std=c99 -O3 -fopenmp\`) |"
    echo "| nn.h backend | ${NN_BACKEND_NAME:-–} |"
    echo "| OpenBLAS | ${OBV:-not found} (OpenMP build, \`$OBLAS_OMP\`) |"
    echo "| PyTorch | ${TORCHV:-not run} (Debian python3-torch, \`$PY\`), BLAS in the process: ${TORCH_BLAS:-–}, 512³ matmul ${TORCH_MM:-–} |"
    echo "| hyperfine | ${HFV:-not found} |"
    echo "| data | ${DATA:-–} (\`$FASHION_DIR\`) |"
    echo "| load average at the end of the runs | $(cat "$RAW/loadavg" 2>/dev/null) |"
    echo
    echo "The machine is shared: every run took \`flock $LOCK\` (so no two benchmarks overlap) and waited up to"
    echo "${QUIET_WAIT} s (at most $QUIET_BUDGET_0 s in all) for other processes to leave the CPUs idle; the \"busy\" column is the share of the"
    echo "machine other processes used just before the run (0% = quiet). Best-of figures are the reliable"
    echo "ones; 2-thread figures collapse whenever anything else is runnable."
    echo
    LOUD=$(for f in "$RAW"/*.busy; do [ -e "$f" ] && [ "$(cat "$f")" -gt 25 ] && echo "$(basename "$f" .txt.busy) ($(cat "$f")%)"; done | paste -sd, - | sed 's/,/, /g')
    if [ -n "$LOUD" ]; then
        echo "> **Measured on a busy machine:** $LOUD started while other processes kept more than 25% of"
        echo "> the CPUs busy. Those figures are lower bounds for whichever side ran then; re-run \`make bench\`"
        echo "> on a quiet machine before citing them (2-thread runs above all)."
        echo
    fi

    echo "## Targets"
    echo
    nn128_1=$(get nn train 1 128 best); nn128_2=$(get nn train 2 128 best); inf2=$(get nn infer 2 1000 best)
    lat_nn=$(get nn latency 1 1 median); lat_t=$(get torch latency 1 1 median)
    lat_lim=$([ -n "$lat_t" ] && awk -v x="$lat_t" 'BEGIN { printf "%.2f", x / 10 }')
    echo "| target | measured (nn.h, best) | torch here | torch, earlier reference run here | status |"
    echo "|---|---|---|---|---|"
    echo "| training, batch 128, 1 thread ≥ 85k samples/s | $(fmt_k "$nn128_1") | $(fmt_k "$(get torch train 1 128 best)") | 46.4k | $(status "$nn128_1" ">=" 85000) |"
    echo "| training, batch 128, 2 threads ≥ 165k samples/s | $(fmt_k "$nn128_2") | $(fmt_k "$(get torch train 2 128 best)") | 68.8k | $(status "$nn128_2" ">=" 165000) |"
    echo "| inference, batch 1000, 2 threads ≥ 400k samples/s | $(fmt_k "$inf2") | $(fmt_k "$(get torch infer 2 1000 best)") | 334k | $(status "$inf2" ">=" 400000) |"
    echo "| latency, batch 1, 1 thread, median ≤ torch's / 10 | ${lat_nn:-–} µs | ${lat_t:-–} µs (/10 = ${lat_lim:-–} µs) | | $( [ -n "$lat_lim" ] && status "$lat_nn" "<=" "$lat_lim" || echo "not measured") |"
    echo
    # close to the machine's limit: ratios in this run
    lowest() { # lowest oneDNN ratio (best) over the rows of raw bench_gemm table $1 whose name matches $2
        [ -e "$1" ] && awk -F'|' -v re="$2" '$2 ~ re && $15 + 0 > 0 { r = $15 + 0; if (!n++ || r < m) { m = r; at = $2 } } END { gsub(/^ +| +$/, "", at); if (n) printf "%.2f;%s", m, at }' "$1"; }
    sw() { [ -e "$1" ] && sed -n "s/^SWEEP n=\([0-9]*\) geomean=\([0-9.]*\) min=\([0-9.]*\) at \(.*\)/\2 \3 \4/p" "$1"; }
    echo "| limit target (one run, on this CPU) | measured | status |"
    echo "|---|---|---|"
    for isa in avx512 avx2; do
        sfx=$([ $isa = avx2 ] && echo _avx2)
        g=$(lowest "$RAW/gemm_1t$sfx.txt" "square 1024 |b128 ")
        [ -n "$g" ] && echo "| 1024³ and the nine B=128 GEMMs ≥ 1.00× oneDNN, $isa backend | lowest ${g%%;*} (${g#*;}) | $(status "${g%%;*}" ">=" 1.00) |"
        g=$(lowest "$RAW/gemm_1t$sfx.txt" "^ m[12] ")  # the one- and two-row GEMMs
        [ -n "$g" ] && echo "| nn_simd_gemm with m = 1 or 2 (12 GEMMs) ≥ 1.00× oneDNN, $isa backend | lowest ${g%%;*} (${g#*;}) | $(status "${g%%;*}" ">=" 1.00) |"
        read -r gm mn at <<< "$(sw "$RAW/sweep_1t$sfx.txt")"
        [ -n "$gm" ] && echo "| layer sweep vs oneDNN, $isa backend: geometric mean ≥ 1.00, lowest ≥ 0.90 | $gm, lowest $mn ($at) | $(status "$gm" ">=" 1.00) / $(status "$mn" ">=" 0.90) |"
    done
    st1=$(get nn step 1 128 best); st2=$(get nn step 2 128 best)
    p1=$(share 1.007e6 "$nn128_1" 1); pi=$(share 0.4695e6 "$(get nn infer 1 1000 best)" 1)
    [ -n "$p1" ] && echo "| training through nn_fit, B=128, 1 thread ≥ 90% of the FMA peak | ${p1}% | $(status "$p1" ">=" 90) |"
    [ -n "$nn128_2" ] && [ -n "$nn128_1" ] && echo "| same, 2 threads ≥ 1.9× 1 thread | $(ratio "$nn128_2" "$nn128_1")× | $(status "$(ratio "$nn128_2" "$nn128_1")" ">=" 1.9) |"
    lt2=$(get libtorch train 2 128 best)
    [ -n "$lt2" ] && echo "| same, 2 threads ≥ 2× libtorch C++ | $(ratio "$nn128_2" "$lt2")× | $(status "$(ratio "$nn128_2" "$lt2")" ">=" 2) |"
    for t in 1 2; do
        f=$(get nn train $t 128 best); r=$(get nn step $t 128 best)
        [ -n "$f" ] && [ -n "$r" ] && echo "| nn_fit ≥ 0.95× the raw nn_train_step, B=128, $t thread$([ $t = 2 ] && echo s) | $(ratio "$f" "$r")× ($(fmt_k "$f") / $(fmt_k "$r")) | $(status "$(ratio "$f" "$r")" ">=" 0.95) |"
    done
    [ -n "$pi" ] && echo "| inference, B=1000, 1 thread ≥ 92% of the FMA peak | ${pi}% | $(status "$pi" ">=" 92) |"
    w1=$(get nn wide 1 256 best); w2=$(get nn wide 2 256 best); pw=$(share 31.71e6 "$w1" 1)
    [ -n "$pw" ] && echo "| wide net 784-2048-2048-10, B=256, Adam, raw step, 1 thread ≥ 85% of the FMA peak | ${pw}% ($(fmt_k "$w1") samples/s) | $(status "$pw" ">=" 85) |"
    [ -n "$w1" ] && [ -n "$w2" ] && echo "| same, 2 threads ≥ 1.9× 1 thread | $(ratio "$w2" "$w1")× | $(status "$(ratio "$w2" "$w1")" ">=" 1.9) |"
    lm=$(get nn latency 1 1 median); fm=$(get nn weight_read 1 1 median)
    [ -n "$lm" ] && [ -n "$fm" ] && echo "| batch-1 latency ≤ 1.15× the time to read the weights once (medians) | ${lm} µs / ${fm} µs = $(ratio "$lm" "$fm")× | $(status "$(ratio "$lm" "$fm")" "<=" 1.15) |"
    FMW=$(cat "$RAW"/fashion_s*.txt 2>/dev/null | awk '/^test accuracy/ { a += $3; n++ } /^WALL / { w += $2 / 1000; m++ } END { if (n && m) printf "%.4f %.2f", a / n, w / m }')
    [ -n "$FMW" ] && echo "| Fashion-MNIST, 10 epochs, 2 threads, mean of 3 seeds: ≥ 0.89 in ≤ 3.5 s wall | ${FMW% *}, ${FMW#* } s | $(status "${FMW% *}" ">=" 0.89) / $(status "${FMW#* }" "<=" 3.5) |"
    echo
    echo "Targets are read, not asserted: \`make bench\` does not fail when one is missed."
    echo

    echo "## Training, inference and latency: nn.h vs PyTorch"
    echo
    echo "Fashion-MNIST, 784-256-128-10 ReLU/softmax cross-entropy, Xavier-uniform weights, zero biases,"
    echo "Adam lr 1e-3, whole set in memory, reshuffled every epoch. nn.h: \`bench/bench_train.c\` (\`nn_fit\`,"
    echo "\`nn_net_predict\`, \`nn_net_forward\`); torch: \`bench/torch_bench.py\` (the loop a user writes: randperm,"
    echo "index, zero_grad, forward, loss, backward, step). Training: 1 warm-up epoch, then best and median"
    echo "samples/s of the timed epochs (up to 3; fewer when a batch size passes MAX_SECONDS=$MAX_SECONDS s, listed at the end)$([ "$ROUNDS" -gt 1 ] && echo " (best over $ROUNDS alternating rounds; median of the rounds' medians)"). Inference: 10,000 test"
    echo "images in batches of 1000 (softmax output). Latency: one sample per call, each call timed; \"best\""
    echo "is the 10th percentile. Ratio = nn.h / torch (for latency < 1 means nn.h is faster)."
    echo
    echo "| measurement | threads | batch | nn.h best | nn.h median | torch best | torch median | ratio best | ratio median | nn.h faster by | busy nn/torch |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|"
    ROWS=("train 1 32" "train 1 128" "train 1 256" "train 2 32" "train 2 128" "train 2 256"
          "infer 1 1000" "infer 2 1000" "latency 1 1" "latency 2 1")
    for row in "${ROWS[@]}"; do
        set -- $row
        nb=$(get nn "$1" "$2" "$3" best); nm=$(get nn "$1" "$2" "$3" median)
        tb=$(get torch "$1" "$2" "$3" best); tm=$(get torch "$1" "$2" "$3" median)
        [ -z "$nb$tb" ] && continue
        u="samples/s"; [ "$1" = latency ] && u="µs"
        if [ "$1" = latency ]; then fb=$(ratio "$tm" "$nm"); f2() { echo "${1:-–}"; }
        else fb=$(ratio "$nb" "$tb"); f2() { fmt_k "$1"; }; fi
        bn=$(awk -F'\t' -v n="$1" -v t="$2" '$1 == "nn" && $2 == n && $3 == t { print $8; exit }' "$TSV")
        bt=$(awk -F'\t' -v n="$1" -v t="$2" '$1 == "torch" && $2 == n && $3 == t { print $8; exit }' "$TSV")
        echo "| $1 ($u) | $2 | $3 | $(f2 "$nb") | $(f2 "$nm") | $(f2 "$tb") | $(f2 "$tm") | $(ratio "$nb" "$tb") | $(ratio "$nm" "$tm") | ${fb}× | ${bn:-–}% / ${bt:-–}% |"
    done
    echo
    echo "![training throughput vs batch size]($( [ $QUICK = 1 ] && echo "results/quick/" || echo "results/")$PLOT)"
    echo
    if [ -n "$(get libtorch train 1 128 best)" ]; then
        pc() { local v; v=$(share "$@"); [ -n "$v" ] && printf "%.0f%%" "$v" || echo "–"; }
        echo "### nn.h vs libtorch C++"
        echo
        echo "The same recipe in libtorch C++ (\`bench/libtorch_bench.cpp\`, Debian libtorch-dev, OpenMP OpenBLAS): no"
        echo "interpreter between the steps. Share of peak: FLOPs done (training 1.007 MFLOP/sample, inference"
        echo "0.470) over the measured FMA peak per core (${PK:-–} GFLOP/s) times the threads."
        echo
        echo "| measurement | threads | batch | nn.h best | libtorch best | nn.h / libtorch | nn.h share of peak | libtorch share of peak |"
        echo "|---|---|---|---|---|---|---|---|"
        for row in "${ROWS[@]}"; do
            set -- $row
            nb=$(get nn "$1" "$2" "$3" best); lb=$(get libtorch "$1" "$2" "$3" best)
            [ -z "$nb$lb" ] && continue
            if [ "$1" = latency ]; then
                echo "| latency (µs) | $2 | $3 | ${nb:-–} | ${lb:-–} | $(ratio "$lb" "$nb") | | |"
            else
                fl=1.007e6; [ "$1" = infer ] && fl=0.4695e6
                echo "| $1 (samples/s) | $2 | $3 | $(fmt_k "$nb") | $(fmt_k "$lb") | $(ratio "$nb" "$lb") | $(pc $fl "$nb" "$2") | $(pc $fl "$lb" "$2") |"
            fi
        done
        echo
    fi
    echo "Test accuracy after the timed epochs (sanity check; both must exceed 0.75 on Fashion-MNIST or the"
    echo "benches refuse to report):"
    echo
    echo '```'
    for f in "$RAW"/nn_1t_r1.txt "$RAW"/torch_1t_r1.txt; do [ -e "$f" ] && grep -E '^\| train' "$f" | sed "s|^|$(basename "$f" .txt): |"; done
    echo '```'
    echo

    if [ -e "$RAW/gemm_1t.txt" ]; then
        echo "## GEMM: nn_simd_gemm vs OpenBLAS and oneDNN, 1 thread"
        echo
        echo "\`bench/bench_gemm.c\`: every shape validated against a double reference before it is timed;"
        echo "best and median GFLOP/s; ratio = peer time / nn time (> 1: nn.h faster). Measured peak per"
        echo "core: ${PEAK1:-–} GFLOP/s with ymm (AVX2)${PEAKZ1:+, ${PEAKZ1} GFLOP/s with zmm (AVX-512)}. The b32/b128/b256 rows"
        echo "are the nine GEMMs of one training step. Both libraries choose their kernels at run time: nn.h's"
        echo "backend is on the header line below, OpenBLAS's kernel set is \`openblas_core\`."
        echo
        head -1 "$RAW/gemm_1t.txt" | sed 's/^/    /'
        echo
        grep '^|' "$RAW/gemm_1t.txt"
        echo
        if [ -e "$RAW/gemm_1t_avx2.txt" ]; then
            echo "The same with nn.h's AVX2 backend against oneDNN held to AVX2 (\`ONEDNN_MAX_CPU_ISA=AVX2\`):"
            echo
            head -1 "$RAW/gemm_1t_avx2.txt" | sed 's/^/    /'
            echo
            grep '^|' "$RAW/gemm_1t_avx2.txt"
            echo
        fi
    fi
    for sw in sweep_1t sweep_1t_avx2; do
        [ -e "$RAW/$sw.txt" ] || continue
        be=$(head -1 "$RAW/$sw.txt" | tr ' ' '\n' | sed -n 's/^backend=//p')
        echo "### Layer shapes against oneDNN, 1 thread, ${be:-?} backend"
        echo
        echo "\`bench_gemm --sweep\`: in -> out for in = out = 64 ... 4096 and for a 784 input, at batch 32 to 512,"
        echo "forward (NT), backward-data (NN) and weight-gradient (TN); ratio = oneDNN time / nn.h time (> 1: nn.h"
        echo "faster), best of 31 samples. $(sed -n 's/^SWEEP n=\([0-9]*\) geomean=\([0-9.]*\) min=\([0-9.]*\) at \(.*\)/\1 shapes: geometric mean \2, lowest \3 (\4)./p' "$RAW/$sw.txt")"
        echo
        echo "| shape | op | m | n | k | nn.h best GF/s | oneDNN best GF/s | ratio best |"
        echo "|---|---|---|---|---|---|---|---|"
        grep '^| b' "$RAW/$sw.txt" | awk -F'|' '{ printf "|%s|%s|%s|%s|%s|%s|%s|%s|\n", $2, $3, $4, $5, $6, $7, $13, $15 }'
        echo
    done

    FM_FILES=$(ls "$RAW"/fashion_s*.txt 2>/dev/null)
    if [ -n "$FM_FILES" ]; then
        echo "## Fashion-MNIST: test accuracy and wall time, 2 threads"
        echo
        echo "\`ex_fashion_mnist --epochs $FM_EPOCHS --threads 2 --seed S\` (784-256-128-10, AdamW lr 2e-3 wd 0.02, batch 128,"
        echo "cosine schedule with a 1-epoch warm-up, 5,000 images held out for validation). Wall time is the whole"
        echo "process: loading and decoding the gzipped IDX files, training, validation every epoch, the test set, the plots."
        echo "Target: mean test accuracy ≥ 0.89 in ≤ 3.5 s."
        echo
        echo "| seed | test accuracy | training s | samples/s | wall s | busy before |"
        echo "|---|---|---|---|---|---|"
        for f in $FM_FILES; do
            awk -v seed="$(basename "$f" .txt | sed 's/fashion_s//')" -v busy="$(cat "$f.busy" 2>/dev/null)" '
                /^test accuracy/ { acc = $3; tr = $5; sps = $7 }
                /^WALL / { wall = $2 / 1000 }
                END { printf "| %s | %s | %s | %s | %.2f | %s%% |\n", seed, acc, tr, sps, wall, busy }' "$f"
        done
        cat $FM_FILES | awk '/^test accuracy/ { a += $3; n++ } /^WALL / { w += $2 / 1000; m++ }
            END { if (n) printf "| **mean** | **%.4f** | | | **%.2f** | |\n", a / n, (m ? w / m : 0) }'
        echo
    fi

    if ls "$RAW"/threads_r*.txt >/dev/null 2>&1; then
        echo "## Threads: 1 vs 2, contention, thresholds (bench_threads)"
        echo
        echo "\`bench/bench_threads.c\`, best and median of many repetitions; run twice, minutes apart (round 1"
        echo "before the torch runs, round 2 after them, without the contention part), both shown."
        echo "Targets: 2-thread GEMM 1024³ ≥ 1.9× and ≥ 190 GFLOP/s; training step ≥ 1.85×; with a busy"
        echo "process on one core, 2 threads no slower than 1."
        echo
        for f in "$RAW"/threads_r*.txt; do
            echo "#### Round $(basename "$f" .txt | sed 's/threads_r//') (busy before: $(cat "$f.busy" 2>/dev/null)%)"
            echo
            sed -e '1,2d' -e 's/^## /##### /' "$f"
            echo
        done
    fi

    if [ -e "$RAW/kernels.txt" ]; then
        echo "## Element-wise kernels: SIMD vs scalar, 1 thread (bench_kernels)"
        echo
        echo "\`bench/bench_kernels.c\`: each SIMD kernel validated against the scalar backend, then both timed;"
        echo "millions of elements per second (best, median) and the speedup of the best times (busy before: $(cat "$RAW/kernels.txt.busy" 2>/dev/null)%)."
        echo
        grep -E '^(backend|cpu|repetitions)' "$RAW/kernels.txt" | sed 's/^/    /'
        echo
        grep '^|' "$RAW/kernels.txt"
        echo
    fi

    echo "## Whole program: examples/fashion_mnist.c vs bench/torch_fashion.py (hyperfine)"
    echo
    if [ ${#HF_DONE[@]} -gt 0 ]; then
        echo "Both programs load the gzipped IDX files themselves, hold out 5,000 images, train 784-256-128-10"
        echo "with AdamW lr 2e-3 wd 0.02, batch 128, cosine schedule with a 1-epoch warm-up, for $EX_EPOCHS epoch(s),"
        echo "validate every epoch and report test accuracy with per-class precision/recall (the C example"
        echo "also writes two small SVG/CSV plots). Times include process start-up (\`import torch\` is about"
        echo "1-2 s of torch's). hyperfine ${HF_ARGS[*]}; JSON and Markdown exports in \`$OUT/hyperfine_*\`."
        echo
        for t in "${HF_DONE[@]}"; do
            echo "**$t thread(s)** (busy before: $(cat "$RAW/hyperfine_${t}t.txt.busy" 2>/dev/null)%)"
            echo
            cat "$OUT/hyperfine_${t}t.md"
            echo
        done
    else
        echo "Not run (see below)."
        echo
    fi

    if ls "$RAW"/mpi_2r_r*.txt >/dev/null 2>&1; then
        echo "## Many machines: nn_mpi.h on this machine, and a model for clusters"
        echo
        echo "784-256-128-10, Adam, global batch 128, 25,600 random samples, \`nn_mpi_fit\` (\`bench/bench_mpi.c\`),"
        echo "runs alternated. The all-reduce is one \`MPI_Allreduce\` of the whole gradient (median of 50)."
        echo
        echo "| run | samples/s (each round) | all-reduce, us |"
        echo "|---|---|---|"
        for k in 2r 2rr 1p; do
            label="2 ranks x 1 thread"; [ $k = 1p ] && label="1 process x 2 threads"
            [ $k = 2rr ] && label="2 ranks x 1 thread, reproducible (8 parts per batch)"
            sps=$(grep -h '^mpi ' "$RAW"/mpi_${k}_r*.txt 2>/dev/null | awk '{printf "%s%s", s, $7; s=", "}')
            arr=$(grep -h '^mpi ' "$RAW"/mpi_${k}_r*.txt 2>/dev/null | awk '{printf "%s%s", s, $9; s=", "}')
            echo "| $label | ${sps:-–} | ${arr:-–} |"
        done
        echo
        echo "The model: every rank keeps a local batch of 128 (weak scaling), one thread per rank, the step"
        echo "time measured here on one thread, then a ring all-reduce without overlap,"
        echo "t(P) = t_step + 2 (P-1)/P x bytes / bandwidth + 2 (P-1) x 20 us; efficiency = t_step / t(P)."
        sed -n '/^model /,$p' "$RAW/mpi_model.txt" 2>/dev/null
        echo
        echo "Where adding ranks stops paying (the largest P above with efficiency >= 50%, i.e. each rank still"
        echo "adds at least half a rank's throughput):"
        echo
        awk '/^model / { m = $2; sub(/:$/, "", m); models[++nm] = m }
             /^\| [0-9]+ \|/ { for (k = 0; k < 3; k++) { e = $(6 + 4 * k); sub(/%/, "", e); if (e + 0 >= 50) last[m, k] = $2 } }
             END { split("10 25 100", g, " "); for (i = 1; i <= nm; i++) { line = "- " models[i] ":"
                     for (k = 0; k < 3; k++) line = line sprintf(" %s Gb/s: %s;", g[k + 1], ((models[i], k) in last) ? "P = " last[models[i], k] : "not even P = 2")
                     print line } }' "$RAW/mpi_model.txt" 2>/dev/null
        echo
        echo "A small net's step is short next to its all-reduce: raise the local batch (the step grows, the"
        echo "gradient does not), use fewer, fuller ranks (threads within a rank), or a faster network. Wide"
        echo "layers scale better: a step's compute grows with batch x weights, its all-reduce with the weights alone."
        echo
    fi

    if [ -s "$OUT/ab.md" ]; then
        echo "## A/B against an earlier revision (\`make bench-ab AB_REV=...\`)"
        echo
        cat "$OUT/ab.md"
        echo
    fi

    echo "## How to read and reproduce"
    echo
    echo "- \`make bench\` (or \`bench/run.sh\` after \`make\`); \`bench/run.sh --quick\` for a few-minute check"
    echo "  that writes only \`bench/results/quick/\`. Peers: \`make bench-deps\`."
    echo "- Every nn.h/torch line comes from \`RESULT <name> <threads> <batch> <best> <median> <unit>\` lines;"
    echo "  1-thread runs are pinned to CPU 0 (\`taskset -c 0\`), torch runs with \`LD_LIBRARY_PATH=$OBLAS_OMP\`"
    echo "  so it uses the OpenMP OpenBLAS (checked in-process from \`/proc/self/maps\`: ${TORCH_BLAS:-–})."
    echo "- Ceiling: training costs 1.007 MFLOP/sample (234,752 multiply-adds forward, as many for the weight"
    echo "  gradients, 34,048 for the input gradients of layers 2 and 3), so ${PEAK1:-102.6} GFLOP/s per core caps"
    echo "  training near $(awk -v p="${PEAK1:-102.6}" 'BEGIN { printf "%.0fk", p / 1.007 }') samples/s per core."
    echo
    echo "## Skipped / warnings"
    echo
    BNOTES=$(grep -h '^NOTE ' "$RAW"/nn_*.txt "$RAW"/torch_*.txt 2>/dev/null | sed 's/^NOTE //')
    if [ ${#NOTES[@]} -eq 0 ] && [ -z "$BNOTES" ]; then echo "None: every peer was found and every run completed."
    else
        for n in "${NOTES[@]}"; do echo "- $n"; done
        for f in "$RAW"/nn_*.txt "$RAW"/torch_*.txt; do
            [ -e "$f" ] && grep '^NOTE ' "$f" | sed "s|^NOTE |- $(basename "$f" .txt): |"
        done
    fi
} > "$RES"

echo
echo "run.sh: wrote $RES and $OUT/$PLOT (runs took $((ELAPSED / 60)) min $((ELAPSED % 60)) s)"
