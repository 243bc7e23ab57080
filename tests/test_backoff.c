/* test_backoff.c - the contention back-off inside a step team (nn_simd.h >>threads,
   >>team), with the shipped stall threshold (test_threads switches the back-off off).

   A busy process runs on every CPU, so the contention probe sees another process
   wanting a CPU. Inside a step team, two jobs are held up by a worker that sleeps 3 ms
   (what a descheduled thread looks like to the master):
     - the first stall alone must not back off (a lone stall is not contention): the
       team stays;
     - the second must start a back-off and dismiss the team; the master then finishes
       the step alone, and a training step run there must give the 1-thread weights bit
       for bit, without handing a single job to the dismissed team;
     - the body's return value comes back, and the team is released.
   Then, with the busy processes gone and the back-off forgotten (nn_simd_set_threads),
   a training step must open a team again and still match 1 thread.
   Builds without OpenMP (or on systems without fork) have no back-off: the test says
   so and checks only that training runs. */
#if defined(__linux__)
#  define _POSIX_C_SOURCE 200809L /* fork, kill, waitpid, nanosleep */
#endif
/* small problems share work too (as in test_threads), so the small net below uses a
   step team */
#define NN__PAR_GEMM_FLOPS 2000.0
#define NN__PAR_EW_ELEMS 64.0
#define NN_IMPLEMENTATION
#include "nn.h"
#include "nn_test.h"

#include <stdint.h>
#if NN__TEAM && defined(__linux__)
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

/* A job whose last thread (not the master) sleeps: the master waits for it. */
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

typedef struct body_ctx {
    net_run *run;
    stall_job J;
    int size, on[3], threads_after;
    long jobs_step;
    nn_status st;
} body_ctx;

static int stalled_body(void *arg)
{
    body_ctx *B = (body_ctx *)arg;
    long j0;
    B->size = nn__threads_team();
    B->on[0] = nn__tm.on;
    nn__par_run(stall_fn, &B->J, 2); /* stall 1: one strike, the team stays */
    B->on[1] = nn__tm.on;
    nn__par_run(stall_fn, &B->J, 2); /* stall 2: back-off, the team is dismissed */
    B->on[2] = nn__tm.on;
    B->threads_after = nn__threads_team();
    j0 = nn__tm.jobs;
    B->st = step(B->run); /* the master alone (nn_train_step inside a region: no new team) */
    B->jobs_step = nn__tm.jobs - j0;
    return 23;
}

static void check_backoff(void)
{
    net_run ref, run;
    body_ctx B;
    long s0, s1, s2, j0;
    int r, t, busy;
    if (!make_run(&ref) || !make_run(&run)) {
        NN_CHECK(0, "network setup failed");
        return;
    }
    /* the 1-thread reference: three steps */
    nn_simd_set_threads(1);
    for (t = 0; t < 3; t++) NN_CHECK(step(&ref) == NN_OK, "reference step %d failed", t);

    /* step 1 as a normal 2-thread step team (nothing busy yet) */
    nn_simd_set_threads(2);
    j0 = nn__tm.jobs;
    NN_CHECK(step(&run) == NN_OK, "2-thread step 1 failed");
    NN_CHECK(nn__tm.jobs > j0, "2-thread step 1 ran no team job (a team must form here)");

    /* step 2 inside a team that two stalls dismiss, under contention */
    memset(&B, 0, sizeof B);
    B.run = &run;
    busy = busy_start();
    NN_CHECK(busy, "fork: %d of %d busy processes", nkids, omp_get_num_procs());
    nn_simd_set_threads(2); /* no strikes, no back-off */
    s0 = nn__par_stats[0];
    s1 = nn__par_stats[1];
    s2 = nn__par_stats[2];
    r = nn__team_exec(stalled_body, &B, 1);
    busy_stop();
    NN_CHECK(r == 23, "the body's result 23 came back as %d", r);
    NN_CHECK(B.size == 2, "the master saw a team of %d, not 2", B.size);
    NN_CHECK(B.on[0] == 1 && B.on[1] == 1, "one stall dismissed the team (on: %d %d)", B.on[0], B.on[1]);
    NN_CHECK(B.on[2] == 0, "two stalls under contention did not dismiss the team");
    NN_CHECK(B.threads_after == 1, "after the dismissal the master's calls get %d threads", B.threads_after);
    NN_CHECK(B.J.ran[0] == 2 && B.J.ran[1] == 2 && B.J.nts[0] == 2 && B.J.nts[1] == 2,
             "stall jobs: thread 0 ran %d (nt %d), thread 1 ran %d (nt %d), not 2 each with nt 2",
             B.J.ran[0], B.J.nts[0], B.J.ran[1], B.J.nts[1]);
    NN_CHECK(nn__par_stats[0] - s0 == 2, "%ld team calls were timed, not 2", nn__par_stats[0] - s0);
    NN_CHECK(nn__par_stats[1] - s1 == 2 && nn__par_stats[2] - s2 == 0,
             "stalls counted %ld, of them the host's %ld (want 2 and 0: the busy processes are "
             "contention)", nn__par_stats[1] - s1, nn__par_stats[2] - s2);
    NN_CHECK(nn__par_strikes == 2 && nn__par_backoff_until > 0.0,
             "no back-off after two stalls (strikes %d)", nn__par_strikes);
    NN_CHECK(B.st == NN_OK && B.jobs_step == 0,
             "the step after the dismissal: status %d, %ld jobs handed to the dismissed team",
             (int)B.st, B.jobs_step);
    NN_CHECK(!nn__tm.busy && !nn__tm.on && nn__team_role == 0, "the team was not released");

    /* step 3: back-off forgotten, nothing busy: a team again */
    nn_simd_set_threads(2);
    j0 = nn__tm.jobs;
    NN_CHECK(step(&run) == NN_OK, "2-thread step 3 failed");
    NN_CHECK(nn__tm.jobs > j0, "after the back-off was forgotten, step 3 ran no team job");
    NN_CHECK(same_params(&run, &ref), "three steps (a team, a dismissed team, a team) differ "
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
        if (omp_get_num_procs() < 2) nn__team_cpus = 2; /* a team of 2 on 1 CPU still runs */
        check_backoff();
        nn__team_cpus = 0;
        return nn_test_done();
    }
    printf("test_backoff: OMP_THREAD_LIMIT < 2, no team can form: only a training step runs\n");
#else
    printf("test_backoff: no OpenMP step teams in this build: only a training step runs\n");
#endif
    {
        net_run r;
        NN_CHECK(make_run(&r), "network setup failed");
        NN_CHECK(step(&r) == NN_OK, "training step failed");
        free_run(&r);
    }
    return nn_test_done();
}
