/* nn_mpi.h - data-parallel training of an nn.h network over MPI.

   Optional: nn.h and nn_simd.h never include this file. It needs <mpi.h> (Open MPI,
   MPICH, ...) and nn.h; define NN_IMPLEMENTATION (for nn.h) in one file as usual, and
   include nn_mpi.h after nn.h there or anywhere. The caller initializes MPI; any
   communicator works, not only MPI_COMM_WORLD.

     mpicc -O2 -fopenmp train.c -o train -lm      mpirun -np 4 ./train

   nn_mpi_fit is nn_fit run by every rank of a communicator together:
   - It starts from rank 0's weights (broadcast) and checks that every rank holds the
     same optimizer state, step count and dropout state (a model file loaded on every
     rank, or a fresh optimizer, is); otherwise every rank returns NN_ERR_SHAPE.
   - Every epoch every rank draws the same permutation from fit->seed; batch i is the
     same fit->batch samples on every rank, and rank r computes rows
     [batch r / P, batch (r + 1) / P) of it (P ranks: the batch is global, split as
     evenly as possible; each rank's share must fit the net's max_batch).
   - The gradient of the whole batch is summed with one MPI_Allreduce on the flat
     gradient buffer, so every rank applies the same step: the weights stay identical
     on all ranks. Losses, accuracies and validation are summed over the ranks too, so
     all ranks stop at the same epoch; a non-finite step is refused on all of them.
   - Dropout masks depend on (seed, epoch, sample index), not on the rank.
   - An error on one rank (bad input, no memory) is returned by every rank.
   sharded = 1: each rank passes only its own shard of the data (and of the validation
   set). Each epoch every rank shuffles its shard and takes its share of every batch
   from it, for as many full batches as the smallest shard allows.
   reproducible = 1: every batch is cut into micro_shards fixed parts (rows
   [batch s / S, batch (s + 1) / S)); each part's gradient is computed whole by one
   rank, the parts are exchanged (MPI_Allgatherv) and summed in one fixed binary tree
   on every rank. The final weights are then bit-identical for any number of ranks
   (and threads), and equal to nn_fit's with the same micro_shards in one process.
   Its cost: S smaller backward passes per batch instead of P, and S gradients on the
   network per step instead of one (S / P times the all-reduce's traffic, roughly).
   Without it, runs on different P agree to float rounding.

   Only rank 0 should write model files: nn_mpi_save does that and returns rank 0's
   status on every rank. A saved model resumes on any number of ranks.

   MPI errors are returned as NN_ERR_COMM (the calls here use a duplicate of the
   communicator with MPI_ERRORS_RETURN); a rank that dies still hangs the others, as
   in any MPI program. Thread safety: one nn_mpi_fit at a time per communicator. */
#ifndef NN_MPI_H
#define NN_MPI_H

#include <mpi.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "nn.h"

/* every definition here is static: a program may use any subset of them */
#ifndef NN_MPI_DEF
#  if defined(__GNUC__) || defined(__clang__)
#    define NN_MPI_DEF static __attribute__((unused))
#  else
#    define NN_MPI_DEF static
#  endif
#endif

typedef struct nn_mpi_desc {
    int sharded;        /* 0: every rank passes all the data; 1: each its own shard */
    int reproducible;   /* 1: the same final bits for any number of ranks */
    int micro_shards;   /* reproducible: parts per batch, 0 -> 8; use a multiple of the
                           rank counts you will run on, each part <= max_batch rows */
} nn_mpi_desc;

/* nn_fit over the ranks of comm (see above). Collective: every rank calls it with the
   same fit and mpi descs; report as nn_fit's, the same on every rank. */
NN_MPI_DEF nn_status nn_mpi_fit(MPI_Comm comm, nn_net *net, nn_optim *opt, const float *x,
                                const float *y, const int *labels, int n,
                                const nn_fit_desc *fit, const nn_mpi_desc *mpi,
                                nn_fit_report *report);
/* Rank 0's weights to every rank, then the check that every rank's whole model (layout,
   weights, optimizer state and step count, dropout state; opt may be NULL on all ranks)
   is the same: NN_ERR_SHAPE on every rank otherwise. Collective. */
NN_MPI_DEF nn_status nn_mpi_sync(MPI_Comm comm, nn_net *net, const nn_optim *opt);
/* Rank 0 saves (nn_net_save); every rank returns rank 0's status. Collective. */
NN_MPI_DEF nn_status nn_mpi_save(MPI_Comm comm, const nn_net *net, const nn_optim *opt,
                                 const char *path);

/* >>implementation ---------------------------------------------------------- */
typedef struct nn__mpi_ctx {
    MPI_Comm comm;
    int size;
    int *counts, *displs;      /* gather_floats: blocks per rank and their offsets */
    MPI_Datatype block_type;   /* `block` floats, made on first use */
    size_t block;
} nn__mpi_ctx;

/* In-place sums in pieces of at most INT_MAX elements. */
static int nn__mpi_sum(nn__mpi_ctx *c, void *buf, size_t n, MPI_Datatype t, size_t esize)
{
    char *p = (char *)buf;
    while (n > 0) {
        const int m = n > (size_t)INT_MAX ? INT_MAX : (int)n;
        if (MPI_Allreduce(MPI_IN_PLACE, p, m, t, MPI_SUM, c->comm) != MPI_SUCCESS) return 1;
        p += (size_t)m * esize;
        n -= (size_t)m;
    }
    return 0;
}

static int nn__mpi_sum_floats(float *buf, size_t n, void *ctx)
{
    return nn__mpi_sum((nn__mpi_ctx *)ctx, buf, n, MPI_FLOAT, sizeof(float));
}

static int nn__mpi_sum_doubles(double *buf, size_t n, void *ctx)
{
    return nn__mpi_sum((nn__mpi_ctx *)ctx, buf, n, MPI_DOUBLE, sizeof(double));
}

static int nn__mpi_gather_floats(float *buf, size_t block, int count, void *ctx)
{
    nn__mpi_ctx *c = (nn__mpi_ctx *)ctx;
    int p;
    if (block > (size_t)INT_MAX) return 1;
    if (c->block != block) {
        if (c->block_type != MPI_DATATYPE_NULL) MPI_Type_free(&c->block_type);
        c->block_type = MPI_DATATYPE_NULL;
        if (MPI_Type_contiguous((int)block, MPI_FLOAT, &c->block_type) != MPI_SUCCESS ||
            MPI_Type_commit(&c->block_type) != MPI_SUCCESS)
            return 1;
        c->block = block;
    }
    for (p = 0; p < c->size; p++) {
        c->displs[p] = (int)((long long)count * p / c->size);
        c->counts[p] = (int)((long long)count * (p + 1) / c->size) - c->displs[p];
    }
    return MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_DATATYPE_NULL, buf, c->counts, c->displs,
                          c->block_type, c->comm) != MPI_SUCCESS;
}

/* FNV-1a over the model's bytes: equal models give equal values. */
static uint64_t nn__mpi_hash(const unsigned char *p, size_t n)
{
    uint64_t h = 0xcbf29ce484222325ull;
    size_t i;
    for (i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull;
    return h;
}

/* NN_OK if every rank has it, else the lowest failing rank's status, on every rank. */
static nn_status nn__mpi_agree(MPI_Comm comm, nn_status st)
{
    int rank = 0, mine, first = INT_MAX, code = (int)st;
    if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS) return NN_ERR_COMM;
    mine = st == NN_OK ? INT_MAX : rank;
    if (MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm) != MPI_SUCCESS) return NN_ERR_COMM;
    if (first == INT_MAX) return NN_OK;
    if (MPI_Bcast(&code, 1, MPI_INT, first, comm) != MPI_SUCCESS) return NN_ERR_COMM;
    return (nn_status)code;
}

NN_MPI_DEF nn_status nn_mpi_sync(MPI_Comm comm, nn_net *net, const nn_optim *opt)
{
    unsigned long long mine[2], lo[2], hi[2];
    nn_status st = NN_OK;
    size_t count = 0, bytes = 0, sent;
    unsigned char *buf = NULL;
    float *w;
    if (!net) return NN_ERR_INVALID;
    w = nn_net_params(net, &count, NULL);
    /* the same layout everywhere before anything is broadcast into it */
    mine[0] = count;
    mine[1] = ~(unsigned long long)count;
    if (MPI_Allreduce(mine, lo, 2, MPI_UNSIGNED_LONG_LONG, MPI_MIN, comm) != MPI_SUCCESS)
        return NN_ERR_COMM;
    if (lo[0] != count || ~lo[1] != count) return NN_ERR_SHAPE; /* min == max on every rank */
    for (sent = 0; sent < count; sent += (size_t)INT_MAX) {
        const size_t m = count - sent < (size_t)INT_MAX ? count - sent : (size_t)INT_MAX;
        if (MPI_Bcast(w + sent, (int)m, MPI_FLOAT, 0, comm) != MPI_SUCCESS) return NN_ERR_COMM;
    }
    /* then the whole model, optimizer state included, compared through a hash */
    st = nn_net_save_mem(net, opt, NULL, 0, &bytes);
    if (st == NN_OK && !(buf = (unsigned char *)malloc(bytes))) st = NN_ERR_NOMEM;
    if (st == NN_OK) st = nn_net_save_mem(net, opt, buf, bytes, &bytes);
    mine[0] = st == NN_OK ? nn__mpi_hash(buf, bytes) : 0;
    mine[1] = mine[0];
    free(buf);
    if ((st = nn__mpi_agree(comm, st)) != NN_OK) return st;
    if (MPI_Allreduce(mine, lo, 2, MPI_UNSIGNED_LONG_LONG, MPI_MIN, comm) != MPI_SUCCESS ||
        MPI_Allreduce(mine, hi, 2, MPI_UNSIGNED_LONG_LONG, MPI_MAX, comm) != MPI_SUCCESS)
        return NN_ERR_COMM;
    return lo[0] == hi[0] ? NN_OK : NN_ERR_SHAPE;
}

NN_MPI_DEF nn_status nn_mpi_save(MPI_Comm comm, const nn_net *net, const nn_optim *opt,
                                 const char *path)
{
    int rank = 0, st = NN_OK;
    if (MPI_Comm_rank(comm, &rank) != MPI_SUCCESS) return NN_ERR_COMM;
    if (rank == 0) st = (int)nn_net_save(net, opt, path);
    if (MPI_Bcast(&st, 1, MPI_INT, 0, comm) != MPI_SUCCESS) return NN_ERR_COMM;
    return (nn_status)st;
}

NN_MPI_DEF nn_status nn_mpi_fit(MPI_Comm comm, nn_net *net, nn_optim *opt, const float *x,
                                const float *y, const int *labels, int n,
                                const nn_fit_desc *fit, const nn_mpi_desc *mpi,
                                nn_fit_report *report)
{
    nn__mpi_ctx c;
    nn_fit_comm fc;
    nn_fit_desc d;
    nn_status st = NN_OK;
    int rank = 0;
    if (report) memset(report, 0, sizeof *report);
    if (!fit || !mpi) return NN_ERR_INVALID;
    memset(&c, 0, sizeof c);
    c.block_type = MPI_DATATYPE_NULL;
    if (MPI_Comm_dup(comm, &c.comm) != MPI_SUCCESS) return NN_ERR_COMM;
    MPI_Comm_set_errhandler(c.comm, MPI_ERRORS_RETURN);
    MPI_Comm_size(c.comm, &c.size);
    MPI_Comm_rank(c.comm, &rank);
    c.counts = (int *)malloc(sizeof(int) * (size_t)c.size);
    c.displs = (int *)malloc(sizeof(int) * (size_t)c.size);
    if (!c.counts || !c.displs) st = NN_ERR_NOMEM;
    if (st == NN_OK && (mpi->sharded < 0 || mpi->sharded > 1 || mpi->reproducible < 0 ||
                        mpi->reproducible > 1 || mpi->micro_shards < 0 ||
                        (mpi->sharded && mpi->reproducible)))
        st = NN_ERR_INVALID;
    if ((st = nn__mpi_agree(c.comm, st)) == NN_OK) st = nn_mpi_sync(c.comm, net, opt);
    if (st == NN_OK) {
        memset(&fc, 0, sizeof fc);
        fc.rank = rank;
        fc.size = c.size;
        fc.sharded = mpi->sharded;
        fc.sum_floats = nn__mpi_sum_floats;
        fc.sum_doubles = nn__mpi_sum_doubles;
        fc.gather_floats = nn__mpi_gather_floats;
        fc.ctx = &c;
        d = *fit;
        d.comm = &fc;
        d.micro_shards = mpi->reproducible ? (mpi->micro_shards ? mpi->micro_shards : 8) : 0;
        if (rank != 0) d.quiet = 1;
        st = nn_fit(net, opt, x, y, labels, n, &d, report);
    }
    if (c.block_type != MPI_DATATYPE_NULL) MPI_Type_free(&c.block_type);
    MPI_Comm_free(&c.comm);
    free(c.counts);
    free(c.displs);
    return st;
}

#endif /* NN_MPI_H */
