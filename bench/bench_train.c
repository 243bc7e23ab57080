/* bench_train.c - end-to-end throughput of nn.h on Fashion-MNIST, the numbers
   bench/torch_bench.py measures for PyTorch (bench/run.sh runs both, alternating).

   Network 784-256-128-10, ReLU/ReLU/softmax, softmax cross-entropy, Xavier-uniform
   weights in every layer (as torch's nn.init.xavier_uniform_), zero biases, Adam lr 1e-3.

     train    nn_fit (quiet, no validation, shuffled every epoch) over the 60,000 training
              images: 1 warm-up epoch + N timed epochs; best and median of the per-epoch
              nn_epoch_stats.samples_per_sec; batch 32, 128 and 256.
     infer    nn_net_predict over the 10,000 test images with max_batch 1000; best and
              median samples/s over many repetitions.
     step     after each nn_fit, nn_train_step over the same images in stored order (no
              shuffle, no gather), as many epochs: nn_fit / step is what the loop costs.
     latency  nn_net_forward of one sample; p10 and median over >= 10,000 single calls,
              in microseconds (each call timed on its own).
     weight_read  the same statistics for reading the net's parameters once (vector
              loads and adds only): the floor under the batch-1 latency.
     wide     784-2048-2048-10 at batch 256, Adam, nn_train_step: best and median
              samples/s of 30 steps (not with --batch).

   Reference -> validate -> time: the forward pass is checked against a
   double-precision loop on the benchmark shape before anything is timed, the trained
   networks must reach a sane test accuracy, and if NN_BACKEND is set the active backend
   must be that one; otherwise the bench exits non-zero.

   Threads: whatever OpenMP gives (OMP_NUM_THREADS); bench/run.sh runs 1 (pinned) and 2.
   If the dataset is missing, random data of the same shape is used and every output
   says so (data=RANDOM).

   Output: a header line, one line per measurement
       RESULT <name> <threads> <batch> <best> <median> <unit>
   (for latency and weight_read "best" is the 10th percentile, lower is better),
   then a human-readable table.

   --quick: 1 timed epoch on the first 20,000 training images (--train-n), fewer
   inference repetitions; for development only. --max-seconds S (default 40): a batch
   size stops after the first timed epoch that ends more than S seconds after its start
   (a loaded machine cannot stretch the run without bound); the output says so.

   usage: bench_train [--epochs N] [--quick] [--data DIR] [--random] [--batch B]
                      [--train-n N] [--max-seconds S] [--infer-reps N] [--latency-calls N] */
#define _POSIX_C_SOURCE 199309L /* clock_gettime under -std=c99 */
#define NN_IMPLEMENTATION
#define NN_DATA_IMPLEMENTATION
#include "nn.h"
#include "nn_data.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench_util.h"

#define N_IN 784
#define N_OUT 10
#define INFER_BATCH 1000

static int load(const char *dir, const char *prefix, nn_data *out)
{
    char img[1024], lab[1024];
    nn_status st;
    snprintf(img, sizeof img, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    snprintf(lab, sizeof lab, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    st = nn_data_load_idx(img, lab, NULL, out);
    if (st != NN_OK) {
        fprintf(stderr, "bench_train: cannot load %s: %s\n", img, nn_status_str(st));
        return -1;
    }
    if (out->dim != N_IN || out->classes > N_OUT) {
        fprintf(stderr, "bench_train: %s is not Fashion-MNIST shaped (dim %d)\n", img, out->dim);
        nn_data_free(out);
        return -1;
    }
    return 0;
}

/* Random data of Fashion-MNIST's shape: x uniform in [0,1), labels uniform in 0..9. */
static int make_random(int n, uint64_t seed, nn_data *out)
{
    nn_rng r;
    size_t i;
    memset(out, 0, sizeof *out);
    out->x = (float *)nn_simd_alloc(NULL, sizeof(float) * (size_t)n * N_IN);
    out->labels = (int *)nn_simd_alloc(NULL, sizeof(int) * (size_t)n);
    if (!out->x || !out->labels) return -1;
    nn_rng_seed(&r, seed);
    for (i = 0; i < (size_t)n * N_IN; i++) out->x[i] = nn_rng_uniform(&r);
    for (i = 0; i < (size_t)n; i++) out->labels[i] = (int)(nn_rng_u64(&r) % N_OUT);
    out->n = n;
    out->dim = N_IN;
    out->classes = N_OUT;
    return 0;
}

static nn_net *make_net(int max_batch, uint64_t seed)
{
    nn_net_desc d;
    nn_net *net = NULL;
    nn_status st;
    memset(&d, 0, sizeof d);
    d.n_inputs = N_IN;
    d.layers[0].units = 256; d.layers[0].act = NN_ACT_RELU;    d.layers[0].init = NN_INIT_XAVIER_UNIFORM;
    d.layers[1].units = 128; d.layers[1].act = NN_ACT_RELU;    d.layers[1].init = NN_INIT_XAVIER_UNIFORM;
    d.layers[2].units = 10;  d.layers[2].act = NN_ACT_SOFTMAX; d.layers[2].init = NN_INIT_XAVIER_UNIFORM;
    d.max_batch = max_batch;
    d.seed = seed;
    if ((st = nn_net_create(&d, &net)) != NN_OK) {
        fprintf(stderr, "bench_train: nn_net_create: %s\n", nn_status_str(st));
        return NULL;
    }
    return net;
}

/* Reference: the forward pass in double from the layer weights, softmax output;
   nn_net_forward must agree to 1e-4 (absolute, on probabilities) on every sample given. */
static int validate_forward(nn_net *net, const float *x, int n)
{
    const float *y;
    double h[2][256], z[N_OUT];
    int s, l, i, j, L = nn_net_n_layers(net);
    nn_status st = nn_net_forward(net, x, n, &y);
    if (st != NN_OK) {
        fprintf(stderr, "bench_train: nn_net_forward: %s\n", nn_status_str(st));
        return 0;
    }
    for (s = 0; s < n; s++) {
        const float *xs = x + (size_t)s * N_IN;
        double mx = -1e300, sum = 0;
        for (l = 0; l < L; l++) {
            int in = 0, out = 0;
            float *W = NULL, *b = NULL;
            if (nn_net_layer(net, l, &in, &out, &W, &b, NULL, NULL) != NN_OK || in > 784 ||
                out > (l < L - 1 ? 256 : N_OUT) || (l > 0 && in > 256)) {
                fprintf(stderr, "bench_train: unexpected layer %d shape\n", l);
                return 0;
            }
            for (j = 0; j < out; j++) {
                double acc = b[j];
                for (i = 0; i < in; i++)
                    acc += (double)W[(size_t)j * in + i] * (l == 0 ? (double)xs[i] : h[(l - 1) & 1][i]);
                if (l < L - 1) h[l & 1][j] = acc > 0 ? acc : 0;
                else z[j] = acc;
            }
        }
        for (j = 0; j < N_OUT; j++) mx = z[j] > mx ? z[j] : mx;
        for (j = 0; j < N_OUT; j++) sum += exp(z[j] - mx);
        for (j = 0; j < N_OUT; j++) {
            double p = exp(z[j] - mx) / sum, got = y[(size_t)s * N_OUT + j];
            if (!(fabs(got - p) <= 1e-4)) {
                fprintf(stderr, "bench_train: backend=%s forward WRONG at sample %d class %d: "
                                "got %.7f want %.7f; not timing\n",
                        nn_simd_backend_name(), s, j, got, p);
                return 0;
            }
        }
    }
    return 1;
}

/* nn_fit's per-epoch callback: stop once the warm-up and one timed epoch are done and
   the time budget is spent. */
typedef struct budget { double max_s, used_s; } budget;
static int on_epoch(const nn_epoch_stats *s, void *user)
{
    budget *b = (budget *)user;
    b->used_s += s->seconds;
    return s->epoch >= 2 && b->used_s > b->max_s;
}

/* n floats read once, as fast as the core reads: the widest vector loads this CPU
   runs, eight independent sums (one add per load, no other arithmetic). */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
__attribute__((target("avx512f"))) static float read_floats_avx512(const float *x, size_t n)
{
    __m512 s[8];
    size_t i = 0;
    int j;
    for (j = 0; j < 8; j++) s[j] = _mm512_setzero_ps();
    for (; i + 128 <= n; i += 128)
        for (j = 0; j < 8; j++) s[j] = _mm512_add_ps(s[j], _mm512_loadu_ps(x + i + 16 * j));
    for (j = 1; j < 8; j++) s[0] = _mm512_add_ps(s[0], s[j]);
    for (; i < n; i++) s[0] = _mm512_add_ps(s[0], _mm512_set1_ps(x[i]));
    return _mm512_reduce_add_ps(s[0]);
}
__attribute__((target("avx2"))) static float read_floats_avx2(const float *x, size_t n)
{
    __m256 s[8];
    float o[8];
    size_t i = 0;
    int j;
    for (j = 0; j < 8; j++) s[j] = _mm256_setzero_ps();
    for (; i + 64 <= n; i += 64)
        for (j = 0; j < 8; j++) s[j] = _mm256_add_ps(s[j], _mm256_loadu_ps(x + i + 8 * j));
    for (j = 1; j < 8; j++) s[0] = _mm256_add_ps(s[0], s[j]);
    _mm256_storeu_ps(o, s[0]);
    for (; i < n; i++) o[0] += x[i];
    return o[0] + o[1] + o[2] + o[3] + o[4] + o[5] + o[6] + o[7];
}
#endif
static float read_floats(const float *x, size_t n)
{
    float s[8] = {0};
    size_t i = 0;
    int j;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    if (__builtin_cpu_supports("avx512f")) return read_floats_avx512(x, n);
    if (__builtin_cpu_supports("avx2")) return read_floats_avx2(x, n);
#endif
    for (; i + 8 <= n; i += 8)
        for (j = 0; j < 8; j++) s[j] += x[i + j];
    for (; i < n; i++) s[0] += x[i];
    return s[0] + s[1] + s[2] + s[3] + s[4] + s[5] + s[6] + s[7];
}

typedef struct row { const char *name; int batch; double best, med; const char *unit; double acc; } row;

int main(int argc, char **argv)
{
    const char *data_dir = "/usr/share/datasets/fashion-mnist";
    int epochs = 3, quick = 0, force_random = 0, infer_reps = 0, lat_calls = 0, only_batch = 0, train_n = 0;
    int threads = 1, i, b, random_data = 0, failed = 0, nrows = 0;
    double max_s = 40.0;
    static const int batches[] = {32, 128, 256};
    row rows[8];
    char cpu[256];
    nn_data train, test;
    nn_net *trained = NULL;
    double *t;
    const char *want_backend = getenv("NN_BACKEND");

    for (i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--quick")) { quick = 1; continue; }
        if (!strcmp(a, "--random")) { force_random = 1; continue; }
        if (!v) goto usage;
        if (!strcmp(a, "--epochs")) epochs = atoi(v);
        else if (!strcmp(a, "--data")) data_dir = v;
        else if (!strcmp(a, "--batch")) only_batch = atoi(v);
        else if (!strcmp(a, "--train-n")) train_n = atoi(v);
        else if (!strcmp(a, "--max-seconds")) max_s = atof(v);
        else if (!strcmp(a, "--infer-reps")) infer_reps = atoi(v);
        else if (!strcmp(a, "--latency-calls")) lat_calls = atoi(v);
        else goto usage;
        i++;
    }
    if (quick && epochs == 3) epochs = 1;
    if (epochs < 1) goto usage;
    if (infer_reps <= 0) infer_reps = quick ? 10 : 40;
    if (lat_calls <= 0) lat_calls = quick ? 10000 : 20000;

    if (nn_simd_init() != NN_OK) { fprintf(stderr, "bench_train: bad NN_BACKEND\n"); return 1; }
    if (want_backend && *want_backend && strcmp(want_backend, nn_simd_backend_name())) {
        fprintf(stderr, "bench_train: NN_BACKEND=%s requested but %s is active\n", want_backend,
                nn_simd_backend_name());
        return 1;
    }
#ifdef _OPENMP
    threads = omp_get_max_threads();
#endif
    cpu_model(cpu, sizeof cpu);

    if (force_random || load(data_dir, "train", &train) || load(data_dir, "t10k", &test)) {
        if (!force_random)
            fprintf(stderr, "bench_train: Fashion-MNIST not found in %s "
                            "(apt-get install dataset-fashion-mnist); using RANDOM data of the same shape\n",
                    data_dir);
        if (make_random(60000, 1, &train) || make_random(10000, 2, &test)) {
            fprintf(stderr, "bench_train: out of memory\n");
            return 1;
        }
        random_data = 1;
    }
    if (train_n <= 0 && quick) train_n = 20000;
    if (train_n > 0 && train_n < train.n) train.n = train_n; /* the first train_n images */
    printf("bench_train backend=%s cpu=\"%s\" threads=%d data=%s train=%d test=%d epochs=1+%d "
           "infer_reps=%d latency_calls=%d\n",
           nn_simd_backend_name(), cpu, threads, random_data ? "RANDOM" : "fashion-mnist", train.n,
           test.n, epochs, infer_reps, lat_calls);
    fflush(stdout);

    /* --- training throughput --- */
    for (b = 0; b < 3; b++) {
        int B = batches[b];
        nn_net *net;
        nn_optim *opt = NULL;
        nn_optim_desc od;
        nn_fit_desc fd;
        nn_fit_report rep;
        nn_status st;
        budget bud;
        double sps[64];
        float acc = 0.0f;
        int e, n_timed;
        if (only_batch && B != only_batch) continue;
        if (!(net = make_net(B, 42))) return 1;
        if (!validate_forward(net, test.x, 8)) return 1;
        memset(&od, 0, sizeof od);
        od.kind = NN_OPTIM_ADAM;
        od.lr = 1e-3f;
        if ((st = nn_optim_create(net, &od, &opt)) != NN_OK) {
            fprintf(stderr, "bench_train: nn_optim_create: %s\n", nn_status_str(st));
            return 1;
        }
        memset(&fd, 0, sizeof fd);
        fd.epochs = 1 + (epochs < 63 ? epochs : 63);
        fd.batch = B;
        fd.seed = 7;
        fd.quiet = 1;
        bud.max_s = max_s;
        bud.used_s = 0.0;
        fd.on_epoch = on_epoch;
        fd.user = &bud;
        if ((st = nn_fit(net, opt, train.x, NULL, train.labels, train.n, &fd, &rep)) != NN_OK) {
            fprintf(stderr, "bench_train: nn_fit: %s\n", nn_status_str(st));
            return 1;
        }
        n_timed = rep.epochs_run - 1;
        for (e = 0; e < n_timed; e++) {
            sps[e] = rep.history[e + 1].samples_per_sec;
            if (rep.history[e + 1].skipped_steps) failed = 1;
        }
        nn_net_accuracy(net, test.x, test.labels, test.n, &acc);
        if (n_timed < 1 || failed || !isfinite(rep.history[rep.epochs_run - 1].train_loss) ||
            (!random_data && acc < 0.75f)) {
            fprintf(stderr, "bench_train: batch %d trained WRONG (epochs %d, test accuracy %.3f, "
                            "skipped steps); not reporting\n", B, rep.epochs_run, (double)acc);
            return 1;
        }
        if (n_timed < epochs)
            printf("NOTE train batch %d: %d of %d timed epochs (time cap %g s reached)\n", B,
                   n_timed, epochs, max_s);
        qsort(sps, (size_t)n_timed, sizeof(double), cmp_d);
        rows[nrows].name = "train"; rows[nrows].batch = B; rows[nrows].unit = "samples/s";
        rows[nrows].best = sps[n_timed - 1];
        rows[nrows].med = n_timed % 2 ? sps[n_timed / 2] : 0.5 * (sps[n_timed / 2 - 1] + sps[n_timed / 2]);
        rows[nrows].acc = acc;
        printf("RESULT train %d %d %.0f %.0f samples/s\n", threads, B, rows[nrows].best, rows[nrows].med);
        fflush(stdout);
        nrows++;
        /* the raw step on the same data in stored order, as many epochs: what nn_fit
           adds (shuffle, batch gather, bookkeeping) is the ratio of the two */
        {
            const int steps = train.n / B;
            int s;
            float loss;
            for (e = 0; e < n_timed; e++) {
                double t0 = now_s();
                for (s = 0; s < steps; s++)
                    if (nn_train_step(net, opt, train.x + (size_t)s * B * N_IN, NULL,
                                      train.labels + (size_t)s * B, B, &loss) != NN_OK)
                        failed = 1;
                sps[e] = (double)steps * B / (now_s() - t0);
            }
            if (failed) {
                fprintf(stderr, "bench_train: nn_train_step failed at batch %d\n", B);
                return 1;
            }
            qsort(sps, (size_t)n_timed, sizeof(double), cmp_d);
            printf("RESULT step %d %d %.0f %.0f samples/s\n", threads, B, sps[n_timed - 1],
                   n_timed % 2 ? sps[n_timed / 2] : 0.5 * (sps[n_timed / 2 - 1] + sps[n_timed / 2]));
            fflush(stdout);
        }
        nn_fit_report_free(&rep);
        nn_optim_destroy(opt);
        if (B == 128 || (only_batch && !trained)) {
            if (trained) nn_net_destroy(trained);
            trained = net;
        } else {
            nn_net_destroy(net);
        }
    }

    /* --- inference: trained weights in a net with max_batch 1000 --- */
    {
        nn_net *inf = make_net(INFER_BATCH, 42);
        float *out = (float *)malloc(sizeof(float) * (size_t)test.n * N_OUT);
        double *tt = (double *)malloc(sizeof(double) * (size_t)infer_reps);
        int r;
        if (!inf || !out || !tt) return 1;
        if (trained && nn_net_copy_params(inf, trained) != NN_OK) return 1;
        if (!validate_forward(inf, test.x, 8)) return 1;
        nn_net_predict(inf, test.x, test.n, out); /* warm-up */
        for (r = 0; r < infer_reps; r++) {
            double t0 = now_s();
            nn_status st = nn_net_predict(inf, test.x, test.n, out);
            tt[r] = now_s() - t0;
            if (st != NN_OK) {
                fprintf(stderr, "bench_train: nn_net_predict: %s\n", nn_status_str(st));
                return 1;
            }
        }
        qsort(tt, (size_t)infer_reps, sizeof(double), cmp_d);
        rows[nrows].name = "infer"; rows[nrows].batch = INFER_BATCH; rows[nrows].unit = "samples/s";
        rows[nrows].best = test.n / tt[0];
        rows[nrows].med = test.n / tt[infer_reps / 2];
        rows[nrows].acc = -1;
        printf("RESULT infer %d %d %.0f %.0f samples/s\n", threads, INFER_BATCH, rows[nrows].best,
               rows[nrows].med);
        fflush(stdout);
        nrows++;

        /* --- latency: one sample per call, each call timed --- */
        t = (double *)malloc(sizeof(double) * (size_t)lat_calls);
        if (!t) return 1;
        for (r = 0; r < 200; r++) { /* warm-up */
            const float *y;
            nn_net_forward(inf, test.x + (size_t)(r % test.n) * N_IN, 1, &y);
        }
        for (r = 0; r < lat_calls; r++) {
            const float *y;
            const float *xs = test.x + (size_t)(r % test.n) * N_IN;
            double t0 = now_s();
            nn_net_forward(inf, xs, 1, &y);
            t[r] = now_s() - t0;
        }
        qsort(t, (size_t)lat_calls, sizeof(double), cmp_d);
        rows[nrows].name = "latency"; rows[nrows].batch = 1; rows[nrows].unit = "us";
        rows[nrows].best = 1e6 * t[lat_calls / 10];
        rows[nrows].med = 1e6 * t[lat_calls / 2];
        rows[nrows].acc = -1;
        printf("RESULT latency %d 1 %.2f %.2f us\n", threads, rows[nrows].best, rows[nrows].med);
        fflush(stdout);
        nrows++;
        /* the floor under it: the net's parameters read once (read_floats), timed per
           call as the latency is, from the same cache state */
        {
            size_t np;
            const float *w = nn_net_params(inf, &np, NULL);
            volatile float sink = 0.0f;
            for (r = 0; r < lat_calls; r++) {
                double t0 = now_s();
                sink += read_floats(w, np);
                t[r] = now_s() - t0;
            }
            (void)sink;
            qsort(t, (size_t)lat_calls, sizeof(double), cmp_d);
            printf("RESULT weight_read %d 1 %.2f %.2f us\n", threads, 1e6 * t[lat_calls / 10],
                   1e6 * t[lat_calls / 2]);
            fflush(stdout);
        }
        free(t); free(tt); free(out);
        nn_net_destroy(inf);
    }

    /* --- a wide net: 784-2048-2048-10, batch 256, Adam, nn_train_step on the first
       256 images; samples/s of the best and median of 30 steps --- */
    if (!only_batch) {
        enum { WB = 256, WSTEPS = 30 };
        nn_net_desc d;
        nn_net *net = NULL;
        nn_optim *opt = NULL;
        nn_optim_desc od;
        double ts[WSTEPS];
        float loss;
        int r;
        memset(&d, 0, sizeof d);
        d.n_inputs = N_IN;
        d.layers[0].units = 2048; d.layers[0].act = NN_ACT_RELU;
        d.layers[1].units = 2048; d.layers[1].act = NN_ACT_RELU;
        d.layers[2].units = N_OUT; d.layers[2].act = NN_ACT_SOFTMAX;
        d.max_batch = WB;
        d.seed = 42;
        memset(&od, 0, sizeof od);
        od.kind = NN_OPTIM_ADAM;
        od.lr = 1e-3f;
        if (train.n < WB || nn_net_create(&d, &net) != NN_OK || nn_optim_create(net, &od, &opt) != NN_OK) {
            fprintf(stderr, "bench_train: wide net not created\n");
            return 1;
        }
        for (r = 0; r < 3 + WSTEPS; r++) {
            double t0 = now_s();
            if (nn_train_step(net, opt, train.x, NULL, train.labels, WB, &loss) != NN_OK) {
                fprintf(stderr, "bench_train: wide net step failed\n");
                return 1;
            }
            if (r >= 3) ts[r - 3] = WB / (now_s() - t0);
        }
        qsort(ts, WSTEPS, sizeof(double), cmp_d);
        printf("RESULT wide %d %d %.0f %.0f samples/s\n", threads, WB, ts[WSTEPS - 1], ts[WSTEPS / 2]);
        fflush(stdout);
        nn_optim_destroy(opt);
        nn_net_destroy(net);
    }

    printf("\nnn.h, %d thread(s), backend %s, data %s\n", threads, nn_simd_backend_name(),
           random_data ? "RANDOM (Fashion-MNIST not found)" : "Fashion-MNIST");
    printf("| measurement | batch | best | median | unit | test acc |\n|---|---|---|---|---|---|\n");
    for (i = 0; i < nrows; i++) {
        printf("| %s | %d | %.*f | %.*f | %s |", rows[i].name, rows[i].batch,
               rows[i].unit[0] == 'u' ? 2 : 0, rows[i].best, rows[i].unit[0] == 'u' ? 2 : 0,
               rows[i].med, rows[i].unit[0] == 'u' ? "us (best = p10)" : rows[i].unit);
        if (rows[i].acc >= 0) printf(" %.4f |\n", rows[i].acc);
        else printf(" |\n");
    }
    if (trained) nn_net_destroy(trained);
    nn_data_free(&train);
    nn_data_free(&test);
    return 0;

usage:
    fprintf(stderr, "usage: %s [--epochs N] [--quick] [--data DIR] [--random] [--batch B] "
                    "[--train-n N] [--max-seconds S] [--infer-reps N] [--latency-calls N]\n", argv[0]);
    return 2;
}
