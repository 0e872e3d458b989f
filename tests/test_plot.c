/* test_plot.c: --plot (runtime/app/plot.c): the gnuplot script and data written
 * for a given history or confusion matrix, byte for byte; the PNG gnuplot
 * draws from them (when gnuplot is installed); what happens without
 * gnuplot, with one that fails or hangs; paths no script can be broken by;
 * and train, eval and an emitted trainer with --plot (slow: they train).
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lenetc.h"
#include "tests.h"

/* A scratch directory of the test's own, absolute (as the fallback script
 * names its files), emptied. */
static const char *scratch(const char *name) {
    static char dir[PATH_MAX];
    char rel[512], cmd[PATH_MAX + 32];
    snprintf(rel, sizeof rel, "%s/plot_%s", test_tmpdir(), name);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", rel);
    ck_assert(system(cmd) == 0);
    ck_assert(mkdir(rel, 0777) == 0);
    ck_assert(realpath(rel, dir) != NULL);
    return dir;
}

static char *slurp(const char *path, size_t *len) {
    Diag d = {.file = path};
    char *s = read_file(path, 1 << 24, len, &d);
    ck_assert_msg(s != NULL, "%s", d.msg);
    return s;
}

static void assert_text(const char *path, const char *want) {
    size_t len;
    char *got = slurp(path, &len);
    ck_assert_msg(len == strlen(want) && memcmp(got, want, len) == 0,
                  "%s:\n--- expected:\n%s--- got:\n%.*s--- end", path, want, (int)len, got);
    free(got);
}

static int exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* Entries in dir, . and .. aside. */
static int entries(const char *dir) {
    DIR *d = opendir(dir);
    ck_assert(d != NULL);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
    closedir(d);
    return n;
}

static int have_gnuplot(void) {
    const int yes = system("command -v gnuplot > /dev/null 2>&1") == 0;
    if (!yes)
        printf("test_plot: skipped the PNG checks: gnuplot is not installed (make deps)\n");
    return yes;
}

/* Three epochs with a validation set, the test set scored at the last. */
static lenet_history history(void) {
    lenet_history h = {0};
    const lenet_scores s[] = {
        {0.5, 0.8, 0.4, 0.85, NAN, NAN},
        {0.3, 0.9, 0.35, 0.875, NAN, NAN},
        {0.25, 0.925, 0.3, 0.9, 0.28, 0.9125},
    };
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(lenet_history_add(&h, i + 1, &s[i]), 0);
    return h;
}

static const char history_dat[] =
    "# epoch loss train_acc val_loss val_acc test_loss test_acc\n"
    "1 0.500000 0.800000 0.400000 0.850000 NaN NaN\n"
    "2 0.300000 0.900000 0.350000 0.875000 NaN NaN\n"
    "3 0.250000 0.925000 0.300000 0.900000 0.280000 0.912500\n";

/* The script, for a PNG and data at dir/name.png and dir/name.dat. */
static char *history_gp(const char *dir, const char *name) {
    char *s;
    ck_assert(asprintf(&s,
             "# lenetc: loss and accuracy per epoch (gnuplot 5)\n"
             "set terminal pngcairo noenhanced size 960,800 font \"sans,10\"\n"
             "set output \"%s/%s.png\"\n"
             "set multiplot layout 2,1 title \"net \\\"q\\\" \\140id\\140 \\044HOME \\100m 5%%"
             "\\nsecond line\" font \",12\"\n"
             "set grid\n"
             "set lmargin 10\n"
             "set xlabel \"epoch\"\n"
             "set xrange [0.5:3.5]\n"
             "set xtics 1\n"
             "set key top right\n"
             "set ylabel \"loss (cross-entropy, log scale)\"\n"
             "set logscale y\n"
             "plot \"%s/%s.dat\" using 1:2 with linespoints lw 2 pt 7 ps 0.5 lc rgb \"#1f77b4\" "
             "title \"train\", \\\n"
             "     \"\" using 1:4 with linespoints lw 2 pt 5 ps 0.5 lc rgb \"#ff7f0e\" "
             "title \"validation\", \\\n"
             "     \"\" using 1:6 with linespoints lw 2 pt 9 ps 0.9 lc rgb \"#2ca02c\" "
             "title \"test\"\n"
             "unset logscale y\n"
             "set key bottom right\n"
             "set ylabel \"accuracy (log scale of the error)\"\n"
             "set yrange [0.7:0.95]\n"
             "set nonlinear y via -log10(1.000001 - y) inverse 1.000001 - 10**(-y)\n"
             "set ytics (\"0\" 0, \"0.2\" 0.2, \"0.5\" 0.5, \"0.8\" 0.8, \"0.9\" 0.9, "
             "\"0.95\" 0.95, \"0.98\" 0.98, \"0.99\" 0.99, \"0.995\" 0.995, "
             "\"0.998\" 0.998, \"0.999\" 0.999, \"0.9995\" 0.9995, \"0.9998\" 0.9998, "
             "\"0.9999\" 0.9999, \"0.99995\" 0.99995, \"0.99998\" 0.99998, "
             "\"0.99999\" 0.99999)\n"
             "plot \"%s/%s.dat\" using 1:3 with linespoints lw 2 pt 7 ps 0.5 lc rgb \"#1f77b4\" "
             "title \"train\", \\\n"
             "     \"\" using 1:5 with linespoints lw 2 pt 5 ps 0.5 lc rgb \"#ff7f0e\" "
             "title \"validation\", \\\n"
             "     \"\" using 1:7 with linespoints lw 2 pt 9 ps 0.9 lc rgb \"#2ca02c\" "
             "title \"test\"\n"
             "unset multiplot\n",
             dir, name, dir, name, dir, name) > 0);
    return s;
}

static const char *const TITLE = "net \"q\" `id` $HOME @m 5%\nsecond line";

/* Without gnuplot (LENETC_GNUPLOT names none): a one-line message, the
 * script and data beside the PNG's path, exactly as expected, no PNG. */
START_TEST(test_history_without_gnuplot) {
    const char *dir = scratch("nognuplot");
    char path[PATH_MAX + 32], gp[PATH_MAX + 32], dat[PATH_MAX + 32], msg[4 * PATH_MAX + 256];
    snprintf(path, sizeof path, "%s/curves.png", dir);
    snprintf(gp, sizeof gp, "%s/curves.gp", dir);
    snprintf(dat, sizeof dat, "%s/curves.dat", dir);
    setenv("LENETC_GNUPLOT", "/nonexistent/gnuplot", 1);
    lenet_history h = history();
    lenet_error err = {{0}};
    ck_assert_int_eq(lenet_plot_history(path, TITLE, &h, &err), 1);
    snprintf(msg, sizeof msg, "LENETC_GNUPLOT=/nonexistent/gnuplot not found (make deps installs "
             "gnuplot-nox): wrote %s and %s instead; `gnuplot %s` draws %s", gp, dat, gp, path);
    ck_assert_str_eq(err.msg, msg);
    ck_assert(!exists(path));
    assert_text(dat, history_dat);
    char *want = history_gp(dir, "curves");
    assert_text(gp, want);
    free(want);

    /* a name without .png gets .gp and .dat added; the sets never scored
     * are left out of the script */
    snprintf(path, sizeof path, "%s/run2", dir);
    snprintf(gp, sizeof gp, "%s/run2.gp", dir);
    for (int i = 0; i < h.n; i++)
        h.e[i].s.val_loss = h.e[i].s.val_acc = NAN;
    ck_assert_int_eq(lenet_plot_history(path, "t", &h, &err), 1);
    size_t len;
    char *s = slurp(gp, &len);
    ck_assert_msg(!strstr(s, "validation") && strstr(s, "title \"test\"") &&
                  strstr(s, "using 1:7 "), "%s", s);
    free(s);
    lenet_history_free(&h);
    unsetenv("LENETC_GNUPLOT");
}
END_TEST

/* A 3x3 matrix with names that are gnuplot syntax: tic labels are formats
 * to gnuplot, so % doubles; a class past the names gets its number. */
START_TEST(test_confusion_without_gnuplot) {
    const char *dir = scratch("confusion");
    char path[PATH_MAX + 32], want[8192];
    snprintf(path, sizeof path, "%s/conf.png", dir);
    setenv("LENETC_GNUPLOT", "/nonexistent", 1);
    const long conf[9] = {90, 10, 0, 5, 95, 0, 0, 0, 0};
    const char *const names[] = {"100%", "a\"b`c"};
    lenet_error err;
    ck_assert_int_eq(lenet_plot_confusion(path, "m with w: 0.9", 3, conf, names, 2, &err), 1);
    snprintf(path, sizeof path, "%s/conf.dat", dir);
    assert_text(path, "# true predicted count fraction_of_true_class\n"
                      "0 0 90 0.900000\n0 1 10 0.100000\n0 2 0 0.000000\n\n"
                      "1 0 5 0.050000\n1 1 95 0.950000\n1 2 0 0.000000\n\n"
                      "2 0 0 0.000000\n2 1 0 0.000000\n2 2 0 0.000000\n\n");
    snprintf(want, sizeof want,
             "# lenetc: confusion matrix (gnuplot 5)\n"
             "set terminal pngcairo noenhanced size 880,760 font \"sans,10\"\n"
             "set output \"%s/conf.png\"\n"
             "set title \"m with w: 0.9\" font \",12\"\n"
             "set xlabel \"predicted class\"\n"
             "set ylabel \"true class\"\n"
             "set xrange [-0.5:2.5]\n"
             "set yrange [2.5:-0.5]\n"
             "set size ratio -1\n"
             "set tics scale 0\n"
             "set xtics (\"100%%%%\" 0, \"a\\\"b\\140c\" 1, \"2\" 2) rotate by 40 right\n"
             "set ytics (\"100%%%%\" 0, \"a\\\"b\\140c\" 1, \"2\" 2)\n"
             "set cbrange [0:1]\n"
             "set cblabel \"fraction of the true class's images\"\n"
             "set palette defined (0 \"#ffffff\", 0.02 \"#deebf7\", 0.1 \"#9ecae1\", "
             "0.5 \"#3182bd\", 1 \"#08306b\")\n"
             "unset key\n"
             "plot \"%s/conf.dat\" using 2:1:4 with image, \\\n"
             "     \"\" using 2:1:($3 > 0 ? sprintf(\"%%d\", $3) : \"\"):($4 > 0.4 ? 0xffffff : "
             "0x000000) with labels tc rgb variable font \",10\"\n",
             dir, dir);
    snprintf(path, sizeof path, "%s/conf.gp", dir);
    assert_text(path, want);
    unsetenv("LENETC_GNUPLOT");
}
END_TEST

/* The PNG's pixels (RGB), its size in *w x *h. */
static unsigned char *read_png(const char *path, int *w, int *h) {
    png_image img = {.version = PNG_IMAGE_VERSION};
    ck_assert_msg(png_image_begin_read_from_file(&img, path), "%s: %s", path, img.message);
    img.format = PNG_FORMAT_RGB;
    unsigned char *px = malloc(PNG_IMAGE_SIZE(img));
    ck_assert(px && png_image_finish_read(&img, NULL, px, 0, NULL));
    *w = (int)img.width;
    *h = (int)img.height;
    return px;
}

/* Pixels of exactly the colour rgb (0xRRGGBB). */
static long count_colour(const unsigned char *px, int w, int h, unsigned rgb) {
    long n = 0;
    for (long i = 0; i < (long)w * h; i++)
        n += px[3 * i] == (rgb >> 16) && px[3 * i + 1] == ((rgb >> 8) & 255) &&
             px[3 * i + 2] == (rgb & 255);
    return n;
}

/* A file that starts with PNG's signature, of a sensible size. */
static void assert_png(const char *path, long lo, long hi) {
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    size_t len;
    char *s = slurp(path, &len);
    ck_assert_msg(len >= 8 && memcmp(s, sig, 8) == 0, "%s is not a PNG", path);
    ck_assert_msg((long)len > lo && (long)len < hi, "%s: %zu bytes", path, len);
    free(s);
}

/* With gnuplot: the PNG at the path, 960x800, each set's curve in its
 * colour; nothing left beside it or in TMPDIR. */
START_TEST(test_history_png) {
    if (!have_gnuplot())
        return;
    const char *dir = scratch("png");
    char path[PATH_MAX + 32], tmp[PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s/tmp", dir);
    ck_assert(mkdir(tmp, 0777) == 0);
    setenv("TMPDIR", tmp, 1);
    snprintf(path, sizeof path, "%s/curves.png", dir);
    lenet_history h = history();
    lenet_error err = {{0}};
    ck_assert_msg(lenet_plot_history(path, TITLE, &h, &err) == 0, "%s", err.msg);
    assert_png(path, 10000, 2000000);
    int w, ht;
    unsigned char *px = read_png(path, &w, &ht);
    ck_assert_int_eq(w, 960);
    ck_assert_int_eq(ht, 800);
    const unsigned colours[] = {0x1f77b4, 0xff7f0e, 0x2ca02c};
    for (int i = 0; i < 3; i++)
        ck_assert_msg(count_colour(px, w, ht, colours[i]) > 40, "colour %06x: %ld pixels",
                      colours[i], count_colour(px, w, ht, colours[i]));
    free(px);
    /* only the PNG: no script, data or temp files anywhere */
    ck_assert_int_eq(entries(dir), 2);
    ck_assert_int_eq(entries(tmp), 0);

    /* without validation scores: no orange */
    for (int i = 0; i < h.n; i++)
        h.e[i].s.val_loss = h.e[i].s.val_acc = NAN;
    ck_assert_msg(lenet_plot_history(path, "t", &h, &err) == 0, "%s", err.msg);
    px = read_png(path, &w, &ht);
    ck_assert_int_eq(count_colour(px, w, ht, 0xff7f0e), 0);
    ck_assert(count_colour(px, w, ht, 0x2ca02c) > 10);
    free(px);
    lenet_history_free(&h);
    unsetenv("TMPDIR");
}
END_TEST

/* The heat map: dark cells where the matrix is (its diagonal), white where
 * it is empty. */
START_TEST(test_confusion_png) {
    if (!have_gnuplot())
        return;
    const char *dir = scratch("conf_png");
    char path[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/conf.png", dir);
    const long conf[16] = {100, 0, 0, 0, 0, 100, 0, 0, 0, 0, 100, 0, 0, 0, 0, 100};
    lenet_error err;
    ck_assert_msg(lenet_plot_confusion(path, "diagonal", 4, conf, NULL, 0, &err) == 0, "%s",
                  err.msg);
    assert_png(path, 5000, 2000000);
    int w, h;
    unsigned char *px = read_png(path, &w, &h);
    ck_assert_int_eq(w, 880);
    ck_assert_int_eq(h, 760);
    /* four dark cells of 1/16 of the square plot each, the colour bar's top */
    const long dark = count_colour(px, w, h, 0x08306b);
    ck_assert_msg(dark > (long)w * h / 20, "%ld dark pixels", dark);
    free(px);
    /* nothing on the diagonal: far fewer */
    const long off[16] = {0, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    ck_assert_msg(lenet_plot_confusion(path, "one cell", 4, off, NULL, 0, &err) == 0, "%s",
                  err.msg);
    px = read_png(path, &w, &h);
    const long one = count_colour(px, w, h, 0x08306b);
    ck_assert_msg(one > 0 && one < dark / 2, "%ld dark pixels, %ld with four cells", one, dark);
    free(px);
}
END_TEST

/* stderr of plotting names into path's stderr file: the warnings. */
static int confusion_warnings(const char *path, const char *const *names, int k, char *out,
                              size_t n) {
    char log[PATH_MAX + 8];
    snprintf(log, sizeof log, "%s.err", path);
    fflush(stderr);
    const int saved = dup(2), fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ck_assert(saved >= 0 && fd >= 0 && dup2(fd, 2) == 2);
    long conf[16] = {0};
    for (int c = 0; c < k; c++)
        conf[c * k + c] = 10;
    lenet_error err;
    const int rc = lenet_plot_confusion(path, "names", k, conf, names, k, &err);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);
    size_t len;
    char *text = slurp(log, &len);
    snprintf(out, n, "%s", text);
    free(text);
    ck_assert_msg(rc == 0, "%s", err.msg);
    return rc;
}

/* An SVG for FILE.svg (gnuplot's svg terminal), not a PNG under that name;
 * a CJK class name is drawn (make deps installs a font that has it); a
 * name no installed font has is labelled by its number, with a warning
 * naming the class and its characters. */
START_TEST(test_svg_and_fonts) {
    if (!have_gnuplot())
        return;
    const char *dir = scratch("svg_fonts");
    char path[PATH_MAX + 32], said[4096];
    snprintf(path, sizeof path, "%s/conf.svg", dir);
    static const char *const cjk[] = {"\xe4\xb8\xad\xe6\x96\x87", "b"}; /* 中文 */
    confusion_warnings(path, cjk, 2, said, sizeof said);
    size_t len;
    char *svg = slurp(path, &len);
    ck_assert_msg(strstr(svg, "<svg") && !memchr(svg, 0x89, 4), "%.64s", svg);
    ck_assert_msg(strstr(svg, "\xe4\xb8\xad\xe6\x96\x87"), "the SVG names the class");
    free(svg);
    snprintf(path, sizeof path, "%s/conf.png", dir);
    confusion_warnings(path, cjk, 2, said, sizeof said);
    ck_assert_msg(!strstr(said, "no installed font"), "%s", said);
    assert_png(path, 5000, 2000000);
    /* U+10FFFD, private use: no font has it */
    static const char *const none[] = {"a", "x\xf4\x8f\xbf\xbd"};
    confusion_warnings(path, none, 2, said, sizeof said);
    ck_assert_msg(strstr(said, "no installed font has the characters of class 1's name") &&
                      strstr(said, "U+10FFFD") && strstr(said, "labelled 1 instead"),
                  "%s", said);
    assert_png(path, 5000, 2000000);
}
END_TEST

/* --plot takes a .png or .svg name (any case); another is refused at once. */
START_TEST(test_plot_suffix) {
    static char out[4096];
    ck_assert_int_eq(run("./lenetc train models/lenet5.yaml --plot c.pdf", out, sizeof out), 2);
    ck_assert_str_eq(out, "lenetc train SPEC.yaml: --plot takes a file name ending in .png or "
                          ".svg, not 'c.pdf'\ntry 'lenetc train --help'\n");
    ck_assert_int_eq(run("./lenetc eval models/lenet5.yaml --weights w --plot c", out,
                         sizeof out), 2);
    ck_assert_msg(strstr(out, "--plot takes a file name ending in .png or .svg, not 'c'"), "%s",
                  out);
}
END_TEST

/* A directory name of everything a script could be broken by: quotes,
 * backquotes, $(...), @macros, % formats, a backslash, a newline. gnuplot
 * draws into it and runs nothing, directly and from the fallback script. */
START_TEST(test_hostile_paths) {
    if (!have_gnuplot())
        return;
    const char *base = scratch("hostile");
    char dir[PATH_MAX], path[PATH_MAX + 32], gp[PATH_MAX + 32];
    snprintf(dir, sizeof dir, "%s/a 'b\" `touch plot_pwned1` $(touch plot_pwned2) @x %%d \\ \n"
             "\\n\"; print 1", base);
    ck_assert(mkdir(dir, 0777) == 0);
    unlink("plot_pwned1");
    unlink("plot_pwned2");
    lenet_history h = history();
    lenet_error err = {{0}};
    snprintf(path, sizeof path, "%s/c'\"`touch plot_pwned1`.png", dir);
    ck_assert_msg(lenet_plot_history(path, path, &h, &err) == 0, "%s", err.msg);
    assert_png(path, 10000, 2000000);
    const long conf[4] = {1, 2, 3, 4};
    const char *const names[] = {"`touch plot_pwned1`", "\"; set output \"x"};
    snprintf(path, sizeof path, "%s/m.png", dir);
    ck_assert_msg(lenet_plot_confusion(path, path, 2, conf, names, 2, &err) == 0, "%s", err.msg);
    assert_png(path, 5000, 2000000);
    ck_assert_msg(!exists("plot_pwned1") && !exists("plot_pwned2"), "a path ran a command");

    /* the fallback scripts, run later by gnuplot itself: no word from it */
    setenv("LENETC_GNUPLOT", "/nonexistent", 1);
    snprintf(path, sizeof path, "%s/later.png", dir);
    ck_assert_int_eq(lenet_plot_history(path, "later", &h, &err), 1);
    snprintf(path, sizeof path, "%s/later_m.png", dir);
    ck_assert_int_eq(lenet_plot_confusion(path, "later", 2, conf, names, 2, &err), 1);
    unsetenv("LENETC_GNUPLOT");
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/later%s.png", dir, i ? "_m" : "");
        snprintf(gp, sizeof gp, "%s/later%s.gp", dir, i ? "_m" : "");
        ck_assert(!exists(path));
        char said[PATH_MAX + 32];
        snprintf(said, sizeof said, "%s/gnuplot.err", base);
        pid_t pid = fork();
        if (pid == 0) {
            int fd = open(said, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(fd, 1);
            dup2(fd, 2);
            execlp("gnuplot", "gnuplot", gp, (char *)NULL);
            _exit(127);
        }
        int st;
        ck_assert(waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0);
        size_t len;
        char *text = slurp(said, &len);
        ck_assert_msg(len == 0, "gnuplot %s said: %s", gp, text);
        free(text);
        assert_png(path, 5000, 2000000);
    }
    ck_assert_msg(!exists("plot_pwned1") && !exists("plot_pwned2"), "a path ran a command");
    ck_assert_int_eq(entries(dir), 8); /* the two PNGs, and the later ones */
    lenet_history_free(&h);
}
END_TEST

/* A fake gnuplot (a shell script in dir) with body. */
static void fake_gnuplot(const char *dir, const char *body, char *bin, size_t n) {
    snprintf(bin, n, "%s/fake-gnuplot", dir);
    FILE *f = fopen(bin, "w");
    ck_assert(f != NULL);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    ck_assert(chmod(bin, 0755) == 0);
}

/* A gnuplot that fails: its last line said, the files written for later;
 * one that exits 0 without a PNG; one that waits on its stdin (which is
 * /dev/null); one that hangs: killed at the timeout. No PNG from any. */
START_TEST(test_gnuplot_fails_or_hangs) {
    const char *dir = scratch("fails");
    char bin[PATH_MAX + 32], path[PATH_MAX + 32], gp[PATH_MAX + 32];
    snprintf(path, sizeof path, "%s/p.png", dir);
    snprintf(gp, sizeof gp, "%s/p.gp", dir);
    lenet_history h = history();
    lenet_error err;
    fake_gnuplot(dir, "echo 'line 1: first'; echo; echo '\"x.gp\" line 7: no such terminal' >&2; "
                 "exit 3", bin, sizeof bin);
    setenv("LENETC_GNUPLOT", bin, 1);
    ck_assert_int_eq(lenet_plot_history(path, "t", &h, &err), 1);
    ck_assert_msg(strstr(err.msg, "/fake-gnuplot failed: \"x.gp\" line 7: no such terminal: "
                         "wrote ") && !strchr(err.msg, '\n'), "%s", err.msg);
    ck_assert(exists(gp) && !exists(path));
    unlink(gp);

    fake_gnuplot(dir, "exit 0", bin, sizeof bin);
    ck_assert_int_eq(lenet_plot_history(path, "t", &h, &err), 1);
    ck_assert_msg(strncmp(err.msg, "gnuplot wrote no PNG: wrote ", 28) == 0, "%s", err.msg);
    ck_assert(exists(gp) && !exists(path));

    fake_gnuplot(dir, "cat > /dev/null; exit 4", bin, sizeof bin);
    double t0 = lenet_seconds();
    ck_assert_int_eq(lenet_plot_history(path, "t", &h, &err), 1);
    ck_assert_msg(strstr(err.msg, "failed with exit status 4"), "%s", err.msg);
    ck_assert(lenet_seconds() - t0 < 5);

    fake_gnuplot(dir, "sleep 30", bin, sizeof bin);
    setenv("LENETC_PLOT_TIMEOUT", "0.1", 1);
    t0 = lenet_seconds();
    ck_assert_int_eq(lenet_plot_history(path, "t", &h, &err), 1);
    ck_assert_msg(lenet_seconds() - t0 < 3, "took %.1f s", lenet_seconds() - t0);
    ck_assert_msg(strstr(err.msg, "/fake-gnuplot did not finish in 0.1 s: wrote "), "%s", err.msg);
    ck_assert(!exists(path));
    unsetenv("LENETC_PLOT_TIMEOUT");
    unsetenv("LENETC_GNUPLOT");

    /* nothing to plot: said, nothing written */
    lenet_history none = {0};
    snprintf(path, sizeof path, "%s/none.png", dir);
    ck_assert_int_eq(lenet_plot_history(path, "t", &none, &err), 1);
    ck_assert_msg(strstr(err.msg, "no epoch was trained in this run"), "%s", err.msg);
    snprintf(gp, sizeof gp, "%s/none.gp", dir);
    ck_assert(!exists(path) && !exists(gp));
    lenet_history_free(&h);
}
END_TEST

/* Where a plot cannot go: said before any work, naming the path. */
START_TEST(test_plot_check) {
    const char *dir = scratch("check");
    char path[PATH_MAX + 32];
    lenet_error err;
    snprintf(path, sizeof path, "%s/no/such/dir/p.png", dir);
    ck_assert_int_eq(lenet_plot_check(path, &err), -1);
    ck_assert_msg(strstr(err.msg, "p.png: cannot write there: ") &&
                  strstr(err.msg, "/no/such/dir is not a directory"), "%s", err.msg);
    ck_assert_int_eq(lenet_plot_check(dir, &err), -1);
    ck_assert_msg(strstr(err.msg, ": is a directory, not a file to draw into"), "%s", err.msg);
    ck_assert_int_eq(lenet_plot_check("", &err), -1);
    snprintf(path, sizeof path, "%s/p.png", dir);
    ck_assert_int_eq(lenet_plot_check(path, &err), 0);
    ck_assert_int_eq(lenet_plot_check("p.png", &err), 0);
    lenet_history h = history();
    snprintf(path, sizeof path, "%s/no/p.png", dir);
    ck_assert_int_eq(lenet_plot_history(path, "t", &h, &err), -1);
    lenet_history_free(&h);
}
END_TEST

/* ---- the commands (slow: they train on MNIST) ------------------------ */

#define TINY "./lenetc train tests/models/mnist_tiny.yaml --limit 512 --threads 1 --val 128"

/* lenetc train --plot: the epochs' scores as the epoch lines print them;
 * resumed, only this run's epochs, and the title says so; eval --plot; an
 * unwritable --plot fails before training. */
START_TEST(test_train_eval_plot) {
    const char *dir = scratch("cli");
    char cmd[4 * PATH_MAX], out[16384], path[PATH_MAX + 32];
    const int gnuplot = have_gnuplot();
    snprintf(cmd, sizeof cmd, "LENETC_GNUPLOT=/nonexistent " TINY " --epochs 2 --plot %s/t.png "
             "--checkpoint %s/ck.safetensors --save %s/w.safetensors", dir, dir, dir);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    ck_assert_msg(strstr(out, "warning: LENETC_GNUPLOT=/nonexistent not found"), "%s", out);
    /* the data's rows hold what the epoch lines said */
    snprintf(path, sizeof path, "%s/t.dat", dir);
    size_t len;
    char *dat = slurp(path, &len);
    for (int e = 1; e <= 2; e++) {
        char want[128], *line = strstr(out, e == 1 ? "epoch 1/2 " : "epoch 2/2 ");
        ck_assert(line != NULL);
        double loss, acc, vloss, vacc, tacc = NAN;
        ck_assert(sscanf(line + 10, "loss=%lf train_acc=%lf val_loss=%lf val_acc=%lf test_acc=%lf",
                         &loss, &acc, &vloss, &vacc, &tacc) >= 4);
        char *row = dat;
        for (int i = 0; i < e; i++)
            row = strchr(row, '\n') + 1;
        double r[7];
        char test_field[32];
        ck_assert(sscanf(row, "%lf %lf %lf %lf %lf %31s", &r[0], &r[1], &r[2], &r[3], &r[4],
                         test_field) == 6);
        snprintf(want, sizeof want, "epoch %d: %.4f %.4f %.4f %.4f", e, loss, acc, vloss, vacc);
        char got[128];
        snprintf(got, sizeof got, "epoch %.0f: %.4f %.4f %.4f %.4f", r[0], r[1], r[2], r[3], r[4]);
        ck_assert_str_eq(got, want);
        /* the test set is scored only at the end with --val */
        ck_assert_msg(e == 2 ? strcmp(test_field, "NaN") != 0 : strcmp(test_field, "NaN") == 0,
                      "%s", row);
    }
    free(dat);

    /* resumed for a third epoch: the plot has that epoch only */
    snprintf(cmd, sizeof cmd, "LENETC_GNUPLOT=/nonexistent " TINY " --epochs 3 --plot %s/r.png "
             "--resume %s/ck.safetensors", dir, dir);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/r.dat", dir);
    dat = slurp(path, &len);
    ck_assert_msg(strncmp(strchr(dat, '\n') + 1, "3 ", 2) == 0 && !strchr(strchr(dat, '\n') + 1, '\n')[1],
                  "%s", dat);
    free(dat);
    snprintf(path, sizeof path, "%s/r.gp", dir);
    char *gp = slurp(path, &len);
    ck_assert_msg(strstr(gp, "title \"mnist_tiny: loss and accuracy per epoch\\nadam lr 0.001, "
                             "batch 128, seed 1; resumed: epoch 3\""), "%s", gp);
    free(gp);

    /* eval --plot: the matrix eval prints */
    snprintf(cmd, sizeof cmd, "LENETC_GNUPLOT=/nonexistent ./lenetc eval "
             "tests/models/mnist_tiny.yaml --weights %s/w.safetensors --threads 1 --plot %s/c.png",
             dir, dir);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "%s/c.dat", dir);
    dat = slurp(path, &len);
    const char *table = strstr(out, "confusion (rows: true class, columns: predicted)\n");
    ck_assert(table != NULL);
    table = strchr(strchr(table, '\n') + 1, '\n') + 1; /* past the column numbers */
    const char *row = strchr(dat, '\n') + 1;
    for (int c = 0; c < 10; c++) {
        int cls;
        ck_assert(sscanf(table, "%d", &cls) == 1 && cls == c);
        table += 5;
        for (int p = 0; p < 10; p++) {
            long printed, plotted;
            int t, q, used;
            ck_assert(sscanf(table, "%ld%n", &printed, &used) == 1);
            table += used;
            ck_assert(sscanf(row, "%d %d %ld", &t, &q, &plotted) == 3);
            ck_assert_msg(t == c && q == p && plotted == printed, "cell %d,%d: %ld vs %ld", c, p,
                          plotted, printed);
            row = strchr(row, '\n') + 1;
        }
        table = strchr(table, '\n') + 1;
        row++; /* the blank line after each true class */
    }
    free(dat);
    if (gnuplot) {
        snprintf(cmd, sizeof cmd, "./lenetc eval tests/models/mnist_tiny.yaml --weights "
                 "%s/w.safetensors --threads 1 --plot %s/c.png", dir, dir);
        ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
        snprintf(path, sizeof path, "plotted %s/c.png\n", dir);
        ck_assert_msg(strstr(out, path), "%s", out);
        snprintf(path, sizeof path, "%s/c.png", dir);
        assert_png(path, 5000, 2000000);
    }

    /* a plot that cannot be written: an error before any training */
    snprintf(cmd, sizeof cmd, TINY " --epochs 1 --plot %s/missing/t.png", dir);
    ck_assert_int_eq(run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "t.png: cannot write there: ") && !strstr(out, "epoch 1/1"), "%s",
                  out);
    snprintf(cmd, sizeof cmd, "./lenetc eval tests/models/mnist_tiny.yaml --weights "
             "%s/w.safetensors --plot %s/missing/c.png", dir, dir);
    ck_assert_int_eq(run(cmd, out, sizeof out), 1);
    ck_assert_msg(strstr(out, "c.png: cannot write there: ") && !strstr(out, "accuracy"), "%s",
                  out);
}
END_TEST

/* The emitted trainer takes --plot too (the same option table). */
START_TEST(test_emitted_trainer_plot) {
    if (!have_gnuplot())
        return;
    const char *dir = scratch("emitted");
    char cmd[4 * PATH_MAX], out[16384], path[PATH_MAX + 32];
    /* `make test SANITIZE=1` passes its flags on, so the trainer links */
    const char *cflags = getenv("LENETC_GEN_CFLAGS");
    snprintf(cmd, sizeof cmd, "./lenetc tests/models/mnist_tiny.yaml -o %s/gen && make -s -C %s/gen "
             "%s%s%s && %s/gen/mnist_tiny-train --limit 512 --epochs 2 --threads 1 --plot %s/e.png",
             dir, dir, cflags ? "CFLAGS='" : "", cflags ? cflags : "", cflags ? "'" : "", dir, dir);
    ck_assert_msg(run(cmd, out, sizeof out) == 0, "%s", out);
    snprintf(path, sizeof path, "plotted %s/e.png\n", dir);
    ck_assert_msg(strstr(out, path), "%s", out);
    snprintf(path, sizeof path, "%s/e.png", dir);
    assert_png(path, 10000, 2000000);
}
END_TEST

Suite *plot_suite(void) {
    Suite *s = suite_create("plot");
    TCase *tc = tcase_create("plot");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_history_without_gnuplot);
    tcase_add_test(tc, test_confusion_without_gnuplot);
    tcase_add_test(tc, test_history_png);
    tcase_add_test(tc, test_confusion_png);
    tcase_add_test(tc, test_hostile_paths);
    tcase_add_test(tc, test_gnuplot_fails_or_hangs);
    tcase_add_test(tc, test_plot_check);
    tcase_add_test(tc, test_svg_and_fonts);
    tcase_add_test(tc, test_plot_suffix);
    suite_add_tcase(s, tc);

    TCase *cli = tcase_create("plot_commands");
    tcase_set_tags(cli, "slow");
    tcase_set_timeout(cli, 300);
    tcase_add_test(cli, test_train_eval_plot);
    tcase_add_test(cli, test_emitted_trainer_plot);
    suite_add_tcase(s, cli);
    return s;
}
