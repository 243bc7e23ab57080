/* test_mpi.c - nn_mpi.h under mpirun -np 1, 2 and 4 (make test-mpi):
   - every rank holds the same weights after every epoch (and every step: one step per
     epoch in the first case), with dropout, L2 and clipping on;
   - reproducible mode: the final weights equal, bit for bit, those of nn_fit with the
     same micro_shards in one process, which this program computes itself;
   - default mode: within float tolerance of one-process nn_fit, same accuracy;
   - an error on one rank (a bad label) is returned by every rank; a NaN in one rank's
     shard makes every rank refuse the same steps;
   - a shard-only data load trains and keeps the ranks identical;
   - nn_mpi_sync: rank 0's weights win; differing optimizer states are refused;
   - a checkpoint written by `-np 1` (MPI_CKPT, first run) resumes on 2 and 4 ranks to
     the same bits as on one. */
#define NN_IMPLEMENTATION
#include "nn.h"
#include "nn_mpi.h"
#include "nn_test.h"

#include <math.h>
#include <stdio.h>

enum { N = 600, D = 12, C = 3 };
static float X[N * D];
static int LAB[N];
static int rank_, size_;

/* three Gaussian blobs in D dimensions, deterministic */
static void make_data(void)
{
    nn_rng r;
    int i, j;
    nn_rng_seed(&r, 42);
    for (i = 0; i < N; i++) {
        LAB[i] = i % C;
        for (j = 0; j < D; j++)
            X[i * D + j] = nn_rng_normal(&r) * 0.7f + (j % C == LAB[i] ? 1.5f : 0.0f);
    }
}

static nn_net *make_net(int max_batch, float drop, uint64_t seed)
{
    nn_net_desc d;
    nn_net *net = NULL;
    memset(&d, 0, sizeof d);
    d.n_inputs = D;
    d.layers[0].units = 24; d.layers[0].act = NN_ACT_RELU; d.layers[0].dropout = drop;
    d.layers[1].units = 16; d.layers[1].act = NN_ACT_TANH;
    d.layers[2].units = C;  d.layers[2].act = NN_ACT_SOFTMAX;
    d.max_batch = max_batch;
    d.seed = seed;
    d.l2 = 1e-4f;
    if (nn_net_create(&d, &net) != NN_OK) { fprintf(stderr, "net\n"); MPI_Abort(MPI_COMM_WORLD, 2); }
    return net;
}

static nn_optim *make_opt(const nn_net *net)
{
    nn_optim_desc od;
    nn_optim *opt = NULL;
    memset(&od, 0, sizeof od);
    od.kind = NN_OPTIM_ADAM;
    od.lr = 0.01f;
    if (nn_optim_create(net, &od, &opt) != NN_OK) { fprintf(stderr, "opt\n"); MPI_Abort(MPI_COMM_WORLD, 2); }
    return opt;
}

static uint64_t params_hash(nn_net *net)
{
    size_t n, i;
    const float *p = nn_net_params(net, &n, NULL);
    uint64_t h = 0xcbf29ce484222325ull;
    for (i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &p[i], 4);
        h = (h ^ u) * 0x100000001b3ull;
    }
    return h;
}

/* 1 if every rank has the same hash */
static int same_on_all(uint64_t h)
{
    unsigned long long lo, hi, v = h;
    MPI_Allreduce(&v, &lo, 1, MPI_UNSIGNED_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&v, &hi, 1, MPI_UNSIGNED_LONG_LONG, MPI_MAX, MPI_COMM_WORLD);
    return lo == hi;
}

typedef struct { nn_net *net; int epochs, differ; } epoch_ck;
static int on_epoch(const nn_epoch_stats *s, void *user)
{
    epoch_ck *k = (epoch_ck *)user;
    (void)s;
    k->epochs++;
    if (!same_on_all(params_hash(k->net))) k->differ++;
    return 0;
}

static void test_identical_every_step(void)
{
    nn_net *net = make_net(N, 0.2f, 5);
    nn_optim *opt = make_opt(net);
    nn_fit_desc fd;
    nn_mpi_desc md;
    nn_fit_report rep;
    epoch_ck k;
    nn_status st;
    int pass;
    for (pass = 0; pass < 2; pass++) { /* one step per epoch, then batches of 40 */
        memset(&fd, 0, sizeof fd);
        memset(&md, 0, sizeof md);
        memset(&k, 0, sizeof k);
        k.net = net;
        fd.epochs = 4; fd.quiet = 1; fd.clip_norm = 1.0f;
        fd.on_epoch = on_epoch; fd.user = &k;
        fd.val_fraction = 0.2f; fd.batch = pass ? 40 : N - N / 5;
        st = nn_mpi_fit(MPI_COMM_WORLD, net, opt, X, NULL, LAB, N, &fd, &md, &rep);
        NN_CHECK(st == NN_OK, "rank %d pass %d: nn_mpi_fit %s", rank_, pass, nn_status_str(st));
        NN_CHECK(k.epochs == 4 && k.differ == 0, "rank %d pass %d: %d of %d epochs differ", rank_,
                 pass, k.differ, k.epochs);
        NN_CHECK(rep.epochs_run == 4 && rep.history && same_on_all((uint64_t)(rep.history[3].val_loss * 1e6f)),
                 "rank %d: report differs across ranks", rank_);
        nn_fit_report_free(&rep);
    }
    nn_optim_destroy(opt);
    nn_net_destroy(net);
}

/* reproducible mode against one-process nn_fit with the same micro_shards */
static void test_reproducible(void)
{
    nn_net *a = make_net(32, 0.25f, 9), *b = make_net(32, 0.25f, 9);
    nn_optim *oa = make_opt(a), *ob = make_opt(b);
    nn_fit_desc fd;
    nn_mpi_desc md;
    nn_status sa, sb;
    memset(&fd, 0, sizeof fd);
    memset(&md, 0, sizeof md);
    fd.epochs = 3; fd.batch = 96; fd.quiet = 1; fd.clip_norm = 2.0f; fd.val_fraction = 0.1f;
    fd.patience = 5;
    md.reproducible = 1; md.micro_shards = 4;
    sa = nn_mpi_fit(MPI_COMM_WORLD, a, oa, X, NULL, LAB, N, &fd, &md, NULL);
    fd.micro_shards = 4;
    sb = nn_fit(b, ob, X, NULL, LAB, N, &fd, NULL);
    NN_CHECK(sa == NN_OK && sb == NN_OK, "reproducible: %s / %s", nn_status_str(sa), nn_status_str(sb));
    NN_CHECK(params_hash(a) == params_hash(b), "rank %d of %d: reproducible weights differ from one process",
             rank_, size_);
    NN_CHECK(same_on_all(params_hash(a)), "reproducible: ranks differ");
    nn_optim_destroy(oa); nn_optim_destroy(ob);
    nn_net_destroy(a); nn_net_destroy(b);
}

/* default mode: close to one process, same accuracy */
static void test_close_to_one_process(void)
{
    nn_net *a = make_net(64, 0.0f, 11), *b = make_net(64, 0.0f, 11);
    nn_optim *oa = make_opt(a), *ob = make_opt(b);
    nn_fit_desc fd;
    nn_mpi_desc md;
    float acc_a = 0, acc_b = 0, worst = 0;
    size_t n, i;
    const float *pa, *pb;
    memset(&fd, 0, sizeof fd);
    memset(&md, 0, sizeof md);
    fd.epochs = 3; fd.batch = 64; fd.quiet = 1;
    NN_CHECK(nn_mpi_fit(MPI_COMM_WORLD, a, oa, X, NULL, LAB, N, &fd, &md, NULL) == NN_OK, "default mode");
    NN_CHECK(nn_fit(b, ob, X, NULL, LAB, N, &fd, NULL) == NN_OK, "one process");
    pa = nn_net_params(a, &n, NULL);
    pb = nn_net_params(b, NULL, NULL);
    for (i = 0; i < n; i++) {
        float d = fabsf(pa[i] - pb[i]) / (fabsf(pb[i]) + 1e-2f);
        if (d > worst) worst = d;
    }
    nn_net_accuracy(a, X, LAB, N, &acc_a);
    nn_net_accuracy(b, X, LAB, N, &acc_b);
    NN_CHECK(worst < 1e-3f, "rank %d of %d: weights %.3g from one process", rank_, size_, (double)worst);
    NN_CHECK(fabsf(acc_a - acc_b) <= 0.01f && acc_a > 0.8f, "accuracy %.3f vs %.3f", (double)acc_a,
             (double)acc_b);
    NN_CHECK(same_on_all(params_hash(a)), "default mode: ranks differ");
    nn_optim_destroy(oa); nn_optim_destroy(ob);
    nn_net_destroy(a); nn_net_destroy(b);
}

/* a bad label on the last rank only, then a NaN in the last rank's shard */
static void test_errors(void)
{
    static int lab[N];
    static float x[N * D];
    nn_net *net = make_net(N, 0.0f, 3);
    nn_optim *opt = make_opt(net);
    nn_fit_desc fd;
    nn_mpi_desc md;
    nn_fit_report rep;
    nn_status st;
    const int lo = N * rank_ / size_, hi = N * (rank_ + 1) / size_;
    memcpy(lab, LAB, sizeof lab);
    if (rank_ == size_ - 1) lab[7] = C; /* out of range */
    memset(&fd, 0, sizeof fd);
    memset(&md, 0, sizeof md);
    fd.epochs = 2; fd.batch = 60; fd.quiet = 1;
    st = nn_mpi_fit(MPI_COMM_WORLD, net, opt, X, NULL, lab, N, &fd, &md, &rep);
    NN_CHECK(st == NN_ERR_INVALID, "rank %d: bad label on rank %d gave %s", rank_, size_ - 1,
             nn_status_str(st));
    NN_CHECK(rep.history == NULL, "report filled on error");
    nn_fit_report_free(&rep);
    /* sharded, NaN in one sample of the last rank's shard: the steps that draw it are
       refused everywhere, the weights stay the same on every rank */
    memcpy(x, X, sizeof x);
    if (rank_ == size_ - 1) x[(hi - 1) * D] = NAN;
    md.sharded = 1;
    fd.batch = 20 * size_; fd.epochs = 3; fd.max_bad_steps = 1000;
    st = nn_mpi_fit(MPI_COMM_WORLD, net, opt, x + (size_t)lo * D, NULL, LAB + lo, hi - lo, &fd, &md, &rep);
    NN_CHECK(st == NN_OK && rep.epochs_run == 3, "rank %d: NaN shard: %s", rank_, nn_status_str(st));
    if (rep.history) {
        int e, skipped = 0;
        for (e = 0; e < 3; e++) skipped += rep.history[e].skipped_steps;
        NN_CHECK(skipped >= 1 && same_on_all((uint64_t)skipped), "rank %d: %d steps skipped", rank_, skipped);
    }
    NN_CHECK(same_on_all(params_hash(net)), "NaN shard: ranks differ");
    nn_fit_report_free(&rep);
    nn_optim_destroy(opt);
    nn_net_destroy(net);
}

/* each rank holds only its shard */
static void test_sharded(void)
{
    nn_net *net = make_net(64, 0.1f, 21);
    nn_optim *opt = make_opt(net);
    nn_fit_desc fd;
    nn_mpi_desc md;
    float acc = 0;
    const int lo = N * rank_ / size_, hi = N * (rank_ + 1) / size_;
    memset(&fd, 0, sizeof fd);
    memset(&md, 0, sizeof md);
    md.sharded = 1;
    fd.epochs = 8; fd.batch = 16 * size_; fd.quiet = 1; fd.val_fraction = 0.1f;
    NN_CHECK(nn_mpi_fit(MPI_COMM_WORLD, net, opt, X + (size_t)lo * D, NULL, LAB + lo, hi - lo, &fd,
                        &md, NULL) == NN_OK, "sharded fit");
    NN_CHECK(same_on_all(params_hash(net)), "sharded: ranks differ");
    nn_net_accuracy(net, X, LAB, N, &acc);
    NN_CHECK(acc > 0.8f, "sharded: accuracy %.3f", (double)acc);
    md.reproducible = 1; /* with shards: refused on every rank */
    NN_CHECK(nn_mpi_fit(MPI_COMM_WORLD, net, opt, X + (size_t)lo * D, NULL, LAB + lo, hi - lo, &fd,
                        &md, NULL) == NN_ERR_INVALID, "sharded + reproducible accepted");
    nn_optim_destroy(opt);
    nn_net_destroy(net);
}

static void test_sync(void)
{
    nn_net *net = make_net(8, 0.0f, 100);
    nn_optim *opt = make_opt(net);
    uint64_t h0;
    if (rank_ > 0) nn_net_params(net, NULL, NULL)[3] += (float)rank_; /* rank 0's must win */
    NN_CHECK(nn_mpi_sync(MPI_COMM_WORLD, net, opt) == NN_OK, "sync");
    h0 = params_hash(net);
    NN_CHECK(same_on_all(h0), "sync: weights differ");
    if (size_ > 1) { /* one rank's optimizer a step ahead */
        static float x1[D];
        int l1 = 0;
        if (rank_ == 1) nn_train_step(net, opt, x1, NULL, &l1, 1, NULL);
        NN_CHECK(nn_mpi_sync(MPI_COMM_WORLD, net, opt) == NN_ERR_SHAPE,
                 "rank %d: differing optimizer states accepted", rank_);
    }
    nn_optim_destroy(opt);
    nn_net_destroy(net);
}

/* MPI_CKPT: with -np 1 write the checkpoint and the resumed result; otherwise resume it
   and compare */
static void test_resume(const char *ckpt)
{
    char ref_path[512];
    nn_net *net = NULL;
    nn_optim *opt = NULL;
    nn_fit_desc fd;
    nn_mpi_desc md;
    nn_status st;
    memset(&fd, 0, sizeof fd);
    memset(&md, 0, sizeof md);
    fd.epochs = 2; fd.batch = 64; fd.quiet = 1;
    md.reproducible = 1; md.micro_shards = 4;
    snprintf(ref_path, sizeof ref_path, "%s.ref", ckpt);
    if (size_ == 1) {
        nn_net *a = make_net(16, 0.2f, 77);
        nn_optim *oa = make_opt(a);
        FILE *f;
        NN_CHECK(nn_mpi_fit(MPI_COMM_WORLD, a, oa, X, NULL, LAB, N, &fd, &md, NULL) == NN_OK, "pre-train");
        NN_CHECK(nn_mpi_save(MPI_COMM_WORLD, a, oa, ckpt) == NN_OK, "save %s", ckpt);
        nn_optim_destroy(oa);
        nn_net_destroy(a);
        NN_CHECK(nn_net_load(ckpt, NULL, &net, &opt) == NN_OK && opt, "load");
        NN_CHECK(nn_mpi_fit(MPI_COMM_WORLD, net, opt, X, NULL, LAB, N, &fd, &md, NULL) == NN_OK, "resume");
        f = fopen(ref_path, "w");
        if (f) { fprintf(f, "%llx\n", (unsigned long long)params_hash(net)); fclose(f); }
    } else {
        unsigned long long want = 0;
        FILE *f = fopen(ref_path, "r");
        int have = f && fscanf(f, "%llx", &want) == 1;
        if (f) fclose(f);
        st = nn_net_load(ckpt, NULL, &net, &opt);
        if (!have || st != NN_OK || !opt) {
            NN_CHECK(0, "rank %d: no checkpoint from the -np 1 run (%s): run it first", rank_, ckpt);
        } else {
            st = nn_mpi_fit(MPI_COMM_WORLD, net, opt, X, NULL, LAB, N, &fd, &md, NULL);
            NN_CHECK(st == NN_OK && params_hash(net) == want,
                     "rank %d of %d: resumed checkpoint differs from one process", rank_, size_);
        }
    }
    /* the save's status is rank 0's on every rank */
    NN_CHECK(nn_mpi_save(MPI_COMM_WORLD, net, opt, "/nonexistent-dir/x.nn") == NN_ERR_IO,
             "rank %d: failed save not reported", rank_);
    nn_optim_destroy(opt);
    nn_net_destroy(net);
}

int main(int argc, char **argv)
{
    const char *ckpt = getenv("MPI_CKPT");
    int rc, all = 0, mine;
    MPI_Init(&argc, &argv);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    nn_test_begin("mpi");
    if (nn_simd_init() != NN_OK) MPI_Abort(MPI_COMM_WORLD, 2);
    make_data();
    test_sync();
    test_identical_every_step();
    test_reproducible();
    test_close_to_one_process();
    test_errors();
    test_sharded();
    if (ckpt) test_resume(ckpt);
    mine = nn_test_fail_count > 0;
    MPI_Allreduce(&mine, &all, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    if (rank_ == 0) {
        printf("(%d ranks) ", size_);
        rc = nn_test_done();
        if (all && !rc) rc = 1;
    } else {
        rc = all ? 1 : 0;
    }
    MPI_Finalize();
    return rc;
}
