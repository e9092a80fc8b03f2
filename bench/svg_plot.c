#include "bench/svg_plot.h"

#include <math.h>
#include <string.h>

#define W 760
#define PANEL_H 340
#define ML 80   /* margins: left, right, top, bottom */
#define MR 170
#define MT 50
#define MB 55

static const char *const palette[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
                                      "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"};

static void xml_text(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* A "nice" step (1, 2, 5 x 10^k) for about `ticks` intervals over [0, max]. */
static double nice_step(double max, int ticks)
{
    double raw = max / ticks, p = pow(10, floor(log10(raw))), m = raw / p;
    return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static void fmt_size(char *buf, size_t len, double v)
{
    if (v >= 1024 * 1024 && fmod(v, 1024 * 1024) == 0)
        snprintf(buf, len, "%gM", v / (1024 * 1024));
    else if (v >= 1024 && fmod(v, 1024) == 0)
        snprintf(buf, len, "%gK", v / 1024);
    else
        snprintf(buf, len, "%g", v);
}

static int panel(FILE *f, const struct svg_panel *p, int top)
{
    double xmin = INFINITY, xmax = -INFINITY, ymax = 0;
    for (size_t s = 0; s < p->nseries; s++)
        for (size_t i = 0; i < p->series[s].n; i++) {
            double x = p->series[s].x[i], y = p->series[s].y[i];
            double e = p->series[s].err ? p->series[s].err[i] : 0;
            if (!isfinite(x) || !isfinite(y) || (p->log_x && x <= 0))
                continue;
            xmin = fmin(xmin, x);
            xmax = fmax(xmax, x);
            ymax = fmax(ymax, y + (isfinite(e) ? e : 0));
        }
    if (!isfinite(xmin))
        return -1;
    if (ymax <= 0)
        ymax = 1;
    double step = nice_step(ymax * 1.05, 5);
    ymax = ceil(ymax * 1.05 / step) * step;
    double lx0 = p->log_x ? log2(xmin) : xmin, lx1 = p->log_x ? log2(xmax) : xmax;
    if (lx1 - lx0 < 1e-9) {
        lx0 -= 1;
        lx1 += 1;
    }
    int pw = W - ML - MR, ph = PANEL_H - MT - MB, x0 = ML, y0 = top + MT;
#define PX(x) (x0 + ((p->log_x ? log2(x) : (x)) - lx0) / (lx1 - lx0) * pw)
#define PY(y) (y0 + ph - (y) / ymax * ph)

    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"15\" font-weight=\"bold\">", x0, top + 30);
    xml_text(f, p->title);
    fputs("</text>\n", f);
    fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" stroke=\"#333\"/>\n",
            x0, y0, pw, ph);
    for (double y = 0; y <= ymax + step / 2; y += step) {
        fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", x0, PY(y),
                x0 + pw, PY(y));
        fprintf(f, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%g</text>\n", x0 - 6,
                PY(y) + 4, y);
    }
    /* x ticks at the data's own x values (message sizes) */
    for (size_t i = 0; p->nseries && i < p->series[0].n; i++) {
        double x = p->series[0].x[i];
        if (!isfinite(x) || (p->log_x && x <= 0))
            continue;
        char lab[32];
        fmt_size(lab, sizeof lab, x);
        fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#ddd\"/>\n", PX(x), y0,
                PX(x), y0 + ph);
        fprintf(f, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\" text-anchor=\"middle\">%s</text>\n", PX(x),
                y0 + ph + 16, lab);
    }
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\">", x0 + pw / 2, y0 + ph + 38);
    xml_text(f, p->xlabel);
    fputs("</text>\n", f);
    fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 %d %d)\">",
            x0 - 55, y0 + ph / 2, x0 - 55, y0 + ph / 2);
    xml_text(f, p->ylabel);
    fputs("</text>\n", f);

    for (size_t s = 0; s < p->nseries; s++) {
        const struct svg_series *se = &p->series[s];
        const char *color = palette[s % (sizeof palette / sizeof palette[0])];
        fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
        for (size_t i = 0; i < se->n; i++)
            if (isfinite(se->x[i]) && isfinite(se->y[i]) && (!p->log_x || se->x[i] > 0))
                fprintf(f, "%.1f,%.1f ", PX(se->x[i]), PY(se->y[i]));
        fputs("\"/>\n", f);
        for (size_t i = 0; i < se->n; i++) {
            if (!isfinite(se->x[i]) || !isfinite(se->y[i]) || (p->log_x && se->x[i] <= 0))
                continue;
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>\n", PX(se->x[i]),
                    PY(se->y[i]), color);
            if (se->err && isfinite(se->err[i]) && se->err[i] > 0)
                fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n",
                        PX(se->x[i]), PY(fmax(0, se->y[i] - se->err[i])), PX(se->x[i]),
                        PY(se->y[i] + se->err[i]), color);
        }
        int ly = y0 + 14 + (int)s * 20;
        fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" stroke-width=\"3\"/>\n",
                x0 + pw + 12, ly, x0 + pw + 36, ly, color);
        fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"12\">", x0 + pw + 42, ly + 4);
        xml_text(f, se->name);
        fputs("</text>\n", f);
    }
#undef PX
#undef PY
    return 0;
}

int svg__write_plot(FILE *f, const char *title, const struct svg_panel *panels, size_t npanels)
{
    int h = (int)npanels * PANEL_H + 30;
    fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
               "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
               "font-family=\"sans-serif\">\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
            W, h);
    fprintf(f, "<text x=\"%d\" y=\"20\" font-size=\"16\" text-anchor=\"middle\">", W / 2);
    xml_text(f, title);
    fputs("</text>\n", f);
    int ret = 0;
    for (size_t i = 0; i < npanels; i++)
        if (panel(f, &panels[i], 20 + (int)i * PANEL_H))
            ret = -1;
    fputs("</svg>\n", f);
    if (fflush(f) != 0 || ferror(f))
        ret = -1;
    return ret;
}
