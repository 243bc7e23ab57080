/* bench_util.h - the small helpers every benchmark in bench/ uses: a monotonic clock,
   a comparator for sorting timings, and the CPU's model name. Include after the
   _POSIX_C_SOURCE define (clock_gettime under -std=c99). static inline: a bench that
   does not call one gets no unused-function warning. */
#ifndef NN_BENCH_UTIL_H
#define NN_BENCH_UTIL_H
#include <stdio.h>
#include <string.h>
#include <time.h>

static inline double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* qsort comparator for doubles, ascending */
static inline int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* "model name" (x86) or "Model" (arm) from /proc/cpuinfo, else "unknown" */
static inline void cpu_model(char *out, size_t cap)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    snprintf(out, cap, "unknown");
    if (!f) return;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0 || strncmp(line, "Model", 5) == 0) {
            char *p = strchr(line, ':');
            if (p) {
                p++;
                while (*p == ' ') p++;
                p[strcspn(p, "\n")] = 0;
                snprintf(out, cap, "%s", p);
                break;
            }
        }
    }
    fclose(f);
}
#endif
