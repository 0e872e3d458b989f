/* plot.c: pictures of a run, drawn by gnuplot's pngcairo terminal: the
 * loss and accuracy per epoch of a training run (--plot on `lenetc train`
 * and emitted trainers) and the confusion matrix of `lenetc eval --plot` as
 * a heat map.
 *
 * The data and a gnuplot script go to a private temp directory, gnuplot runs
 * on them as a child (posix_spawn, no shell; stdin is /dev/null so it cannot
 * wait on it; killed after a timeout), and its PNG is copied over FILE
 * atomically. Without gnuplot, or when it fails, the script and data are
 * written beside FILE instead (FILE.gp, FILE.dat; a .png suffix dropped),
 * naming FILE and the data by absolute paths, for `gnuplot FILE.gp` later.
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

#include "lenet.h"

extern char **environ;

#define PLOT_TIMEOUT 60 /* seconds gnuplot may take (LENETC_PLOT_TIMEOUT) */

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
    const char *png, *data;     /* the paths the script names */
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
    fputs("# lenetc: loss and accuracy per epoch (gnuplot 5)\n"
          "set terminal pngcairo noenhanced size 960,800 font \"sans,10\"\n"
          "set output ",
          f);
    put_str(f, p->png, 0);
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

/* Class c's tic label: its name, or its number. */
static void tics(FILE *f, const plot *p, const char *axis) {
    fprintf(f, "set %s (", axis);
    for (int c = 0; c < p->k; c++) {
        char num[16];
        snprintf(num, sizeof num, "%d", c);
        put_str(f, p->names && c < p->n_names ? p->names[c] : num, 1);
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
        longest = (int)strlen(p->names[c]) > longest ? (int)strlen(p->names[c]) : longest;
    const int side = K <= 10 ? 760 : K <= 40 ? 760 + 24 * (K - 10) : 1480;
    fprintf(f,
            "# lenetc: confusion matrix (gnuplot 5)\n"
            "set terminal pngcairo noenhanced size %d,%d font \"sans,10\"\n"
            "set output ",
            side + 120, side);
    put_str(f, p->png, 0);
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
    if (K <= 40) { /* every class named; beyond that gnuplot's own tics */
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

/* Runs gnuplot (LENETC_GNUPLOT, else gnuplot on PATH) on script, its stdin
 * /dev/null and its output in log. 0 when it exited 0; else -1 and why. */
static int run_gnuplot(const char *script, const char *log, char *why, size_t n) {
    const char *env = getenv("LENETC_GNUPLOT");
    const char *bin = env && *env ? env : "gnuplot";
    const char *t = getenv("LENETC_PLOT_TIMEOUT");
    const double timeout = t && atof(t) > 0 ? atof(t) : PLOT_TIMEOUT;
    char *argv[] = {(char *)bin, (char *)script, NULL};
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
    if (e) {
        if (e == ENOENT)
            snprintf(why, n, "%s%s not found (make deps installs gnuplot-nox)",
                     env && *env ? "LENETC_GNUPLOT=" : "", bin);
        else
            snprintf(why, n, "cannot run %s: %s", bin, strerror(e));
        return -1;
    }
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

/* png copied over dest if it is a PNG: 0; 1 if not (why); -1 if dest
 * could not be written (err). */
static int install_png(const char *png, const char *dest, char *why, size_t n,
                       lenet_error *err) {
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    unsigned char head[8];
    FILE *in = fopen(png, "rb");
    if (!in || fread(head, 1, 8, in) != 8 || memcmp(head, sig, 8) != 0) {
        if (in)
            fclose(in);
        snprintf(why, n, "gnuplot wrote no PNG");
        return 1;
    }
    rewind(in);
    int rc = lenet_write_atomic(dest, copy_file, in, err);
    fclose(in);
    return rc;
}

/* path with a .png suffix replaced by ext (or ext appended). */
static char *beside(const char *path, const char *ext) {
    size_t len = strlen(path);
    if (len > 4 && strcasecmp(path + len - 4, ".png") == 0)
        len -= 4;
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
    char gp[PATH_MAX + 16], dat[PATH_MAX + 16], png[PATH_MAX + 16], log[PATH_MAX + 16];
    snprintf(gp, sizeof gp, "%s/plot.gp", dir);
    snprintf(dat, sizeof dat, "%s/plot.dat", dir);
    snprintf(png, sizeof png, "%s/plot.png", dir);
    snprintf(log, sizeof log, "%s/gnuplot.log", dir);
    p->png = png;
    p->data = dat;
    lenet_error e2;
    int rc = 1;
    if (lenet_write_atomic(dat, data, p, &e2) || lenet_write_atomic(gp, script, p, &e2))
        snprintf(why, n, "%.*s", (int)n - 1, e2.msg);
    else if (run_gnuplot(gp, log, why, n) == 0)
        rc = install_png(png, dest, why, n, err);
    unlink(gp);
    unlink(dat);
    unlink(png);
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
    const int r = render(p, dest, data, script, why, sizeof why, err);
    if (r <= 0)
        return r;
    char *gp_path = beside(dest, ".gp"), *dat_path = beside(dest, ".dat");
    char *abs_png = absolute(dest), *abs_dat = dat_path ? absolute(dat_path) : NULL;
    int rc = -1;
    if (!gp_path || !dat_path || !abs_png || !abs_dat) {
        lenet_set_error(err, "%s: out of memory", dest);
        goto out;
    }
    p->png = abs_png;
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
    free(abs_png);
    free(abs_dat);
    return rc;
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

int lenet_plot_training(const char *path, const lenet_model *m, const lenet_train_options *o,
                        const lenet_history *h, lenet_error *err) {
    char title[512];
    const lenet_hparams *hp = &o->h;
    int len = snprintf(title, sizeof title, "%s: loss and accuracy per epoch\n%s lr %g%s, batch %d, "
                       "seed %llu", m->name, lenet_optimizer_name(hp->optimizer), (double)hp->lr,
                       hp->schedule == LENET_CONSTANT ? ""
                       : hp->schedule == LENET_COSINE ? " cosine" : " step",
                       hp->batch, (unsigned long long)hp->seed);
    /* a resumed run knows only its own epochs, and says so */
    if (o->resume_path && h->n && len > 0 && (size_t)len < sizeof title) {
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
    return draw(&p, path, confusion_data, confusion_script, err);
}
