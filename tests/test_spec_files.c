/* test_spec_files.c: the specs kept as files under tests/specs/, each next
 * to what lenetc must make of it (see tests/specs/README.md):
 *
 *   bad/NAME.yaml   + NAME.err      spec_load_file fails, and its message
 *                                   and a newline (what `lenetc summary`
 *                                   prints on stderr) are NAME.err exactly;
 *   good/NAME.yaml  + NAME.summary  it loads, and model_summary (what
 *                                   `lenetc summary` prints on stdout) is
 *                                   NAME.summary exactly.
 *
 * Files are named from the repository root as the glob gives them
 * ("tests/specs/bad/NAME.yaml"), so a message starts with that path.
 * `make golden` rewrites every .err and .summary from ./lenetc: review the
 * diff like code. A directory with no spec, a .yaml without its expected
 * file or an expected file without its .yaml fails.
 */
#include <dirent.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lenetc.h"
#include "tests.h"

static struct {
    const char *dir, *ext; /* the expected file's extension */
    glob_t specs;          /* the .yaml files in dir, sorted */
} dirs[] = {
    {"tests/specs/bad", ".err", {0}},
    {"tests/specs/good", ".summary", {0}},
};
#define N_DIRS (int)(sizeof dirs / sizeof dirs[0])

static glob_t models;

static void free_globs(void) {
    for (int i = 0; i < N_DIRS; i++)
        globfree(&dirs[i].specs);
    globfree(&models);
}

static bool ends_with(const char *s, const char *end) {
    size_t n = strlen(s), e = strlen(end);
    return n >= e && strcmp(s + n - e, end) == 0;
}

/* path with its extension ext_from replaced by ext_to */
static void swap_ext(char *out, size_t n, const char *path, const char *ext_from,
                     const char *ext_to) {
    snprintf(out, n, "%.*s%s", (int)(strlen(path) - strlen(ext_from)), path, ext_to);
}

/* Each directory holds at least one spec, and only NAME.yaml with its
 * NAME.err or NAME.summary. */
START_TEST(spec_dir_complete) {
    const char *dir = dirs[_i].dir, *ext = dirs[_i].ext;
    ck_assert_msg(dirs[_i].specs.gl_pathc > 0, "no %s/*.yaml: nothing would be tested", dir);
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    struct dirent *e;
    char path[1024], other[1024];
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (ends_with(e->d_name, ".yaml"))
            swap_ext(other, sizeof other, path, ".yaml", ext);
        else if (ends_with(e->d_name, ext))
            swap_ext(other, sizeof other, path, ext, ".yaml");
        else
            ck_abort_msg("%s: neither NAME.yaml nor NAME%s", path, ext);
        FILE *f = fopen(other, "rb");
        ck_assert_msg(f != NULL, "%s has no %s", path, other);
        fclose(f);
    }
    closedir(d);
}
END_TEST

START_TEST(bad_spec_file) {
    const char *spec = dirs[0].specs.gl_pathv[_i];
    Model m;
    Diag d = {.file = spec};
    int rc = test_load_spec(spec, &m, &d);
    model_free(&m);
    ck_assert_msg(rc == -1, "%s: the spec was accepted", spec);
    ck_assert(d.failed);
    char want[1024], got[sizeof d.msg + 1];
    swap_ext(want, sizeof want, spec, ".yaml", ".err");
    snprintf(got, sizeof got, "%s\n", d.msg); /* as lenetc prints it */
    assert_file_is(spec, want, got, strlen(got));
}
END_TEST

START_TEST(good_spec_file) {
    const char *spec = dirs[1].specs.gl_pathv[_i];
    Model m;
    Diag d = {.file = spec};
    ck_assert_msg(test_load_spec(spec, &m, &d) == 0, "%s: %s", spec, d.msg);
    StrBuf sb = {0};
    model_summary(&m, &sb);
    model_free(&m);
    char want[1024];
    swap_ext(want, sizeof want, spec, ".yaml", ".summary");
    assert_file_is(spec, want, sb.data ? sb.data : "", sb.len);
    sb_free(&sb);
}
END_TEST

/* What `lenetc summary --json` says of every model (the shipped ones and
 * the test models): generated/summary/NAME.json, NAME the spec's file name. */

START_TEST(summary_json_file) {
    const char *spec = models.gl_pathv[_i];
    Model m;
    Diag d = {.file = spec};
    ck_assert_msg(test_load_spec(spec, &m, &d) == 0, "%s: %s", spec, d.msg);
    char *json = model_summary_json(&m);
    model_free(&m);
    ck_assert_ptr_nonnull(json);
    const char *base = strrchr(spec, '/') + 1;
    char want[1024], got[1 << 16];
    snprintf(want, sizeof want, "generated/summary/%.*s.json", (int)(strlen(base) - 5), base);
    snprintf(got, sizeof got, "%s\n", json); /* as lenetc prints it */
    free(json);
    assert_file_is(spec, want, got, strlen(got));
}
END_TEST

START_TEST(summary_json_models_found) {
    ck_assert_msg(models.gl_pathc > 2, "models/*.yaml and tests/models/*.yaml: %zu found",
                  models.gl_pathc);
}
END_TEST

TCase *spec_files_tcase(void) {
    static bool listed;
    if (!listed) {
        for (int i = 0; i < N_DIRS; i++) {
            char pattern[256];
            snprintf(pattern, sizeof pattern, "%s/*.yaml", dirs[i].dir);
            int rc = glob(pattern, 0, NULL, &dirs[i].specs);
            if (rc != 0 && rc != GLOB_NOMATCH) /* none: spec_dir_complete fails */
                fprintf(stderr, "test_spec_files: glob %s failed (%d)\n", pattern, rc);
        }
        glob("models/*.yaml", 0, NULL, &models);
        glob("tests/models/*.yaml", GLOB_APPEND, NULL, &models);
        atexit(free_globs);
        listed = true;
    }
    TCase *t = tcase_create("files");
    tcase_add_loop_test(t, spec_dir_complete, 0, N_DIRS);
    tcase_add_loop_test(t, bad_spec_file, 0, (int)dirs[0].specs.gl_pathc);
    tcase_add_loop_test(t, good_spec_file, 0, (int)dirs[1].specs.gl_pathc);
    tcase_add_test(t, summary_json_models_found);
    tcase_add_loop_test(t, summary_json_file, 0, (int)models.gl_pathc);
    return t;
}
