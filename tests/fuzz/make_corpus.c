/* make_corpus.c - writes the fuzzing seed corpus: valid model files of several shapes,
   with and without optimizer state, and a few broken ones (one per kind of damage).
   Usage: make_corpus DIR   (the committed files are in tests/fuzz/corpus/) */
#define NN_IMPLEMENTATION
#include "nn.h"
#include <stdio.h>
#include <stdlib.h>

static int write_file(const char *dir, const char *name, const unsigned char *p, size_t n)
{
    char path[1024];
    FILE *f;
    sprintf(path, "%.900s/%.100s", dir, name);
    f = fopen(path, "wb");
    if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
        fprintf(stderr, "make_corpus: cannot write %s\n", path);
        return 1;
    }
    return 0;
}

static unsigned char *model(int n_in, const int *units, const nn_act *acts, int L, float dropout,
                            nn_optim_kind kind, int steps, size_t *n)
{
    nn_net_desc d;
    nn_optim_desc od;
    nn_net *net = NULL;
    nn_optim *opt = NULL;
    unsigned char *buf = NULL;
    int l, s;
    memset(&d, 0, sizeof d);
    memset(&od, 0, sizeof od);
    d.n_inputs = n_in;
    d.max_batch = 4;
    for (l = 0; l < L; l++) {
        d.layers[l].units = units[l];
        d.layers[l].act = acts[l];
        if (l < L - 1) d.layers[l].dropout = dropout;
    }
    od.kind = kind;
    if (nn_net_create(&d, &net) != NN_OK) return NULL;
    if (kind && nn_optim_create(net, &od, &opt) != NN_OK) return NULL;
    for (s = 0; s < steps && opt; s++) {
        float x[4 * 8], y[4 * 8];
        int i;
        for (i = 0; i < 4 * n_in; i++) x[i] = (float)((i * 7 + s) % 5) * 0.25f - 0.5f;
        for (i = 0; i < 4 * units[L - 1]; i++) y[i] = (float)((i + s) % 2);
        nn_train_step(net, opt, x, y, NULL, 4, NULL);
    }
    if (nn_net_save_mem(net, opt, NULL, 0, n) == NN_OK && (buf = (unsigned char *)malloc(*n)) != NULL)
        nn_net_save_mem(net, opt, buf, *n, n);
    nn_optim_destroy(opt);
    nn_net_destroy(net);
    return buf;
}

int main(int argc, char **argv)
{
    static const int u1[] = { 1 }, u2[] = { 3, 1 }, u3[] = { 4, 3, 2 };
    static const nn_act a1[] = { NN_ACT_IDENTITY }, a2[] = { NN_ACT_TANH, NN_ACT_SIGMOID },
                        a3[] = { NN_ACT_LEAKY_RELU, NN_ACT_HARDTANH, NN_ACT_SOFTMAX };
    unsigned char *p;
    size_t n;
    int err = 0;
    if (argc != 2) {
        fprintf(stderr, "usage: make_corpus DIR\n");
        return 2;
    }
#define EMIT(name, expr) \
    do { if ((p = (expr)) == NULL) return 1; err |= write_file(argv[1], name, p, n); free(p); } while (0)
    EMIT("tiny_noopt.nn", model(1, u1, a1, 1, 0.0f, NN_OPTIM_DEFAULT, 0, &n));
    EMIT("tiny_sgd.nn", model(1, u1, a1, 1, 0.0f, NN_OPTIM_SGD, 2, &n));
    EMIT("bce_adam.nn", model(2, u2, a2, 2, 0.0f, NN_OPTIM_ADAM, 3, &n));
    EMIT("bce_noopt.nn", model(2, u2, a2, 2, 0.0f, NN_OPTIM_DEFAULT, 0, &n));
    EMIT("softmax_rmsprop_dropout.nn", model(5, u3, a3, 3, 0.25f, NN_OPTIM_RMSPROP, 2, &n));
    EMIT("softmax_momentum.nn", model(5, u3, a3, 3, 0.0f, NN_OPTIM_MOMENTUM, 1, &n));
    EMIT("softmax_adafactor_v2.nn", model(5, u3, a3, 3, 0.0f, NN_OPTIM_ADAFACTOR, 2, &n));
    EMIT("bce_adadelta_v2.nn", model(2, u2, a2, 2, 0.0f, NN_OPTIM_ADADELTA, 2, &n));
    /* broken: truncated, bad magic, bad CRC, trailing byte */
    p = model(2, u2, a2, 2, 0.0f, NN_OPTIM_ADAMW, 2, &n);
    if (!p) return 1;
    err |= write_file(argv[1], "broken_truncated.nn", p, n / 2);
    p[n - 9] ^= 0x40;
    err |= write_file(argv[1], "broken_crc.nn", p, n);
    p[n - 9] ^= 0x40;
    p[0] = 'P';
    err |= write_file(argv[1], "broken_magic.nn", p, n);
    free(p);
    p = model(1, u1, a1, 1, 0.0f, NN_OPTIM_DEFAULT, 0, &n);
    if (!p) return 1;
    {
        unsigned char *q = (unsigned char *)malloc(n + 1);
        if (!q) return 1;
        memcpy(q, p, n);
        q[n] = 0;
        err |= write_file(argv[1], "broken_trailing.nn", q, n + 1);
        free(q);
    }
    free(p);
    return err;
}
