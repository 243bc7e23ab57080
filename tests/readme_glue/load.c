
/* ---- glue after README's nn_data.h block (tests/readme_snippets.sh): a main that
   calls load() where the files do not exist: NN_ERR_IO, with *train zeroed by the
   loader, so freeing it is safe. */
#include <stdio.h>
#include <string.h>

int main(void)
{
    nn_data train, val;
    nn_status st;
    memset(&train, 0xab, sizeof train);              /* garbage, as a user's would be */
    memset(&val, 0, sizeof val);
    st = load(&train, &val);
    printf("load: %s, train.x %s\n", nn_status_str(st), train.x ? "set" : "NULL");
    nn_data_free(&train);
    nn_data_free(&val);
    return st == NN_ERR_IO ? 0 : 1;
}
