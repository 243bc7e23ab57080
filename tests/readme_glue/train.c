
/* ---- glue after README's nn_fit block (tests/readme_snippets.sh): the implementation
   and a main that calls train() with a net whose max_batch is below the block's batch
   (nn_fit refuses: the block frees the report anyway), then with one that fits. */
#define NN_IMPLEMENTATION
#include "nn.h"

int main(void)
{
    enum { N = 300 };
    static float x[N][2];
    static int labels[N];
    nn_net_desc d;
    nn_optim_desc od;
    nn_net *small = NULL, *net = NULL;
    nn_optim *os = NULL, *opt = NULL;
    nn_status refused = NN_ERR_INVALID, trained = NN_ERR_INVALID;
    int i;
    for (i = 0; i < N; i++) {                        /* two classes split at x0 = 0.5 */
        x[i][0] = (float)(i % 17) / 16.0f;
        x[i][1] = (float)(i % 5) / 4.0f;
        labels[i] = x[i][0] > 0.5f;
    }
    memset(&d, 0, sizeof d);
    memset(&od, 0, sizeof od);
    d.n_inputs = 2;
    d.layers[0].units = 8;
    d.layers[1].units = 2;
    d.layers[1].act = NN_ACT_SOFTMAX;
    d.max_batch = 64;
    if (nn_net_create(&d, &small) == NN_OK && nn_optim_create(small, &od, &os) == NN_OK)
        refused = train(small, os, &x[0][0], labels, N);
    d.max_batch = 128;
    if (nn_net_create(&d, &net) == NN_OK && nn_optim_create(net, &od, &opt) == NN_OK)
        trained = train(net, opt, &x[0][0], labels, N);
    printf("refused: %s; trained: %s\n", nn_status_str(refused), nn_status_str(trained));
    nn_optim_destroy(os);
    nn_optim_destroy(opt);
    nn_net_destroy(small);
    nn_net_destroy(net);
    return refused == NN_ERR_BATCH && trained == NN_OK ? 0 : 1;
}
