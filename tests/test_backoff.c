/* test_backoff.c - the contention guard (nn_simd.h >>threads), with the shipped stall
   threshold (test_threads switches the guard off).

   A busy process runs on every CPU, so the contention probe sees another process
   wanting a CPU. Two 2-thread regions are held up by a thread that sleeps 3 ms (what a
   descheduled thread looks like to the caller):
     - the first stall alone must not back off (a lone stall is not contention);
     - the second must: the kernels then run on the calling thread, and a training step
       run then must give the 1-thread weights bit for bit;
     - when the back-off period is over, 2-thread training resumes.
   Builds without OpenMP (or on systems without fork) have no guard: the test says so
   and checks only that training runs. */
#if defined(__linux__)
#  define _POSIX_C_SOURCE 200809L /* fork, kill, waitpid, nanosleep */
#endif
/* small problems share work too (as in test_threads), so the small net below runs on
   2 threads */
#define NN__PAR_GEMM_FLOPS 2000.0
#define NN__PAR_EW_ELEMS 64.0
#define NN_IMPLEMENTATION
#include "nn.h"
#include "nn_test.h"

#include <stdint.h>
#if defined(_OPENMP) && defined(__linux__)
#  define HAVE_BACKOFF_TEST 1
#  include <signal.h>
#  include <sys/types.h>
#  include <sys/wait.h>
#  include <time.h>
#  include <unistd.h>
#else
#  define HAVE_BACKOFF_TEST 0
#endif

#define IN 20
#define BATCH 16

typedef struct net_run {
    nn_net *net;
    nn_optim *opt;
} net_run;

static float xs[BATCH * IN];
static int labels[BATCH];

static int make_run(net_run *r)
{
    nn_net_desc d;
    nn_optim_desc od;
    memset(r, 0, sizeof *r);
    memset(&d, 0, sizeof d);
    d.n_inputs = IN;
    d.layers[0].units = 32;
    d.layers[1].units = 16;
    d.layers[2].units = 4;
    d.max_batch = BATCH;
    d.loss = NN_LOSS_SOFTMAX_CE;
    d.seed = 11;
    memset(&od, 0, sizeof od); /* Adam */
    return nn_net_create(&d, &r->net) == NN_OK && nn_optim_create(r->net, &od, &r->opt) == NN_OK;
}

static void free_run(net_run *r)
{
    nn_optim_destroy(r->opt);
    nn_net_destroy(r->net);
}

static nn_status step(net_run *r)
{
    float loss;
    return nn_train_step(r->net, r->opt, xs, NULL, labels, BATCH, &loss);
}

#if HAVE_BACKOFF_TEST
static int same_params(const net_run *a, const net_run *b)
{
    return a->net->n_params == b->net->n_params &&
           memcmp(a->net->params, b->net->params, a->net->n_params * sizeof(float)) == 0 &&
           memcmp(a->opt->s1, b->opt->s1, a->net->n_params * sizeof(float)) == 0 &&
           memcmp(a->opt->s2, b->opt->s2, a->net->n_params * sizeof(float)) == 0;
}

static pid_t kids[64];
static int nkids;

/* a busy-loop child process on every CPU; 1 if all started */
static int busy_start(void)
{
    struct timespec ts;
    const pid_t parent = getpid();
    int n = omp_get_num_procs(), i;
    if (n > 64) n = 64;
    nkids = 0;
    for (i = 0; i < n; i++) {
        pid_t p = fork();
        if (p == 0) { /* spins until killed, or until the test is gone (a crash) */
            volatile unsigned long spin = 0;
            for (;;)
                if ((++spin & 0xFFFFFu) == 0 && getppid() != parent) _exit(0);
        }
        if (p < 0) break;
        kids[nkids++] = p;
    }
    ts.tv_sec = 0;
    ts.tv_nsec = 30 * 1000 * 1000; /* the children are running */
    nanosleep(&ts, NULL);
    return nkids == n;
}

static void busy_stop(void)
{
    int i;
    for (i = 0; i < nkids; i++) {
        kill(kids[i], SIGKILL);
        waitpid(kids[i], NULL, 0);
    }
    nkids = 0;
}

/* A region whose last thread (not the caller's) sleeps: the caller waits for it. */
typedef struct stall_job {
    int ran[8], nts[8];
} stall_job;

static void stall_fn(void *ctx, int tid, int nt)
{
    stall_job *J = (stall_job *)ctx;
    J->ran[tid]++;
    J->nts[tid] = nt;
    if (tid > 0 && tid == nt - 1) {
        struct timespec ts;
        ts.tv_sec = 0;
        ts.tv_nsec = 3 * 1000 * 1000;
        nanosleep(&ts, NULL);
    }
}

static void check_backoff(void)
{
    net_run ref, run;
    stall_job J;
    int t, busy, after1, after2;
    if (!make_run(&ref) || !make_run(&run)) {
        NN_CHECK(0, "network setup failed");
        return;
    }
    /* the 1-thread reference: three steps */
    nn_simd_set_threads(1);
    for (t = 0; t < 3; t++) NN_CHECK(step(&ref) == NN_OK, "reference step %d failed", t);

    /* step 1 on 2 threads, nothing busy */
    nn_simd_set_threads(2);
    NN_CHECK(nn__threads_max() == 2, "2 threads set, %d available", nn__threads_max());
    NN_CHECK(step(&run) == NN_OK, "2-thread step 1 failed");

    /* two stalled regions under contention: the first alone must not back off, the
       second must */
    memset(&J, 0, sizeof J);
    busy = busy_start();
    NN_CHECK(busy, "fork: %d of %d busy processes", nkids, omp_get_num_procs());
    nn__guard.strikes = nn__guard.clean = 0; /* no strikes, no back-off */
    nn__guard.until = 0.0;
    nn__par_run(stall_fn, &J, 2);
    after1 = nn__threads_max();
    nn__par_run(stall_fn, &J, 2);
    after2 = nn__threads_max();
    busy_stop();
    NN_CHECK(J.ran[0] == 2 && J.ran[1] == 2 && J.nts[0] == 2 && J.nts[1] == 2,
             "stalled regions: thread 0 ran %d (nt %d), thread 1 ran %d (nt %d), not 2 each with nt 2",
             J.ran[0], J.nts[0], J.ran[1], J.nts[1]);
    NN_CHECK(after1 == 2, "one stall backed off (%d threads after it)", after1);
    NN_CHECK(after2 == 1, "two stalls under contention did not back off (%d threads after them)", after2);
    NN_CHECK(nn__guard.strikes == 2 && nn__guard.until > 0.0, "guard state after two stalls: "
             "strikes %d, until %g", nn__guard.strikes, nn__guard.until);

    /* step 2 during the back-off: on one thread, the 1-thread weights */
    NN_CHECK(step(&run) == NN_OK, "step 2 during the back-off failed");

    /* step 3: the back-off (10 ms after two strikes) over, nothing busy: 2 threads again */
    {
        struct timespec ts;
        ts.tv_sec = 0;
        ts.tv_nsec = 30 * 1000 * 1000;
        nanosleep(&ts, NULL);
    }
    NN_CHECK(nn__threads_max() == 2, "after the back-off ended: %d threads", nn__threads_max());
    NN_CHECK(step(&run) == NN_OK, "2-thread step 3 failed");
    NN_CHECK(same_params(&run, &ref), "three steps (2 threads, a back-off, 2 threads) differ "
                                      "from three 1-thread steps");
    nn_simd_set_threads(0);
    free_run(&ref);
    free_run(&run);
}
#endif

int main(void)
{
    nn_test_begin("test_backoff");
    if (nn_simd_init() != NN_OK) { printf("bad NN_BACKEND\n"); return 1; }
    {
        int i;
        uint32_t s = 7;
        for (i = 0; i < BATCH * IN; i++) {
            s = s * 1664525u + 1013904223u;
            xs[i] = (float)(s >> 8) / 16777216.0f - 0.5f;
        }
        for (i = 0; i < BATCH; i++) labels[i] = (i * 3) % 4;
    }
#if HAVE_BACKOFF_TEST
    if (omp_get_thread_limit() >= 2) {
        check_backoff();
        return nn_test_done();
    }
    printf("test_backoff: OMP_THREAD_LIMIT < 2, no region of 2 can form: only a training step runs\n");
#else
    printf("test_backoff: no OpenMP in this build, so no back-off: only a training step runs\n");
#endif
    {
        net_run r;
        NN_CHECK(make_run(&r), "network setup failed");
        NN_CHECK(step(&r) == NN_OK, "training step failed");
        free_run(&r);
    }
    return nn_test_done();
}
