/* A small SVG line-plot writer (no plotting dependency): one or more panels
 * stacked vertically, each with a log2 or linear x axis, a linear y axis
 * from 0, one polyline per series with optional error bars, and a legend. */
#ifndef IOVIRT_BENCH_SVG_PLOT_H
#define IOVIRT_BENCH_SVG_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct svg_series {
    const char *name;
    size_t n;
    const double *x, *y;
    const double *err;   /* half-width error bars, or NULL */
};

struct svg_panel {
    const char *title;
    const char *xlabel, *ylabel;
    bool log_x;          /* log2 x axis (message sizes) */
    const struct svg_series *series;
    size_t nseries;
};

/* 0, or -1 if a panel has no finite points or writing failed. */
int svg__write_plot(FILE *f, const char *title, const struct svg_panel *panels, size_t npanels);

#endif
