/* sklearn_csv.h - reads the classic tables Debian's python3-sklearn ships (breast
   cancer, wine, iris) for the examples. Their first line is "n_samples,n_features,class
   names..." rather than a header of the table, so the file is read whole and parsed from
   its second line on, the class in the last column; features are then z-scored. */
#ifndef NN_EXAMPLES_SKLEARN_CSV_H
#define NN_EXAMPLES_SKLEARN_CSV_H
#include <string.h>
#include "nn.h"
#include "nn_data.h"

#define SKLEARN_DATA "/usr/lib/python3/dist-packages/sklearn/datasets/data"
#define SKLEARN_HINT "the CSVs come with Debian's python3-sklearn: sudo apt-get install python3-sklearn"

/* NN_ERR_IO when the file is missing; *d is zeroed first (nn_data_free is always safe). */
static nn_status load_sklearn_csv(const char *path, nn_data *d)
{
    void *buf = NULL;
    size_t n = 0;
    const char *t, *nl;
    nn_status st;
    memset(d, 0, sizeof *d);
    st = nn_data_load_file(path, &buf, &n, NULL);
    if (st != NN_OK) return st;
    t = (const char *)buf;
    nl = (const char *)memchr(t, '\n', n);
    st = nl ? nn_data_parse_csv(nl + 1, n - (size_t)(nl + 1 - t), NN_DATA_LAST_COLUMN, 0, NULL, d, NULL)
            : NN_ERR_FORMAT;
    nn_data_free_buf(buf, NULL);
    if (st == NN_OK) st = nn_data_normalize(d, NULL, NULL);
    return st;
}
#endif
