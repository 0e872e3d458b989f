/* plot.c: pictures of a run, drawn by gnuplot's pngcairo terminal (or its
 * svg terminal for a FILE.svg): the loss and accuracy per epoch of a
 * training run (--plot on `lenetc train` and emitted trainers) and the
 * confusion matrix of `lenetc eval --plot` as a heat map.
 *
 * The data and a gnuplot script go to a private temp directory, gnuplot runs
 * on them as a child (posix_spawn, no shell; stdin is /dev/null so it cannot
 * wait on it; killed after a timeout), and its picture is copied over FILE
 * atomically. Without gnuplot, or when it fails, the script and data are
 * written beside FILE instead (FILE.gp, FILE.dat; a .png or .svg suffix
 * dropped), naming FILE and the data by absolute paths, for `gnuplot
 * FILE.gp` later.
 *
 * A class name with characters outside ASCII is asked of fontconfig
 * (fc-list, run as gnuplot is) before a PNG: cairo draws a character no
 * installed font has as a box, so such a class is labelled by its number,
 * with a warning saying what to install. An SVG's text is drawn by its
 * viewer's fonts, not this machine's, so it is not asked.
 *
 * Every string a script holds (paths, titles, class names) is a
 * double-quoted gnuplot string with \ " ` @ $ and control bytes escaped:
 * gnuplot runs `backquoted` commands even inside double quotes, and single
 * quotes cannot hold a newline, so this is the one safe spelling.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "lenet_app.h"
#include "lenet_core.h"
#include "lenet_io.h"
#include "lenet_model.h"

extern char **environ;

#define PLOT_TIMEOUT 60 /* seconds gnuplot may take (LENETC_PLOT_TIMEOUT) */
#define NAMED_TICS 40   /* a confusion matrix of more classes has gnuplot's tics */

/* ---- history ---------------------------------------------------------- */

int lenet_history_add(lenet_history *h, int epoch, const lenet_scores *s) {
    if (h->n == h->cap) {
        int cap = h->cap ? 2 * h->cap : 64;
        lenet_epoch_scores *e = realloc(h->e, sizeof *e * (size_t)cap);
        if (!e)
            return -1;
        h->e = e;
        h->cap = cap;
    }
    h->e[h->n].epoch = epoch;
    h->e[h->n].s = *s;
    h->n++;
    return 0;
}

void lenet_history_free(lenet_history *h) {
    free(h->e);
    memset(h, 0, sizeof *h);
}

/* ---- scripts and data ------------------------------------------------- */

typedef struct {
    const char *title;
    const lenet_history *hist;  /* training curves, or */
    int k;                      /* a k x k confusion matrix */
    const long *conf;
    const char *const *names;   /* n_names class names (NULL: numbers) */
    int n_names;
    int svg;                    /* an SVG, not a PNG */
    const char *out, *data;     /* the paths the script names */
} plot;

/* s as a gnuplot string literal. tic: a tic label, which gnuplot reads as
 * a printf format, so % is doubled. */
static void put_str(FILE *f, const char *s, int tic) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\\' || *p == '"')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p < 0x20 || *p == 0x7f || *p == '`' || *p == '@' || *p == '$')
            fprintf(f, "\\%03o", *p);
        else if (*p == '%' && tic)
            fputs("%%", f);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* The terminal, w x h, and the output: an SVG on white, as the PNG is. */
static void terminal(FILE *f, const plot *p, int w, int h) {
    fprintf(f, "set terminal %s noenhanced size %d,%d font \"sans,10\"%s\nset output ",
            p->svg ? "svg" : "pngcairo", w, h, p->svg ? " background rgb \"white\"" : "");
    put_str(f, p->out, 0);
}

static int finish(FILE *f) {
    if (ferror(f)) {
        if (!errno)
            errno = EIO;
        return -1;
    }
    return 0;
}

static void put_value(FILE *f, double v) {
    if (v == v)
        fprintf(f, " %.6f", v);
    else
        fputs(" NaN", f); /* not scored: gnuplot leaves the point out */
}

/* A row per epoch; NaN where a set was not scored. */
static int history_data(FILE *f, void *ctx) {
    const plot *p = ctx;
    fputs("# epoch loss train_acc val_loss val_acc test_loss test_acc\n", f);
    for (int i = 0; i < p->hist->n; i++) {
        const lenet_scores *s = &p->hist->e[i].s;
        fprintf(f, "%d", p->hist->e[i].epoch);
        const double v[] = {s->loss, s->train_acc, s->val_loss, s->val_acc, s->test_loss,
                            s->test_acc};
        for (size_t j = 0; j < sizeof v / sizeof v[0]; j++)
            put_value(f, v[j]);
        fputc('\n', f);
    }
    return finish(f);
}

/* Whether column col (2..7 of the data) has a score in some epoch. */
static int scored(const lenet_history *h, int col) {
    for (int i = 0; i < h->n; i++) {
        const lenet_scores *s = &h->e[i].s;
        const double v[] = {s->loss, s->train_acc, s->val_loss, s->val_acc, s->test_loss,
                            s->test_acc};
        if (v[col - 2] == v[col - 2])
            return 1;
    }
    return 0;
}

/* One panel: train, validation and test of a measure (columns col, col + 2,
 * col + 4), those that were scored. */
static void curves(FILE *f, const plot *p, int col) {
    static const char *const set[] = {"train", "validation", "test"};
    static const char *const style[] = {"lw 2 pt 7 ps 0.5 lc rgb \"#1f77b4\"",
                                        "lw 2 pt 5 ps 0.5 lc rgb \"#ff7f0e\"",
                                        "lw 2 pt 9 ps 0.9 lc rgb \"#2ca02c\""};
    const char *sep = "plot ";
    for (int i = 0; i < 3; i++) {
        if (!scored(p->hist, col + 2 * i))
            continue;
        fputs(sep, f);
        if (*sep == 'p')
            put_str(f, p->data, 0);
        else
            fputs("\"\"", f);
        fprintf(f, " using 1:%d with linespoints %s title \"%s\"", col + 2 * i, style[i], set[i]);
        sep = ", \\\n     ";
    }
    fputc('\n', f);
}

/* Two panels, loss above accuracy, over this run's epochs. */
static int history_script(FILE *f, void *ctx) {
    const plot *p = ctx;
    const int first = p->hist->e[0].epoch, last = p->hist->e[p->hist->n - 1].epoch;
    int step = 1; /* at most a dozen tics: 1, 2, 5, 10, 20, 50, ... */
    for (int i = 1, scale = 1; (last - first) / step > 12; i++) {
        scale *= i % 3 == 0 ? 10 : 1;
        step = (i % 3 == 0 ? 1 : i % 3 == 1 ? 2 : 5) * scale;
    }
    fputs("# lenetc: loss and accuracy per epoch (gnuplot 5)\n", f);
    terminal(f, p, 960, 800);
    fputs("\nset multiplot layout 2,1 title ", f);
    put_str(f, p->title, 0);
    fprintf(f,
            " font \",12\"\n"
            "set grid\n"
            "set lmargin 10\n" /* the panels' epochs one above the other */
            "set xlabel \"epoch\"\n"
            "set xrange [%.1f:%.1f]\n"
            "set xtics %d\n"
            "set key top right\n"
            "set ylabel \"loss (cross-entropy, log scale)\"\n"
            "set logscale y\n",
            first - 0.5, last + 0.5, step);
    curves(f, p, 2);
    /* accuracy on a log scale of the error, 1 - accuracy (0.9, 0.99 and
     * 0.999 equally apart), so that the last epochs of a good model are
     * not a flat line at the top; the range set before the mapping, which
     * gnuplot checks against it */
    double lo_err = 1, hi_err = 1e-5; /* the least and most error scored */
    for (int i = 0; i < p->hist->n; i++) {
        const lenet_scores *s = &p->hist->e[i].s;
        const double acc[] = {s->train_acc, s->val_acc, s->test_acc};
        for (int j = 0; j < 3; j++)
            if (acc[j] == acc[j]) {
                const double e = 1 - acc[j] > 1e-5 ? 1 - acc[j] : 1e-5;
                lo_err = e < lo_err ? e : lo_err;
                hi_err = e > hi_err ? e : hi_err;
            }
    }
    fprintf(f,
            "unset logscale y\n"
            "set key bottom right\n"
            "set ylabel \"accuracy (log scale of the error)\"\n"
            "set yrange [%.9g:%.9g]\n"
            "set nonlinear y via -log10(1.000001 - y) inverse 1.000001 - 10**(-y)\n"
            "set ytics (\"0\" 0, \"0.2\" 0.2, \"0.5\" 0.5, \"0.8\" 0.8, \"0.9\" 0.9, \"0.95\" 0.95, "
            "\"0.98\" 0.98, \"0.99\" 0.99, \"0.995\" 0.995, \"0.998\" 0.998, "
            "\"0.999\" 0.999, \"0.9995\" 0.9995, \"0.9998\" 0.9998, \"0.9999\" 0.9999, "
            "\"0.99995\" 0.99995, \"0.99998\" 0.99998, \"0.99999\" 0.99999)\n",
            hi_err * 1.5 < 1 ? 1 - hi_err * 1.5 : 0, 1 - lo_err / 1.5);
    curves(f, p, 3);
    fputs("unset multiplot\n", f);
    return finish(f);
}

static long row_total(const plot *p, int c) {
    long n = 0;
    for (int j = 0; j < p->k; j++)
        n += p->conf[(size_t)c * p->k + j];
    return n;
}

/* A line per cell, a blank line after each true class (gnuplot's scans). */
static int confusion_data(FILE *f, void *ctx) {
    const plot *p = ctx;
    fputs("# true predicted count fraction_of_true_class\n", f);
    for (int c = 0; c < p->k; c++) {
        const long n = row_total(p, c);
        for (int j = 0; j < p->k; j++) {
            const long v = p->conf[(size_t)c * p->k + j];
            fprintf(f, "%d %d %ld %.6f\n", c, j, v, n ? (double)v / n : 0.0);
        }
        fputc('\n', f);
    }
    return finish(f);
}

/* The code point at *s (UTF-8), *s moved past it; -1 for a byte that
 * starts no UTF-8 character (*s moved past that byte). */
static long utf8_next(const unsigned char **s) {
    static const long least[] = {0, 0, 0x80, 0x800, 0x10000}; /* no overlong forms */
    const unsigned char *p = *s;
    int len = p[0] < 0x80 ? 1 : (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3
              : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
    long cp = p[0] & (0x7f >> len);
    for (int i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80) { /* the NUL at the end too */
            len = 0;
            break;
        }
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if (!len || cp < least[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) {
        *s = p + 1;
        return -1;
    }
    *s = p + len;
    return cp;
}

/* Characters in s, as a tic shows them (not bytes). */
static int utf8_length(const char *s) {
    int n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; n++)
        utf8_next(&p);
    return n;
}

/* Class c's tic label: its name, or its number (no name, or NULL). */
static void tics(FILE *f, const plot *p, const char *axis) {
    fprintf(f, "set %s (", axis);
    for (int c = 0; c < p->k; c++) {
        char num[16];
        snprintf(num, sizeof num, "%d", c);
        put_str(f, p->names && c < p->n_names && p->names[c] ? p->names[c] : num, 1);
        fprintf(f, " %d%s", c, c + 1 < p->k ? ", " : ")");
    }
}

/* Rows: true class (0 at the top, as eval prints it), columns: predicted;
 * the colour is the cell's fraction of its true class (so a class's errors
 * show whatever its size), the text its count. */
static int confusion_script(FILE *f, void *ctx) {
    const plot *p = ctx;
    const int K = p->k;
    int longest = 0;
    for (int c = 0; p->names && c < K && c < p->n_names; c++)
        if (p->names[c] && utf8_length(p->names[c]) > longest)
            longest = utf8_length(p->names[c]);
    const int side = K <= 10 ? 760 : K <= NAMED_TICS ? 760 + 24 * (K - 10) : 1480;
    fputs("# lenetc: confusion matrix (gnuplot 5)\n", f);
    terminal(f, p, side + 120, side);
    fputs("\nset title ", f);
    put_str(f, p->title, 0);
    fprintf(f,
            " font \",12\"\n"
            "set xlabel \"predicted class\"\n"
            "set ylabel \"true class\"\n"
            "set xrange [-0.5:%g]\n"
            "set yrange [%g:-0.5]\n"
            "set size ratio -1\n"
            "set tics scale 0\n",
            K - 0.5, K - 0.5);
    if (K <= NAMED_TICS) { /* every class named; beyond that gnuplot's own tics */
        tics(f, p, "xtics");
        fputs(longest > 2 ? " rotate by 40 right\n" : "\n", f);
        tics(f, p, "ytics");
        fputc('\n', f);
    }
    /* steep at the bottom: the few errors of a good model stay visible */
    fputs("set cbrange [0:1]\n"
          "set cblabel \"fraction of the true class's images\"\n"
          "set palette defined (0 \"#ffffff\", 0.02 \"#deebf7\", 0.1 \"#9ecae1\", "
          "0.5 \"#3182bd\", 1 \"#08306b\")\n"
          "unset key\n"
          "plot ",
          f);
    put_str(f, p->data, 0);
    fputs(" using 2:1:4 with image", f);
    if (K <= 20)
        fprintf(f, ", \\\n     \"\" using 2:1:($3 > 0 ? sprintf(\"%%d\", $3) : \"\"):"
                   "($4 > 0.4 ? 0xffffff : 0x000000) with labels tc rgb variable font \",%d\"",
                K <= 12 ? 10 : 8);
    fputc('\n', f);
    return finish(f);
}

/* ---- running gnuplot -------------------------------------------------- */

/* The last non-empty line gnuplot wrote to log (its error), into buf. */
static void last_line(const char *log, char *buf, size_t n) {
    buf[0] = '\0';
    FILE *f = fopen(log, "rb");
    if (!f)
        return;
    char text[4096];
    long size = (fseek(f, 0, SEEK_END) == 0) ? ftell(f) : 0;
    if (size > (long)sizeof text - 1)
        fseek(f, size - (long)sizeof text + 1, SEEK_SET);
    else
        rewind(f);
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    while (len && (text[len - 1] == '\n' || text[len - 1] == '\r' || text[len - 1] == ' '))
        len--;
    text[len] = '\0';
    const char *start = strrchr(text, '\n');
    snprintf(buf, n, "%.*s", (int)n - 1, start ? start + 1 : text);
}

/* Seconds a child may take. */
static double plot_timeout(void) {
    const char *t = getenv("LENETC_PLOT_TIMEOUT");
    return t && atof(t) > 0 ? atof(t) : PLOT_TIMEOUT;
}

/* Runs argv (argv[0] on PATH), its stdin /dev/null and its output in log,
 * killed after the timeout. 0 when it exited 0; else -1 and why, or, if it
 * could not start, the errno value in *not_run and nothing in why. */
static int run_child(char *const argv[], const char *log, int *not_run, char *why, size_t n) {
    const char *bin = argv[0];
    const double timeout = plot_timeout();
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    sigset_t none;
    sigemptyset(&none);
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_adddup2(&fa, 1, 2);
    posix_spawnattr_init(&at);
    /* its own process group, so a timeout kills whatever it started too */
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK);
    pid_t pid;
    int e = posix_spawnp(&pid, bin, &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    *not_run = e;
    if (e)
        return -1;
    int status = 0;
    const double start = lenet_seconds();
    for (long wait_ms = 1;; wait_ms = wait_ms < 8 ? wait_ms * 2 : 10) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        if (r < 0 && errno != EINTR) {
            snprintf(why, n, "%s: lost track of it: %s", bin, strerror(errno));
            return -1;
        }
        if (lenet_seconds() - start > timeout) {
            kill(-pid, SIGKILL);
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
                ;
            snprintf(why, n, "%s did not finish in %g s", bin, timeout);
            return -1;
        }
        struct timespec ts = {0, wait_ms * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    char said[256];
    last_line(log, said, sizeof said);
    if (WIFSIGNALED(status))
        snprintf(why, n, "%s was killed by signal %d", bin, WTERMSIG(status));
    else if (said[0])
        snprintf(why, n, "%s failed: %s", bin, said);
    else
        snprintf(why, n, "%s failed with exit status %d", bin, WEXITSTATUS(status));
    return -1;
}

/* Runs gnuplot (LENETC_GNUPLOT, else gnuplot on PATH) on script, its output
 * in log. 0 when it exited 0; else -1 and why. */
static int run_gnuplot(const char *script, const char *log, char *why, size_t n) {
    const char *env = getenv("LENETC_GNUPLOT");
    const char *bin = env && *env ? env : "gnuplot";
    char *argv[] = {(char *)bin, (char *)script, NULL};
    int e;
    if (run_child(argv, log, &e, why, n) == 0)
        return 0;
    if (e == ENOENT)
        snprintf(why, n, "%s%s not found (make deps installs gnuplot-nox)",
                 env && *env ? "LENETC_GNUPLOT=" : "", bin);
    else if (e)
        snprintf(why, n, "cannot run %s: %s", bin, strerror(e));
    return -1;
}

static int copy_file(FILE *f, void *ctx) {
    FILE *in = ctx;
    char buf[65536];
    size_t got;
    while ((got = fread(buf, 1, sizeof buf, in)) > 0)
        if (fwrite(buf, 1, got, f) != got)
            return -1;
    if (ferror(in)) {
        errno = EIO;
        return -1;
    }
    return 0;
}

/* out copied over dest if it is a PNG (an SVG): 0; 1 if not (why); -1 if
 * dest could not be written (err). */
static int install(const char *out, int svg, const char *dest, char *why, size_t n,
                   lenet_error *err) {
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    char head[8];
    FILE *in = fopen(out, "rb");
    const int got = in && fread(head, 1, 8, in) == 8;
    if (!got || (svg ? memcmp(head, "<?xml", 5) && memcmp(head, "<svg", 4)
                     : memcmp(head, sig, 8))) {
        if (in)
            fclose(in);
        snprintf(why, n, "gnuplot wrote no %s", svg ? "SVG" : "PNG");
        return 1;
    }
    rewind(in);
    int rc = lenet_write_atomic(dest, copy_file, in, err);
    fclose(in);
    return rc;
}

const char *const lenet_plot_suffixes[] = {".png", ".svg", NULL};

/* Whether path ends in suffix, in any case. */
static int ends_in(const char *path, const char *suffix) {
    const size_t len = strlen(path), n = strlen(suffix);
    return len > n && strcasecmp(path + len - n, suffix) == 0;
}

/* path with a .png or .svg suffix replaced by ext (or ext appended). */
static char *beside(const char *path, const char *ext) {
    size_t len = strlen(path);
    for (int i = 0; lenet_plot_suffixes[i]; i++)
        if (ends_in(path, lenet_plot_suffixes[i]))
            len -= strlen(lenet_plot_suffixes[i]);
    char *s = malloc(len + strlen(ext) + 1);
    if (s) {
        memcpy(s, path, len);
        strcpy(s + len, ext);
    }
    return s;
}

/* path made absolute through its directory (which must exist). */
static char *absolute(const char *path) {
    if (path[0] == '/')
        return strdup(path);
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
    char *real = dir ? realpath(dir, NULL) : NULL;
    const char *base = slash ? slash + 1 : path;
    char *abs = real ? malloc(strlen(real) + strlen(base) + 2) : NULL;
    if (abs)
        sprintf(abs, "%s%s%s", real, strcmp(real, "/") ? "/" : "", base);
    free(dir);
    free(real);
    return abs;
}

typedef int (*fill_fn)(FILE *f, void *ctx);

/* Draws p to dest through gnuplot, in a private directory: nothing of its
 * files is seen beside dest, and their paths hold no surprises. 0: drawn;
 * 1: not, and why; -1: dest could not be written (err). */
static int render(plot *p, const char *dest, fill_fn data, fill_fn script, char *why, size_t n,
                  lenet_error *err) {
    const char *tmp = getenv("TMPDIR");
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/lenetc-plot.XXXXXX", tmp && tmp[0] == '/' ? tmp : "/tmp");
    if (!mkdtemp(dir)) {
        snprintf(why, n, "%.200s: cannot make a temporary directory: %s", dir, strerror(errno));
        return 1;
    }
    char gp[PATH_MAX + 16], dat[PATH_MAX + 16], out[PATH_MAX + 16], log[PATH_MAX + 16];
    snprintf(gp, sizeof gp, "%s/plot.gp", dir);
    snprintf(dat, sizeof dat, "%s/plot.dat", dir);
    snprintf(out, sizeof out, "%s/plot.%s", dir, p->svg ? "svg" : "png");
    snprintf(log, sizeof log, "%s/gnuplot.log", dir);
    p->out = out;
    p->data = dat;
    lenet_error e2;
    int rc = 1;
    if (lenet_write_atomic(dat, data, p, &e2) || lenet_write_atomic(gp, script, p, &e2))
        snprintf(why, n, "%.*s", (int)n - 1, e2.msg);
    else if (run_gnuplot(gp, log, why, n) == 0)
        rc = install(out, p->svg, dest, why, n, err);
    unlink(gp);
    unlink(dat);
    unlink(out);
    unlink(log);
    rmdir(dir);
    return rc;
}

/* Draws p to dest; else writes its script and data beside dest. 0: drawn;
 * 1: not drawn, files written, err says so in one line; -1: err. */
static int draw(plot *p, const char *dest, fill_fn data, fill_fn script, lenet_error *err) {
    char why[400] = "";
    if (lenet_plot_check(dest, err))
        return -1;
    p->svg = ends_in(dest, ".svg");
    const int r = render(p, dest, data, script, why, sizeof why, err);
    if (r <= 0)
        return r;
    char *gp_path = beside(dest, ".gp"), *dat_path = beside(dest, ".dat");
    char *abs_out = absolute(dest), *abs_dat = dat_path ? absolute(dat_path) : NULL;
    int rc = -1;
    if (!gp_path || !dat_path || !abs_out || !abs_dat) {
        lenet_set_error(err, "%s: out of memory", dest);
        goto out;
    }
    p->out = abs_out;
    p->data = abs_dat;
    /* the data first: a script never names data that is not there */
    if (lenet_write_atomic(dat_path, data, p, err) || lenet_write_atomic(gp_path, script, p, err))
        goto out;
    lenet_set_error(err, "%s: wrote %s and %s instead; `gnuplot %s` draws %s", why, gp_path,
                    dat_path, gp_path, dest);
    rc = 1;
out:
    free(gp_path);
    free(dat_path);
    free(abs_out);
    free(abs_dat);
    return rc;
}

/* ---- fonts ------------------------------------------------------------ */

/* Which of the n code points cp[] some installed font has (have[i] set),
 * from the character sets fc-list prints ("20-7e a0-17f 192 ..." a font):
 * 0, or -1 if fontconfig could not say. */
static int fonts_have(const long *cp, int n, char *have) {
    const char *tmp = getenv("TMPDIR");
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/lenetc-fonts.XXXXXX", tmp && tmp[0] == '/' ? tmp : "/tmp");
    const int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    close(fd);
    char *argv[] = {"fc-list", "--format", "%{charset}\n", NULL};
    char why[256];
    int not_run;
    FILE *f = run_child(argv, path, &not_run, why, sizeof why) == 0 ? fopen(path, "r") : NULL;
    int rc = -1;
    if (f) {
        unsigned long lo, hi;
        while (fscanf(f, "%lx", &lo) == 1) {
            const int c = getc(f);
            hi = lo;
            if (c == '-' && fscanf(f, "%lx", &hi) != 1)
                break;
            for (int i = 0; i < n; i++)
                have[i] |= cp[i] >= 0 && (unsigned long)cp[i] >= lo && (unsigned long)cp[i] <= hi;
        }
        rc = feof(f) && !ferror(f) ? 0 : -1;
        fclose(f);
    }
    unlink(path);
    return rc;
}

/* Chinese, Japanese or Korean: what fonts-wqy-microhei draws. */
static int cjk(long cp) {
    return (cp >= 0x1100 && cp <= 0x11ff) || (cp >= 0x2e80 && cp <= 0x9fff) ||
           (cp >= 0xac00 && cp <= 0xd7af) || (cp >= 0xf900 && cp <= 0xfaff) ||
           (cp >= 0xfe30 && cp <= 0xfe4f) || (cp >= 0xff00 && cp <= 0xffef);
}

/* names[0..n) as a PNG at path can show them: a name with a character no
 * installed font has (cairo would draw a box), or not UTF-8, is NULL (its
 * number shows instead) and said on stderr. NULL: names as they are (all
 * ASCII, all drawn, or fontconfig cannot say); else free it. */
static const char **drawable(const char *path, const char *const *names, int n) {
    int m = 0; /* the characters outside ASCII, of all names */
    for (int c = 0; c < n; c++)
        for (const unsigned char *s = (const unsigned char *)names[c]; *s;) {
            const long u = utf8_next(&s);
            m += u >= 0x80 || u < 0;
        }
    if (!m)
        return NULL; /* no fc-list run for the names of most data sets */
    long *cp = malloc(sizeof *cp * (size_t)m);
    char *have = calloc((size_t)m, 1);
    const char **shown = malloc(sizeof *shown * (size_t)n);
    int j = 0;
    if (!cp || !have || !shown)
        goto fail;
    for (int c = 0; c < n; c++)
        for (const unsigned char *s = (const unsigned char *)names[c]; *s;) {
            const long u = utf8_next(&s);
            if (u >= 0x80 || u < 0)
                cp[j++] = u;
        }
    if (fonts_have(cp, m, have))
        goto fail;
    j = 0;
    for (int c = 0; c < n; c++) {
        char missing[64] = "";
        int utf8 = 1, any_cjk = 0, said = 0;
        shown[c] = names[c];
        for (const unsigned char *s = (const unsigned char *)names[c]; *s;) {
            const long u = utf8_next(&s);
            if (u < 0x80 && u >= 0)
                continue;
            utf8 &= u >= 0;
            if (!have[j++] && u >= 0 && said++ < 4) {
                const size_t len = strlen(missing);
                snprintf(missing + len, sizeof missing - len, "%sU+%04lX", len ? " " : "", u);
                any_cjk |= cjk(u);
            }
        }
        if (!utf8) {
            fprintf(stderr, "warning: %s: class %d's name is not UTF-8: labelled %d instead\n",
                    path, c, c);
            shown[c] = NULL;
        } else if (said) {
            fprintf(stderr, "warning: %s: no installed font has the characters of class %d's "
                    "name '%s' (%s%s): labelled %d instead; %s\n", path, c, names[c], missing,
                    said > 4 ? " ..." : "", c,
                    any_cjk ? "make deps installs a font that has them (fonts-wqy-microhei)"
                            : "install a font that has them");
            shown[c] = NULL;
        }
    }
    free(cp);
    free(have);
    return shown;
fail:
    free(cp);
    free(have);
    free(shown);
    return NULL;
}

/* ---- the entry points ------------------------------------------------- */

int lenet_plot_check(const char *path, lenet_error *err) {
    struct stat st;
    if (!path[0]) {
        lenet_set_error(err, "--plot needs a file name");
        return -1;
    }
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
        lenet_set_error(err, "%s: is a directory, not a file to draw into", path);
        return -1;
    }
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    int rc = 0;
    if (!dir) {
        lenet_set_error(err, "%s: out of memory", path);
        return -1;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        lenet_set_error(err, "%s: cannot write there: %s is not a directory", path, dir);
        rc = -1;
    } else if (access(dir, W_OK | X_OK) != 0) {
        lenet_set_error(err, "%s: cannot write there: %s", path, strerror(errno));
        rc = -1;
    }
    free(dir);
    return rc;
}

int lenet_plot_history(const char *path, const char *title, const lenet_history *h,
                       lenet_error *err) {
    if (h->n == 0) {
        lenet_set_error(err, "%s: no epoch was trained in this run: nothing to plot", path);
        return 1;
    }
    plot p = {.title = title, .hist = h};
    return draw(&p, path, history_data, history_script, err);
}

int lenet_plot_training(const char *path, const lenet_model *m, const lenet_hparams *hp,
                        int resumed, const lenet_history *h, lenet_error *err) {
    char title[512];
    int len = snprintf(title, sizeof title, "%s: loss and accuracy per epoch\n%s lr %g%s%s, batch %d, "
                       "seed %llu", m->name, lenet_optimizer_name(hp->optimizer), (double)hp->lr,
                       hp->schedule == LENET_CONSTANT ? "" : " ",
                       hp->schedule == LENET_CONSTANT ? "" : lenet_schedule_name(hp->schedule),
                       hp->batch, (unsigned long long)hp->seed);
    /* a resumed run knows only its own epochs, and says so */
    if (resumed && h->n && len > 0 && (size_t)len < sizeof title) {
        const int first = h->e[0].epoch, last = h->e[h->n - 1].epoch;
        if (first == last)
            snprintf(title + len, sizeof title - len, "; resumed: epoch %d", first);
        else
            snprintf(title + len, sizeof title - len, "; resumed: epochs %d-%d", first, last);
    }
    return lenet_plot_history(path, title, h, err);
}

int lenet_plot_confusion(const char *path, const char *title, int k, const long *conf,
                         const char *const *names, int n_names, lenet_error *err) {
    plot p = {.title = title, .k = k, .conf = conf, .names = names, .n_names = n_names};
    /* the names the tics show, in a PNG (an SVG's viewer has its own fonts) */
    const int named = names ? (n_names < k ? n_names : k) : 0;
    const char **shown = named && k <= NAMED_TICS && !ends_in(path, ".svg") &&
                                 !lenet_plot_check(path, err)
                             ? drawable(path, names, named)
                             : NULL;
    if (shown)
        p.names = shown;
    const int rc = draw(&p, path, confusion_data, confusion_script, err);
    free(shown);
    return rc;
}
