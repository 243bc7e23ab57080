/* nn_test.h - the tiny harness every test program uses.
   NN_CHECK(cond, fmt, ...) records a failure with a message naming what differed;
   nn_test_done() prints "<name>: N passed, N failed" and returns the exit code. */
#ifndef NN_TEST_H
#define NN_TEST_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long nn_test_pass_count, nn_test_fail_count;
static const char *nn_test_name = "test";

/* How big the sweeps are, from the environment:
     (neither)        make test: the quick sizes; test_gemm runs named edge cases, a few
                      random and large shapes in place of its sweeps
     NN_TEST_QUICK=1  the quick sizes; test_gemm its thinned sweeps (make test-full's
                      sanitizer suite, make test-valgrind)
     NN_TEST_FULL=1   every sweep at full size (make test-full); NN_TEST_QUICK wins */
static inline int nn_test_env(const char *name)
{
    const char *q = getenv(name);
    return q && *q && *q != '0';
}
static inline int nn_test_full(void)
{
    return nn_test_env("NN_TEST_FULL") && !nn_test_env("NN_TEST_QUICK");
}
/* shrink the big sweeps: everywhere but NN_TEST_FULL=1 */
static inline int nn_test_quick(void)
{
    return !nn_test_full();
}

#define NN_CHECK(cond, ...)                                                         \
    do {                                                                            \
        if (cond) {                                                                 \
            nn_test_pass_count++;                                                   \
        } else {                                                                    \
            nn_test_fail_count++;                                                   \
            if (nn_test_fail_count <= 30) {                                         \
                fprintf(stderr, "%s:%d: FAIL: ", __FILE__, __LINE__);               \
                fprintf(stderr, __VA_ARGS__);                                       \
                fputc('\n', stderr);                                                \
            }                                                                       \
        }                                                                           \
    } while (0)

static inline void nn_test_begin(const char *name)
{
    nn_test_name = name;
}

static inline int nn_test_done(void)
{
    printf("%s: %ld passed, %ld failed\n", nn_test_name, nn_test_pass_count,
           nn_test_fail_count);
    return nn_test_fail_count ? 1 : 0;
}
#endif
