/* test_backend.c - backend dispatch: detection, forcing, names, and the NN_BACKEND
   environment variable.

   NN_BACKEND is read once, by the first nn_simd_init(), so each value is tested in a
   child process: the test re-executes itself (argv[0] --child <expect>) with fork+execv
   and NN_BACKEND set. If execv is impossible (qemu-user without binfmt_misc cannot exec
   a foreign binary), the forked copy runs the same check itself: the parent spawns every
   child before it touches the backend, so the copy starts from the untouched state. */
#define _POSIX_C_SOURCE 200809L
#define NN_SIMD_IMPLEMENTATION
#include "nn_simd.h"
#include "nn_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__x86_64__) || defined(_M_X64)
#  define ON_X86 1
#else
#  define ON_X86 0
#endif

/* The SIMD backend this machine should pick, and one it cannot have. */
static nn_simd_backend expected_best(void)
{
#if ON_X86 && NN__HAS_AVX2
    __builtin_cpu_init();
#  if NN__HAS_AVX512
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        return NN_SIMD_BACKEND_AVX512;
#  endif
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return NN_SIMD_BACKEND_AVX2;
#endif
#if NN__HAS_NEON
    return NN_SIMD_BACKEND_NEON;
#else
    return NN_SIMD_BACKEND_SCALAR;
#endif
}
static nn_simd_backend foreign_backend(void)
{
    return ON_X86 ? NN_SIMD_BACKEND_NEON : NN_SIMD_BACKEND_AVX2;
}

/* ---- child side ------------------------------------------------------------------ */
/* expect: a backend name ("scalar", "avx2", "avx512", "neon") that init must choose,
   "best" (the best this process's CPU has: a child exec'd from under valgrind runs
   natively and can see more than its parent), or "error". */
static int child_main(const char *expect)
{
    if (strcmp(expect, "best") == 0) expect = nn_simd_backend_str(expected_best());
    const char *env = getenv("NN_BACKEND");
    nn_status st = nn_simd_init();
    float x[5] = { -1.0f, 0.0f, 1.0f, 2.0f, -3.0f }, y[5];
    nn_simd_optim_args a;
    int ok;
    memset(&a, 0, sizeof a);
    printf("  child NN_BACKEND=%s: nn_simd_init -> %s, backend %s\n", env ? env : "(unset)", nn_status_str(st),
           nn_simd_backend_name());
    if (strcmp(expect, "error") == 0) {
        ok = st == NN_ERR_BACKEND;
        ok = ok && nn_simd_init() == NN_ERR_BACKEND; /* stays failed, no silent fallback */
        ok = ok && nn_simd_act_forward(NN_ACT_RELU, 0.0f, x, y, 5) == NN_ERR_BACKEND;
        ok = ok && nn_simd_act_backward(NN_ACT_RELU, 0.0f, x, x, y, 5) == NN_ERR_BACKEND;
        ok = ok && nn_simd_softmax_rows(x, y, 1, 5) == NN_ERR_BACKEND;
        ok = ok && nn_simd_axpy(5, 1.0f, x, y) == NN_ERR_BACKEND;
        ok = ok && nn_simd_col_sums(x, 1, 5, 5, y) == NN_ERR_BACKEND;
        ok = ok && nn_simd_optim_update(NN_SIMD_OPTIM_SGD, &a, y, x, NULL, NULL, 5) == NN_ERR_BACKEND;
        ok = ok && nn_simd_gemm(0, 0, 1, 1, 1, 1.0f, x, 1, x, 1, 0.0f, y, 1) == NN_ERR_BACKEND;
        /* an explicit choice still works afterwards */
        ok = ok && nn_simd_set_backend(NN_SIMD_BACKEND_SCALAR) == NN_OK;
        ok = ok && nn_simd_act_forward(NN_ACT_RELU, 0.0f, x, y, 5) == NN_OK && y[0] == 0.0f && y[3] == 2.0f;
    } else {
        ok = st == NN_OK && strcmp(nn_simd_backend_name(), expect) == 0 &&
             strcmp(nn_simd_backend_str(nn_simd_backend_active()), expect) == 0;
        ok = ok && nn_simd_act_forward(NN_ACT_RELU, 0.0f, x, y, 5) == NN_OK && y[0] == 0.0f && y[3] == 2.0f;
    }
    printf("  child expected %s: %s\n", expect, ok ? "ok" : "MISMATCH");
    fflush(stdout);
    return ok ? 0 : 1;
}

/* ---- parent side ----------------------------------------------------------------- */
static const char *g_self;
static int g_exec_fallbacks;

/* Runs the child with NN_BACKEND=env (NULL: unset); returns its exit status (0 = ok). */
static int run_child(const char *env, const char *expect)
{
    pid_t pid;
    int status = 0;
    fflush(stdout);
    fflush(stderr);
    pid = fork();
    if (pid < 0) {
        perror("fork");
        return -1;
    }
    if (pid == 0) {
        char *args[4];
        if (env) setenv("NN_BACKEND", env, 1);
        else unsetenv("NN_BACKEND");
        args[0] = (char *)g_self;
        args[1] = (char *)"--child";
        args[2] = (char *)expect;
        args[3] = NULL;
        execv(g_self, args);
        /* exec impossible here (e.g. qemu-user): check in this fresh copy instead; exit
           code 100 + result tells the parent that it happened */
        _exit(100 + child_main(expect));
    }
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status)) return -1;
    status = WEXITSTATUS(status);
    if (status >= 100) {
        g_exec_fallbacks++;
        status -= 100;
    }
    return status;
}

static void test_env(void)
{
    const char *best = nn_simd_backend_str(expected_best());
    const char *foreign = nn_simd_backend_str(foreign_backend());
    int r;
    r = run_child("scalar", "scalar");
    NN_CHECK(r == 0, "NN_BACKEND=scalar: child status %d (want backend scalar)", r);
    r = run_child("bogus", "error");
    NN_CHECK(r == 0, "NN_BACKEND=bogus: child status %d (want NN_ERR_BACKEND everywhere)", r);
    r = run_child(foreign, "error");
    NN_CHECK(r == 0, "NN_BACKEND=%s (not on this machine): child status %d (want NN_ERR_BACKEND)", foreign, r);
    r = run_child("auto", "best");
    NN_CHECK(r == 0, "NN_BACKEND=auto: child status %d (want the best backend)", r);
    r = run_child("", "best");
    NN_CHECK(r == 0, "NN_BACKEND='': child status %d (want the best backend)", r);
    r = run_child(NULL, "best");
    NN_CHECK(r == 0, "NN_BACKEND unset: child status %d (want the best backend)", r);
    if (expected_best() != NN_SIMD_BACKEND_SCALAR) {
        r = run_child(best, best);
        NN_CHECK(r == 0, "NN_BACKEND=%s: child status %d", best, r);
    }
    if (expected_best() == NN_SIMD_BACKEND_AVX512) { /* a lesser backend can be forced */
        r = run_child("avx2", "avx2");
        NN_CHECK(r == 0, "NN_BACKEND=avx2 on an AVX-512 cpu: child status %d", r);
    }
    if (g_exec_fallbacks)
        printf("note: execv unavailable here (%d children checked in the forked copy instead)\n", g_exec_fallbacks);
}

static void test_dispatch(void)
{
    static const char *names[] = { "auto", "scalar", "avx2", "neon", "avx512" };
    const nn_simd_backend best = expected_best();
    const char *name;
    int b;
    float x[9] = { -2.0f, -1.0f, -0.0f, 0.0f, 0.5f, 1.0f, 2.0f, 3.0f, -4.0f }, y[9], yref[9];

    name = nn_simd_backend_name();
    printf("backend: %s\n", name);
    NN_CHECK(name && name[0], "nn_simd_backend_name() is empty");
    NN_CHECK(nn_simd_init() == NN_OK, "nn_simd_init() failed with NN_BACKEND unset");
    NN_CHECK(nn_simd_init() == NN_OK, "nn_simd_init() is not idempotent");
    NN_CHECK(nn_simd_backend_active() == best, "auto chose %s, want %s", name, nn_simd_backend_str(best));
#if ON_X86
    if (best == NN_SIMD_BACKEND_AVX512)
        NN_CHECK(strcmp(name, "avx512") == 0, "x86-64 with AVX-512F: auto chose %s, want avx512", name);
    else if (best == NN_SIMD_BACKEND_AVX2)
        NN_CHECK(strcmp(name, "avx2") == 0, "x86-64 with AVX2+FMA: auto chose %s, want avx2", name);
    else
        printf("SKIP avx2 auto-selection (cpu lacks avx2/fma or NN_SIMD_NO_AVX2)\n");
    if (best != NN_SIMD_BACKEND_AVX512)
        printf("SKIP avx512 auto-selection (cpu lacks avx512f or NN_SIMD_NO_AVX512)\n");
#endif
#if defined(__aarch64__) && NN__HAS_NEON
    NN_CHECK(strcmp(name, "neon") == 0, "aarch64: auto chose %s, want neon", name);
#endif
    NN_CHECK(nn_simd_backend_available(NN_SIMD_BACKEND_AUTO) == 1, "AUTO not available");
    NN_CHECK(nn_simd_backend_available(NN_SIMD_BACKEND_SCALAR) == 1, "scalar not available");
    NN_CHECK(nn_simd_backend_available(foreign_backend()) == 0, "%s reported available here",
             nn_simd_backend_str(foreign_backend()));
    NN_CHECK(nn_simd_backend_available(NN_SIMD_BACKEND_COUNT) == 0, "COUNT reported available");

    nn_simd_set_backend(NN_SIMD_BACKEND_SCALAR);
    nn_simd_act_forward(NN_ACT_HARDTANH, 0.0f, x, yref, 9);

    for (b = 0; b < NN_SIMD_BACKEND_COUNT; b++) {
        nn_simd_backend bk = (nn_simd_backend)b;
        int avail = nn_simd_backend_available(bk);
        nn_status st;
        NN_CHECK(strcmp(nn_simd_backend_str(bk), names[b]) == 0, "backend_str(%d) = %s", b, nn_simd_backend_str(bk));
        /* from a known state: scalar */
        NN_CHECK(nn_simd_set_backend(NN_SIMD_BACKEND_SCALAR) == NN_OK, "set scalar");
        st = nn_simd_set_backend(bk);
        printf("set_backend(%s): %s (available %d) -> active %s\n", names[b], nn_status_str(st), avail,
               nn_simd_backend_name());
        NN_CHECK((st == NN_OK) == (avail != 0), "set_backend(%s) = %s but available = %d", names[b],
                 nn_status_str(st), avail);
        if (st == NN_OK) {
            nn_simd_backend want = bk == NN_SIMD_BACKEND_AUTO ? best : bk;
            NN_CHECK(nn_simd_backend_active() == want, "after set_backend(%s) active is %s", names[b],
                     nn_simd_backend_name());
            NN_CHECK(strcmp(nn_simd_backend_name(), nn_simd_backend_str(want)) == 0, "name %s vs %s",
                     nn_simd_backend_name(), nn_simd_backend_str(want));
            NN_CHECK(nn_simd_act_forward(NN_ACT_HARDTANH, 0.0f, x, y, 9) == NN_OK && memcmp(y, yref, sizeof y) == 0,
                     "backend %s: hardtanh differs from scalar", nn_simd_backend_name());
        } else {
            NN_CHECK(st == NN_ERR_BACKEND, "set_backend(%s) = %s, want NN_ERR_BACKEND", names[b], nn_status_str(st));
            NN_CHECK(nn_simd_backend_active() == NN_SIMD_BACKEND_SCALAR,
                     "failed set_backend(%s) changed the active backend to %s", names[b], nn_simd_backend_name());
        }
        /* the same by name */
        NN_CHECK(nn_simd_set_backend(NN_SIMD_BACKEND_SCALAR) == NN_OK, "set scalar");
        st = nn_simd_set_backend_name(names[b]);
        NN_CHECK((st == NN_OK) == (avail != 0), "set_backend_name(%s) = %s but available = %d", names[b],
                 nn_status_str(st), avail);
        if (st != NN_OK)
            NN_CHECK(nn_simd_backend_active() == NN_SIMD_BACKEND_SCALAR, "failed set_backend_name(%s) changed the backend",
                     names[b]);
    }

    /* forcing the foreign SIMD backend from the best one leaves the best one active */
    NN_CHECK(nn_simd_set_backend(NN_SIMD_BACKEND_AUTO) == NN_OK, "set auto");
    NN_CHECK(nn_simd_set_backend(foreign_backend()) == NN_ERR_BACKEND, "forcing %s did not fail",
             nn_simd_backend_str(foreign_backend()));
    NN_CHECK(nn_simd_backend_active() == best, "failed force changed the backend to %s", nn_simd_backend_name());
    NN_CHECK(nn_simd_set_backend_name("bogus") == NN_ERR_BACKEND, "set_backend_name(bogus) did not fail");
    NN_CHECK(nn_simd_set_backend_name("") == NN_ERR_BACKEND, "set_backend_name('') did not fail");
    NN_CHECK(nn_simd_set_backend_name(NULL) == NN_ERR_INVALID, "set_backend_name(NULL) is not NN_ERR_INVALID");
    NN_CHECK(nn_simd_set_backend(NN_SIMD_BACKEND_COUNT) == NN_ERR_BACKEND, "set_backend(COUNT) did not fail");
    NN_CHECK(nn_simd_set_backend((nn_simd_backend)-1) == NN_ERR_BACKEND, "set_backend(-1) did not fail");
    NN_CHECK(nn_simd_set_backend((nn_simd_backend)99) == NN_ERR_BACKEND, "set_backend(99) did not fail");
    NN_CHECK(nn_simd_backend_active() == best, "failed calls changed the backend to %s", nn_simd_backend_name());
    NN_CHECK(strcmp(nn_simd_backend_str((nn_simd_backend)99), "?") == 0, "backend_str(99)");
    NN_CHECK(nn_simd_init() == NN_OK && nn_simd_backend_active() == best, "init after set changed the backend");
}

/* The comment above nn_simd_set_backend_name lists every name it accepts (it once left
   out "avx512"). Reads nn_simd.h from the repository root; skipped elsewhere. */
static void test_name_doc(void)
{
    char line[256], prev[256] = "";
    FILE *f = fopen("nn_simd.h", "r");
    int b, found = 0;
    if (!f) {
        printf("backend names in the doc comment: skipped (nn_simd.h not in the working directory)\n");
        return;
    }
    while (!found && fgets(line, sizeof line, f)) {
        if (strstr(line, "nn_status nn_simd_set_backend_name(") && strstr(prev, "/*")) found = 1;
        else memcpy(prev, line, sizeof line);
    }
    fclose(f);
    NN_CHECK(found, "no comment line before nn_simd_set_backend_name's declaration");
    for (b = 0; found && b < NN_SIMD_BACKEND_COUNT; b++) {
        char quoted[32];
        snprintf(quoted, sizeof quoted, "\"%s\"", nn_simd_backend_str((nn_simd_backend)b));
        NN_CHECK(strstr(prev, quoted) != NULL, "nn_simd_set_backend_name's comment leaves out %s: %s", quoted, prev);
    }
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--child") == 0) return child_main(argv[2]);
    nn_test_begin("test_backend");
    g_self = argv[0];
    unsetenv("NN_BACKEND"); /* this test decides the environment itself */
    test_env();             /* before anything touches the backend (see the top) */
    test_dispatch();
    test_name_doc();
    return nn_test_done();
}
