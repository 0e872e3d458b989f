/* files.c: reading specs and writing generated files safely. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lenetc.h"

char *read_file(const char *path, size_t max, size_t *len, Diag *d) {
    lenet_error err;
    int fd = lenet_open_regular(path, &err);
    FILE *f = fd < 0 ? NULL : fdopen(fd, "rb");
    if (!f) {
        if (fd >= 0)
            close(fd);
        /* err reads "PATH: why"; d names the file itself */
        const char *why = fd < 0 ? err.msg + strlen(path) + 2 : strerror(errno);
        error_at(d, 0, 0, "%s", why);
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        fclose(f);
        error_at(d, 0, 0, "%s", strerror(errno));
        return NULL;
    }
    if ((size_t)st.st_size > max) {
        fclose(f);
        error_at(d, 0, 0, "file is %lld bytes; the limit is %zu", (long long)st.st_size, max);
        return NULL;
    }
    char *buf = malloc((size_t)st.st_size + 1);
    size_t n = buf ? fread(buf, 1, (size_t)st.st_size, f) : 0;
    int bad = !buf || ferror(f) || n != (size_t)st.st_size;
    fclose(f);
    if (bad) {
        free(buf);
        error_at(d, 0, 0, "read error");
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

typedef struct {
    const char *data;
    size_t len;
} bytes;

static int write_bytes(FILE *f, void *ctx) {
    const bytes *b = ctx;
    return fwrite(b->data, 1, b->len, f) == b->len ? 0 : -1;
}

int write_file_atomic(const char *path, const char *data, size_t len, Diag *d) {
    bytes b = {data, len};
    lenet_error err;
    if (lenet_write_atomic(path, write_bytes, &b, &err) != 0)
        return error_at(d, 0, 0, "cannot write %s: %s", path, strerror(errno));
    return 0;
}

const char *exe_dir(void) {
    static char dir[PATH_MAX];
    if (!dir[0]) {
        char buf[PATH_MAX];
        ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
        if (n <= 0)
            return ".";
        buf[n] = '\0';
        snprintf(dir, sizeof dir, "%s", dirname(buf));
    }
    return dir;
}

int make_dirs(const char *path, Diag *d) {
    char buf[PATH_MAX];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return error_at(d, 0, 0, "%s: path too long", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return error_at(d, 0, 0, "cannot create %s: %s", buf, strerror(errno));
            *p = c;
            if (!c)
                break;
        }
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return error_at(d, 0, 0, "%s is not a directory", path);
    return 0;
}
