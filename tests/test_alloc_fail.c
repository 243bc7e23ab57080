/* test_alloc_fail.c - allocation failure at every point of create and load.

   Through the nn_allocator hook, the 1st, 2nd, ... k-th allocation of nn_net_create,
   nn_optim_create (Adam, Adafactor), nn_net_load_mem, nn_net_load and nn_cross_validate
   fails in turn, until the call succeeds. Every failing run must return NN_ERR_NOMEM, leave *out untouched and free
   all it allocated (the allocator counts live blocks: 0 after). nn_net_save's one
   allocation (the temporary name) is failed too: NN_ERR_NOMEM, no file written.

   Strict C99 on purpose (no _POSIX_C_SOURCE): nn.h's plain C save path (no O_EXCL, no
   fsync) is the one exercised here, with a save/load round trip and injected write
   failures (NN_TEST_IO_FAULTS) that must leave the previous file intact.

   Steady state: once a network has run a step, further training steps, forward passes
   and predictions allocate nothing, neither through its allocator nor through
   NN_MALLOC (counted here), at 1, 2 and 3 threads; and when the network's GEMM
   workspace cannot be allocated the results are bit-identical to those with it. */
#define NN_TEST_IO_FAULTS
#include <stdlib.h>
static long sys_allocs; /* NN_MALLOC calls */
static void *test_malloc(size_t n)
{
    sys_allocs++;
    return malloc(n);
}
#define NN_MALLOC(sz) test_malloc(sz)
#define NN_FREE(p) free(p)
#define NN_IMPLEMENTATION
#include "nn.h"
#include "nn_test.h"
#include <time.h>

static double sentinel_storage[2];
#define NET_SENTINEL ((nn_net *)(void *)&sentinel_storage[0])
#define OPT_SENTINEL ((nn_optim *)(void *)&sentinel_storage[1])

/* Aligned blocks over malloc (the original pointer is kept just below the block). */
typedef struct counter {
    long live, calls, fail_at; /* fail_at 0: never */
    int fail_rest;             /* every call from fail_at on fails */
    int misalign;              /* blocks come 16 bytes past the requested alignment */
} counter;

static void *count_alloc(size_t size, size_t align, void *user)
{
    counter *c = (counter *)user;
    unsigned char *raw, *p;
    c->calls++;
    if (c->fail_at && (c->calls == c->fail_at || (c->fail_rest && c->calls > c->fail_at)))
        return NULL;
    raw = (unsigned char *)malloc(size + align + sizeof(void *));
    if (!raw) return NULL;
    p = raw + sizeof(void *);
    p += (align - (size_t)((uintptr_t)p % align)) % align;
    if (c->misalign && align > 16) p += 16; /* (size + align + 8 bytes: still in the block) */
    memcpy(p - sizeof(void *), &raw, sizeof raw);
    c->live++;
    return p;
}

static void count_free(void *p, void *user)
{
    unsigned char *raw;
    memcpy(&raw, (unsigned char *)p - sizeof(void *), sizeof raw);
    ((counter *)user)->live--;
    free(raw);
}

static nn_allocator counting(counter *c)
{
    nn_allocator a;
    a.alloc_fn = count_alloc;
    a.free_fn = count_free;
    a.user = c;
    return a;
}

static nn_net_desc test_desc(void)
{
    nn_net_desc d;
    memset(&d, 0, sizeof d);
    d.n_inputs = 3;
    d.layers[0].units = 6;
    d.layers[0].dropout = 0.1f;
    d.layers[1].units = 4;
    d.layers[2].units = 2;
    d.layers[2].act = NN_ACT_SOFTMAX;
    d.max_batch = 8;
    return d;
}

/* Runs `call` with the k-th allocation failing, k = 1, 2, ..., until it succeeds.
   Returns the number of allocations of the successful run. */
#define SWEEP(what, out_reset, call, out_untouched, cleanup)                              \
    do {                                                                                  \
        long k;                                                                           \
        for (k = 1; k < 100; k++) {                                                       \
            counter c = { 0, 0, 0, 0, 0 };                                                      \
            nn_allocator a = counting(&c);                                                \
            nn_status st;                                                                 \
            c.fail_at = k;                                                                \
            out_reset;                                                                    \
            st = call;                                                                    \
            if (st == NN_OK) {                                                            \
                NN_CHECK(k > 1, "%s: succeeded without allocating", what);                \
                cleanup;                                                                  \
                NN_CHECK(c.live == 0, "%s: %ld blocks live after destroy", what, c.live); \
                printf("%s: %ld allocation failures, each NN_ERR_NOMEM, no leak\n", what, \
                       k - 1);                                                            \
                break;                                                                    \
            }                                                                             \
            NN_CHECK(st == NN_ERR_NOMEM, "%s: failing allocation %ld gave %s", what, k,   \
                     nn_status_str(st));                                                  \
            NN_CHECK(out_untouched, "%s: failing allocation %ld wrote the output", what, k); \
            NN_CHECK(c.live == 0, "%s: failing allocation %ld leaked %ld blocks", what, k,   \
                     c.live);                                                             \
        }                                                                                 \
        NN_CHECK(k < 100, "%s: never succeeded", what);                                   \
    } while (0)

static unsigned char *model_bytes(size_t *n)
{
    nn_net_desc d = test_desc();
    nn_optim_desc od;
    nn_net *net = NULL;
    nn_optim *opt = NULL;
    unsigned char *buf = NULL;
    memset(&od, 0, sizeof od);
    od.kind = NN_OPTIM_ADAM;
    if (nn_net_create(&d, &net) != NN_OK || nn_optim_create(net, &od, &opt) != NN_OK) return NULL;
    if (nn_net_save_mem(net, opt, NULL, 0, n) == NN_OK) {
        buf = (unsigned char *)malloc(*n);
        if (buf && nn_net_save_mem(net, opt, buf, *n, n) != NN_OK) {
            free(buf);
            buf = NULL;
        }
    }
    nn_optim_destroy(opt);
    nn_net_destroy(net);
    return buf;
}

static int same_file(const char *path, const unsigned char *want, size_t n)
{
    FILE *f = fopen(path, "rb");
    unsigned char *got = (unsigned char *)malloc(n + 1);
    size_t r = 0;
    int same;
    if (f) {
        r = fread(got, 1, n + 1, f);
        fclose(f);
    }
    same = f && got && r == n && memcmp(got, want, n) == 0;
    free(got);
    return same;
}

/* A net whose GEMMs are big enough for the heap workspace on every SIMD backend
   (AVX-512: the 200 -> 192 forward packs 200 x 192 floats of B). */
static nn_net *steady_net(counter *c)
{
    nn_net_desc d;
    nn_net *net = NULL;
    memset(&d, 0, sizeof d);
    d.n_inputs = 200;
    d.layers[0].units = 192;
    d.layers[0].dropout = 0.25f;
    d.layers[1].units = 64;
    d.layers[2].units = 10;
    d.loss = NN_LOSS_SOFTMAX_CE;
    d.max_batch = 96;
    d.seed = 5;
    d.allocator = counting(c);
    if (nn_net_create(&d, &net) != NN_OK) return NULL;
    return net;
}

static void steps(nn_net *net, nn_optim *opt, const float *x, const int *lab, int n, int b)
{
    int s;
    float loss;
    for (s = 0; s < n; s++) {
        nn_status st = nn_train_step(net, opt, x + (size_t)(s % 2) * b * 200, NULL,
                                     lab + (s % 2) * b, b, &loss);
        NN_CHECK(st == NN_OK, "train step %d at batch %d: %s", s, b, nn_status_str(st));
    }
}

/* A contention back-off runs kernels on the calling thread: the tests set one (and end
   it) by hand, so the steady state meets the one-thread plans and the team's. */
static void set_backoff(int on)
{
#ifdef _OPENMP
    nn__guard.until = on ? omp_get_wtime() + 3600.0 : 0.0;
#else
    (void)on;
#endif
}

static void check_steady_state(void)
{
    static const int threads[] = {1, 2, 3};
    float *x = (float *)malloc(sizeof(float) * 192 * 200), *out = (float *)malloc(sizeof(float) * 192 * 10);
    int *lab = (int *)malloc(sizeof(int) * 192);
    nn_rng r;
    size_t i;
    int t;
    if (!x || !out || !lab) { NN_CHECK(0, "test buffers"); free(x); free(out); free(lab); return; }
    nn_rng_seed(&r, 11);
    for (i = 0; i < 192 * 200; i++) x[i] = nn_rng_uniform(&r) - 0.5f;
    for (i = 0; i < 192; i++) lab[i] = (int)(i * 7 % 10);
    for (t = 0; t < 6; t++) { /* t >= 3: the first steps run in a back-off */
        counter c = { 0, 0, 0, 0, 0 };
        nn_net *net;
        nn_optim *opt = NULL;
        nn_optim_desc od;
        long calls, sys;
        float loss;
        nn_simd_set_threads(threads[t % 3]);
        net = steady_net(&c);
        memset(&od, 0, sizeof od);
        od.kind = NN_OPTIM_ADAM;
        NN_CHECK(net && nn_optim_create(net, &od, &opt) == NN_OK, "create");
        if (!net || !opt) { nn_optim_destroy(opt); nn_net_destroy(net); continue; }
        set_backoff(t >= 3);
        steps(net, opt, x, lab, 2, 96); /* the first steps size the workspace */
        steps(net, opt, x, lab, 1, 33);
        NN_CHECK(nn_net_predict(net, x, 192, out) == NN_OK, "predict");
        set_backoff(0);
        calls = c.calls;
        sys = sys_allocs;
        steps(net, opt, x, lab, 6, 96);
        steps(net, opt, x, lab, 3, 33);
        set_backoff(t < 3); /* a back-off in the steady state, then its end */
        steps(net, opt, x, lab, 2, 96);
        steps(net, opt, x, lab, 1, 33);
        set_backoff(0);
        steps(net, opt, x, lab, 2, 96);
        NN_CHECK(nn_net_predict(net, x, 192, out) == NN_OK, "predict");
        NN_CHECK(nn_net_loss(net, x, NULL, lab, 96, &loss) == NN_OK, "loss");
        NN_CHECK(c.calls == calls, "%d threads%s: %ld allocations through the net's allocator "
                 "in steady-state steps", threads[t % 3], t >= 3 ? ", first steps backed off" : "",
                 c.calls - calls);
        NN_CHECK(sys_allocs == sys, "%d threads%s: %ld NN_MALLOC calls in steady-state steps",
                 threads[t % 3], t >= 3 ? ", first steps backed off" : "", sys_allocs - sys);
        if (nn_simd_backend_active() != NN_SIMD_BACKEND_SCALAR)
            NN_CHECK(net->gws.grows >= 1 && net->gws.grows <= 3,
                     "%d threads: workspace grew %ld times (its path must be exercised)",
                     threads[t % 3], net->gws.grows);
        nn_optim_destroy(opt);
        nn_net_destroy(net);
        NN_CHECK(c.live == 0, "%d threads: %ld blocks leaked", threads[t % 3], c.live);
    }
    /* mode 0, no workspace: every allocation after create fails. Mode 1, an allocator
       that ignores the requested alignment: the workspace refuses (and frees) its
       blocks. Either way the GEMMs fall back to their own and the results are the same. */
    for (t = 0; t < 2; t++) {
        counter ca = { 0, 0, 0, 0, 0 }, cb = { 0, 0, 0, 0, 0 };
        nn_net *a = steady_net(&ca), *b = steady_net(&cb);
        nn_optim *oa = NULL, *ob = NULL;
        nn_optim_desc od;
        long before;
        memset(&od, 0, sizeof od);
        od.kind = NN_OPTIM_ADAM;
        nn_simd_set_threads(2);
        NN_CHECK(a && b && nn_optim_create(a, &od, &oa) == NN_OK &&
                 nn_optim_create(b, &od, &ob) == NN_OK, "create");
        if (a && b && oa && ob) {
            if (t == 0) {
                ca.fail_at = ca.calls + 1;
                ca.fail_rest = 1;
            } else {
                ca.misalign = 1;
            }
            before = ca.calls;
            steps(a, oa, x, lab, 4, 96);
            steps(b, ob, x, lab, 4, 96);
            if (t == 1 && nn_simd_backend_active() != NN_SIMD_BACKEND_SCALAR) {
                NN_CHECK(ca.calls > before, "the workspace was never requested");
                NN_CHECK(b->gws.grows >= 1, "the aligned net's workspace was never used");
            }
            NN_CHECK(a->gws.grows == 0 && a->gws.p == NULL,
                     "%s: a workspace was kept", t ? "misaligned allocator" : "failing allocator");
            NN_CHECK(memcmp(a->params, b->params, a->n_params * sizeof(float)) == 0,
                     "%s: without the workspace the weights differ",
                     t ? "misaligned allocator" : "failing allocator");
        }
        nn_optim_destroy(oa); nn_optim_destroy(ob);
        nn_net_destroy(a); nn_net_destroy(b);
        NN_CHECK(ca.live == 0 && cb.live == 0, "blocks leaked: %ld, %ld", ca.live, cb.live);
    }
    nn_simd_set_threads(0);
    free(x); free(out); free(lab);
}

int main(void)
{
    nn_net_desc d = test_desc();
    nn_optim_desc od;
    nn_net *net, *base = NULL;
    nn_optim *opt;
    unsigned char *file;
    size_t n = 0;
    char path[256];
    const char *dir = getenv("TMPDIR");
    nn_test_begin("test_alloc_fail");
    memset(&od, 0, sizeof od);
    od.kind = NN_OPTIM_ADAM;
    sprintf(path, "%.200s/nn_test_alloc_fail_%lx.nn", dir && *dir ? dir : "/tmp",
            (unsigned long)time(NULL));

    SWEEP("nn_net_create", (net = NET_SENTINEL, d.allocator = a), nn_net_create(&d, &net),
          net == NET_SENTINEL, nn_net_destroy(net));
    d.allocator.alloc_fn = NULL;
    d.allocator.free_fn = NULL;

    nn_net_create(&d, &base);
    SWEEP("nn_optim_create", (opt = OPT_SENTINEL, od.allocator = a), nn_optim_create(base, &od, &opt),
          opt == OPT_SENTINEL, nn_optim_destroy(opt));
    od.kind = NN_OPTIM_ADAFACTOR; /* full momentum, factored moments and column sums */
    od.beta1 = 0.9f;
    SWEEP("nn_optim_create (adafactor)", (opt = OPT_SENTINEL, od.allocator = a),
          nn_optim_create(base, &od, &opt), opt == OPT_SENTINEL, nn_optim_destroy(opt));
    od.kind = NN_OPTIM_ADAM;
    od.beta1 = 0.0f;
    od.allocator.alloc_fn = NULL;
    od.allocator.free_fn = NULL;

    file = model_bytes(&n);
    NN_CHECK(file != NULL, "model bytes");
    if (!file) return nn_test_done();
    SWEEP("nn_net_load_mem", (net = NET_SENTINEL, opt = OPT_SENTINEL),
          nn_net_load_mem(file, n, &a, &net, &opt), net == NET_SENTINEL && opt == OPT_SENTINEL,
          (nn_optim_destroy(opt), nn_net_destroy(net)));
    SWEEP("nn_net_load_mem (no optimizer)", net = NET_SENTINEL, nn_net_load_mem(file, n, &a, &net, NULL),
          net == NET_SENTINEL, nn_net_destroy(net));

    /* plain C save path: round trip */
    {
        nn_net *m = NULL;
        nn_optim *mo = NULL;
        NN_CHECK(nn_net_load_mem(file, n, NULL, &m, &mo) == NN_OK, "load_mem");
        /* -std=c99 gives the plain C path; g++ (which defines _GNU_SOURCE) the POSIX one */
        printf("io path: %s\n", NN__POSIX_IO ? "posix (O_EXCL, fsync)" : "plain C");
        NN_CHECK(nn_net_save(m, mo, path) == NN_OK, "save %s (plain C path)", path);
        NN_CHECK(same_file(path, file, n), "saved file == save_mem bytes");
        nn_optim_destroy(mo);
        nn_net_destroy(m);
    }
    SWEEP("nn_net_load", (net = NET_SENTINEL, opt = OPT_SENTINEL), nn_net_load(path, &a, &net, &opt),
          net == NET_SENTINEL && opt == OPT_SENTINEL, (nn_optim_destroy(opt), nn_net_destroy(net)));

    /* save: its one allocation fails -> NN_ERR_NOMEM, file unchanged */
    {
        counter c = { 0, 0, 0, 0, 0 };
        nn_net *m = NULL;
        nn_status st;
        d.allocator = counting(&c);
        nn_net_create(&d, &m);
        c.fail_at = c.calls + 1;
        st = nn_net_save(m, NULL, path);
        NN_CHECK(st == NN_ERR_NOMEM, "save with a failing allocation: %s", nn_status_str(st));
        NN_CHECK(same_file(path, file, n), "failed save left the file");
        nn_net_destroy(m);
        NN_CHECK(c.live == 0, "save: %ld blocks leaked", c.live);
        d.allocator.alloc_fn = NULL;
        d.allocator.free_fn = NULL;
    }

    /* plain C save path: every file operation failing in turn leaves the old file */
    {
        nn_net *m = NULL;
        long k;
        int fails = 0;
        nn_net_create(&d, &m);
        for (k = 0; k < 50; k++) {
            nn_status st;
            nn__io_fail_after = k;
            st = nn_net_save(m, NULL, path);
            nn__io_fail_after = -1;
            if (st == NN_OK) break;
            fails++;
            NN_CHECK(st == NN_ERR_IO, "fault %ld: %s", k, nn_status_str(st));
            NN_CHECK(same_file(path, file, n), "fault %ld: old file changed", k);
        }
        NN_CHECK(fails >= 4, "plain C path: %d injected failures (open, write, flush, close, rename)", fails);
        NN_CHECK(!same_file(path, file, n), "the final save replaced the file");
        nn_net_destroy(m);
    }
    remove(path);
    nn_net_destroy(base);
    free(file);

    /* cross-validation: the report, the data copy, each fold's net, optimizer and fit */
    {
        static float cx[12 * 3];
        static int cl[12];
        nn_cv_report cv;
        nn_fit_desc fd;
        nn_net_desc cd = test_desc();
        int i;
        for (i = 0; i < 12 * 3; i++) cx[i] = (float)((i * 5) % 7) - 3.0f;
        for (i = 0; i < 12; i++) cl[i] = i % 2;
        memset(&fd, 0, sizeof fd);
        fd.epochs = 2;
        fd.batch = 4;
        fd.quiet = 1;
        SWEEP("nn_cross_validate", cd.allocator = a, nn_cross_validate(&cd, &od, &fd, cx, NULL, cl, 12, 3, 5, &cv),
              cv.folds == NULL && cv.k == 0, nn_cv_report_free(&cv));
    }
    /* gradient check: its one workspace; the gradients stay as they were */
    {
        counter c = { 0, 0, 0, 0, 0 };
        nn_net_desc gd = test_desc();
        nn_net *g = NULL;
        nn_gradcheck_result gr;
        const float gx[2 * 3] = { 0.5f, -1.0f, 0.25f, 1.0f, 0.0f, -0.5f };
        const int gl[2] = { 0, 1 };
        gd.allocator = counting(&c);
        if (nn_net_create(&gd, &g) == NN_OK) {
            size_t gn = 0;
            float *gg = nn_net_grads(g, &gn, NULL);
            gg[0] = 7.0f;
            c.fail_at = c.calls + 1;
            NN_CHECK(nn_net_gradcheck(g, gx, NULL, gl, 2, 0, 1, &gr) == NN_ERR_NOMEM && gr.checked == 0 &&
                     gg[0] == 7.0f, "nn_net_gradcheck with a failing allocation");
            c.fail_at = 0;
            NN_CHECK(nn_net_gradcheck(g, gx, NULL, gl, 2, 0, 1, &gr) == NN_OK && gr.checked > 0 && gg[0] == 7.0f,
                     "nn_net_gradcheck after it");
            nn_net_destroy(g);
        }
        NN_CHECK(c.live == 0, "nn_net_gradcheck: %ld blocks leaked", c.live);
    }
    check_steady_state();
    return nn_test_done();
}
