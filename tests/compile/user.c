/* Translation unit 2: uses the API through declarations only. */
#include "nn.h"
#include <stdio.h>
#include <string.h>

int nn_compile_test_user(void)
{
    nn_net_desc d;
    nn_net *net = NULL;
    const float x[2] = { 0.5f, -0.5f };
    const float *y;
    memset(&d, 0, sizeof d);
    d.n_inputs = 2;
    d.layers[0].units = 3;
    d.layers[1].units = 1;
    if (nn_net_create(&d, &net) != NN_OK) return 1;
    if (nn_net_forward(net, x, 1, &y) != NN_OK) return 1;
    printf("backend %s, y = %g\n", nn_simd_backend_name(), (double)y[0]);
    nn_net_destroy(net);
    return 0;
}
