/* data_info.c - load a dataset with nn_data.h and print what is in it.

     data_info IMAGES.idx[.gz] [LABELS.idx[.gz]]     IDX pair (MNIST, Fashion-MNIST)
     data_info TABLE.csv[.gz] [LABEL_COLUMN]         CSV; label column index, -1 none,
                                                     default: the last column
   e.g.
     data_info /usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz \
               /usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz */
#define NN_IMPLEMENTATION
#define NN_DATA_IMPLEMENTATION
#include "nn.h"
#include "nn_data.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int is_csv(const char *path)
{
    size_t n = strlen(path);
    return (n >= 4 && !strcmp(path + n - 4, ".csv")) || (n >= 7 && !strcmp(path + n - 7, ".csv.gz"));
}

int main(int argc, char **argv)
{
    nn_data d;
    nn_status st;
    int line = 0, i, j;
    clock_t t0;
    double secs, sum = 0.0, sumsq = 0.0;
    float lo = FLT_MAX, hi = -FLT_MAX;
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: %s IMAGES.idx[.gz] [LABELS.idx[.gz]]\n"
                        "       %s TABLE.csv[.gz] [LABEL_COLUMN (-1: none; default last)]\n",
                argv[0], argv[0]);
        return 2;
    }
    t0 = clock();
    if (is_csv(argv[1])) {
        int label = argc == 3 ? atoi(argv[2]) : NN_DATA_LAST_COLUMN;
        st = nn_data_load_csv(argv[1], label, -1, NULL, &d, &line);
    } else {
        st = nn_data_load_idx(argv[1], argc == 3 ? argv[2] : NULL, NULL, &d);
    }
    secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    if (st != NN_OK) {
        if (line) fprintf(stderr, "%s:%d: %s\n", argv[1], line, nn_status_str(st));
        else fprintf(stderr, "%s: %s\n", argv[1], nn_status_str(st));
        return 1;
    }
    for (i = 0; i < d.n; i++)
        for (j = 0; j < d.dim; j++) {
            float v = d.x[(size_t)i * (size_t)d.dim + (size_t)j];
            if (v < lo) lo = v;
            if (v > hi) hi = v;
            sum += v;
            sumsq += (double)v * v;
        }
    {
        double cells = (double)d.n * d.dim, mean = sum / cells;
        printf("samples   %d\nfeatures  %d\n", d.n, d.dim);
        printf("x         min %g  max %g  mean %g  std %g\n", (double)lo, (double)hi, mean,
               sqrt(fabs(sumsq / cells - mean * mean)));
        printf("load      %.3f s CPU (%.1f MB of floats)\n", secs, cells * 4 / 1e6);
    }
    if (d.labels) {
        int *count = (int *)calloc((size_t)d.classes, sizeof(int));
        printf("classes   %d\n", d.classes);
        for (i = 0; i < d.n; i++) count[d.labels[i]]++;
        for (i = 0; i < d.classes && i < 50; i++)
            printf("  class %-3d %7d  (%.1f%%)\n", i, count[i], 100.0 * count[i] / d.n);
        if (d.classes > 50) printf("  ... %d more classes\n", d.classes - 50);
        free(count);
    } else {
        printf("labels    none\n");
    }
    nn_data_free(&d);
    return 0;
}
