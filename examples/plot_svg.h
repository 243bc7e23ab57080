/* plot_svg.h - the pictures the examples write: learning curves and a confusion matrix,
   as standalone SVG files (any browser opens them), plus the same numbers as CSV.
   Plain stdio; every function returns 0 on success, -1 if the file cannot be written. */
#ifndef NN_EXAMPLES_PLOT_SVG_H
#define NN_EXAMPLES_PLOT_SVG_H
#include <stdio.h>
#include <math.h>
#include "nn.h"

#if defined(__GNUC__) || defined(__clang__)
#  define PLOT__UNUSED __attribute__((unused)) /* each example uses some of them */
#else
#  define PLOT__UNUSED
#endif

/* One panel: up to two series over epochs 1..n, y range [lo, hi]. */
static void plot__panel(FILE *f, double x0, double y0, double w, double h, const char *title,
                        const char *ylabel, const float *a, const char *a_name,
                        const float *b, const char *b_name, int n, double lo, double hi)
{
    int i, t;
    const char *col[2] = { "#1f77b4", "#d62728" };
    const float *s[2];
    const char *names[2];
    s[0] = a; s[1] = b;
    names[0] = a_name; names[1] = b_name;
    if (hi <= lo) hi = lo + 1.0;
    fprintf(f, "<text x='%.1f' y='%.1f' font-size='15' text-anchor='middle'>%s</text>\n",
            x0 + w / 2, y0 - 12, title);
    fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='none' stroke='#444'/>\n",
            x0, y0, w, h);
    for (t = 0; t <= 4; t++) { /* y grid and labels */
        double v = lo + (hi - lo) * t / 4.0, yy = y0 + h - h * t / 4.0;
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='#ddd'/>\n", x0, yy, x0 + w, yy);
        fprintf(f, "<text x='%.1f' y='%.1f' font-size='11' text-anchor='end'>%.3g</text>\n",
                x0 - 6, yy + 4, v);
    }
    for (i = 1; i <= n; i++) /* x ticks */
        if (n <= 12 || i % ((n + 9) / 10) == 0 || i == 1) {
            double xx = x0 + (n == 1 ? w / 2 : w * (i - 1) / (n - 1));
            fprintf(f, "<text x='%.1f' y='%.1f' font-size='11' text-anchor='middle'>%d</text>\n",
                    xx, y0 + h + 16, i);
        }
    fprintf(f, "<text x='%.1f' y='%.1f' font-size='12' text-anchor='middle'>epoch</text>\n",
            x0 + w / 2, y0 + h + 34);
    fprintf(f, "<text x='%.1f' y='%.1f' font-size='12' text-anchor='middle' "
               "transform='rotate(-90 %.1f %.1f)'>%s</text>\n",
            x0 - 46, y0 + h / 2, x0 - 46, y0 + h / 2, ylabel);
    for (t = 0; t < 2; t++) {
        int started = 0;
        if (!s[t]) continue;
        fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2' points='", col[t]);
        for (i = 0; i < n; i++) {
            double v = s[t][i], xx, yy;
            if (isnan(v)) continue;
            xx = x0 + (n == 1 ? w / 2 : w * i / (n - 1));
            yy = y0 + h - h * (v - lo) / (hi - lo);
            fprintf(f, "%s%.1f,%.1f", started ? " " : "", xx, yy);
            started = 1;
        }
        fprintf(f, "'/>\n");
        fprintf(f, "<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='2'/>"
                   "<text x='%.1f' y='%.1f' font-size='12'>%s</text>\n",
                x0 + 10, y0 + 14 + 16 * t, x0 + 30, y0 + 14 + 16 * t, col[t], x0 + 36,
                y0 + 18 + 16 * t, names[t]);
    }
}

static void plot__range(const float *a, const float *b, int n, double *lo, double *hi)
{
    int i;
    *lo = INFINITY;
    *hi = -INFINITY;
    for (i = 0; i < n; i++) {
        if (!isnan(a[i])) { *lo = fmin(*lo, a[i]); *hi = fmax(*hi, a[i]); }
        if (b && !isnan(b[i])) { *lo = fmin(*lo, b[i]); *hi = fmax(*hi, b[i]); }
    }
    if (!(*lo <= *hi)) { *lo = 0; *hi = 1; }
    {
        double pad = 0.05 * (*hi - *lo) + 1e-6;
        *lo -= pad;
        *hi += pad;
    }
}

/* m series of n values (one per epoch) in one panel with a legend, e.g. one learning
   curve per optimizer; NaN values are left out. */
PLOT__UNUSED static int plot_curves(const char *svg_path, const char *title, const char *ylabel,
                       const float *const *series, const char *const *names, int m, int n)
{
    static const char *col[10] = { "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                   "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf" };
    FILE *f = fopen(svg_path, "w");
    double lo = INFINITY, hi = -INFINITY, x0 = 70, y0 = 40, w = 520, h = 340;
    int s, i;
    if (!f) return -1;
    for (s = 0; s < m; s++)
        for (i = 0; i < n; i++)
            if (!isnan(series[s][i])) { lo = fmin(lo, series[s][i]); hi = fmax(hi, series[s][i]); }
    if (!(hi > lo)) { lo = 0; hi = 1; }
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='760' height='440' "
               "font-family='sans-serif'>\n<rect width='100%%' height='100%%' fill='white'/>\n");
    plot__panel(f, x0, y0, w, h, title, ylabel, NULL, NULL, NULL, NULL, n, lo, hi);
    for (s = 0; s < m; s++) {
        int started = 0;
        fprintf(f, "<polyline fill='none' stroke='%s' stroke-width='2' points='", col[s % 10]);
        for (i = 0; i < n; i++) {
            if (isnan(series[s][i])) continue;
            fprintf(f, "%s%.1f,%.1f", started ? " " : "", x0 + (n == 1 ? w / 2 : w * i / (n - 1)),
                    y0 + h - h * (series[s][i] - lo) / (hi - lo));
            started = 1;
        }
        fprintf(f, "'/>\n<line x1='%.1f' y1='%.1f' x2='%.1f' y2='%.1f' stroke='%s' stroke-width='2'/>"
                   "<text x='%.1f' y='%.1f' font-size='12'>%s</text>\n",
                x0 + w + 20, y0 + 10 + 18 * s, x0 + w + 40, y0 + 10 + 18 * s, col[s % 10],
                x0 + w + 46, y0 + 14 + 18 * s, names[s]);
    }
    fprintf(f, "</svg>\n");
    return fclose(f) == 0 ? 0 : -1;
}

/* Train/validation loss and accuracy per epoch, side by side; and a CSV of the same. */
PLOT__UNUSED static int plot_learning_curve(const char *svg_path, const char *csv_path,
                               const nn_epoch_stats *h, int n)
{
    enum { MAXE = 1000 };
    static float tl[MAXE], vl[MAXE], ta[MAXE], va[MAXE];
    double lo, hi;
    int i;
    FILE *f;
    if (n > MAXE) n = MAXE;
    for (i = 0; i < n; i++) {
        tl[i] = h[i].train_loss; vl[i] = h[i].val_loss;
        ta[i] = h[i].train_accuracy; va[i] = h[i].val_accuracy;
    }
    if (!(f = fopen(svg_path, "w"))) return -1;
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='900' height='380' "
               "font-family='sans-serif'>\n<rect width='100%%' height='100%%' fill='white'/>\n");
    plot__range(tl, vl, n, &lo, &hi);
    plot__panel(f, 70, 40, 350, 280, "loss", "mean loss", tl, "train", vl, "validation", n, lo, hi);
    plot__range(ta, va, n, &lo, &hi);
    plot__panel(f, 520, 40, 350, 280, "accuracy", "accuracy", ta, "train", va, "validation", n, lo, hi);
    fprintf(f, "</svg>\n");
    if (fclose(f) != 0) return -1;
    if (!(f = fopen(csv_path, "w"))) return -1;
    fprintf(f, "epoch,train_loss,train_accuracy,val_loss,val_accuracy,lr,seconds,samples_per_sec\n");
    for (i = 0; i < n; i++)
        fprintf(f, "%d,%.6f,%.6f,%.6f,%.6f,%.6g,%.4f,%.1f\n", h[i].epoch, (double)h[i].train_loss,
                (double)h[i].train_accuracy, (double)h[i].val_loss, (double)h[i].val_accuracy,
                (double)h[i].lr, h[i].seconds, h[i].samples_per_sec);
    return fclose(f) == 0 ? 0 : -1;
}

/* Heat map of m[true][pred] (rows normalized to recall), counts written in the cells. */
PLOT__UNUSED static int plot_confusion(const char *svg_path, const char *csv_path, const int *m, int C,
                          const char *const *names)
{
    double cell = 46, x0 = 150, y0 = 70;
    int i, j;
    FILE *f = fopen(svg_path, "w");
    if (!f) return -1;
    fprintf(f, "<svg xmlns='http://www.w3.org/2000/svg' width='%.0f' height='%.0f' "
               "font-family='sans-serif'>\n<rect width='100%%' height='100%%' fill='white'/>\n",
            x0 + cell * C + 40, y0 + cell * C + 110);
    fprintf(f, "<text x='%.1f' y='30' font-size='16' text-anchor='middle'>confusion matrix "
               "(rows: true class, columns: predicted)</text>\n", x0 + cell * C / 2);
    for (i = 0; i < C; i++) {
        long row = 0;
        for (j = 0; j < C; j++) row += m[i * C + j];
        fprintf(f, "<text x='%.1f' y='%.1f' font-size='12' text-anchor='end'>%s</text>\n",
                x0 - 8, y0 + cell * i + cell / 2 + 4, names ? names[i] : "");
        for (j = 0; j < C; j++) {
            double v = row ? (double)m[i * C + j] / row : 0.0;
            int shade = (int)(255 - 200 * sqrt(v));
            fprintf(f, "<rect x='%.1f' y='%.1f' width='%.1f' height='%.1f' fill='rgb(%d,%d,255)' "
                       "stroke='#fff'/><text x='%.1f' y='%.1f' font-size='11' "
                       "text-anchor='middle' fill='%s'>%d</text>\n",
                    x0 + cell * j, y0 + cell * i, cell, cell, shade, shade,
                    x0 + cell * j + cell / 2, y0 + cell * i + cell / 2 + 4,
                    v > 0.5 ? "white" : "black", m[i * C + j]);
        }
    }
    for (j = 0; j < C; j++)
        fprintf(f, "<text x='%.1f' y='%.1f' font-size='12' text-anchor='end' "
                   "transform='rotate(-45 %.1f %.1f)'>%s</text>\n",
                x0 + cell * j + cell / 2, y0 + cell * C + 14, x0 + cell * j + cell / 2,
                y0 + cell * C + 14, names ? names[j] : "");
    fprintf(f, "</svg>\n");
    if (fclose(f) != 0) return -1;
    if (!(f = fopen(csv_path, "w"))) return -1;
    fprintf(f, "true\\predicted");
    for (j = 0; j < C; j++) fprintf(f, ",%s", names ? names[j] : "");
    fprintf(f, "\n");
    for (i = 0; i < C; i++) {
        fprintf(f, "%s", names ? names[i] : "");
        for (j = 0; j < C; j++) fprintf(f, ",%d", m[i * C + j]);
        fprintf(f, "\n");
    }
    return fclose(f) == 0 ? 0 : -1;
}
#endif
