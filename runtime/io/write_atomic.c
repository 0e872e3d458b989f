/* write_atomic.c: replacing a file so that no reader ever sees half of it.
 *
 * The new contents go to a temp file beside the target, which is flushed,
 * fsynced and renamed over it; then the directory is fsynced, so that the
 * rename itself survives a crash. Weights, checkpoints and generated code
 * are all written this way.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lenet_core.h"
#include "lenet_io.h"

#define TEMP_SUFFIX ".tmp.XXXXXX"

/* Best effort: fsync the directory so the rename itself is durable. */
static void sync_parent_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path))
                      : strdup(".");
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
    free(dir);
}

int lenet_write_atomic(const char *path, lenet_write_fn fill, void *ctx, lenet_error *err) {
    size_t plen = strlen(path);
    char *tmp = malloc(plen + sizeof TEMP_SUFFIX);
    if (!tmp) {
        lenet_set_error(err, "%s: out of memory", path);
        errno = ENOMEM;
        return -1;
    }
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, TEMP_SUFFIX, sizeof TEMP_SUFFIX);

    FILE *f = NULL;
    const char *what = "cannot create temporary file";
    int fd = mkstemp(tmp);
    if (fd < 0) {
        tmp[0] = '\0'; /* nothing to remove */
        goto fail;
    }
    /* mkstemp makes the file 0600; give it the mode fopen would have. */
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);

    what = "write failed";
    f = fdopen(fd, "wb");
    if (!f)
        goto fail;
    fd = -1; /* now owned by f */
    errno = 0;
    if (fill(f, ctx) != 0)
        goto fail;
    if (fflush(f) != 0 || fsync(fileno(f)) != 0)
        goto fail;
    int rc = fclose(f);
    f = NULL;
    if (rc != 0)
        goto fail;
    what = "cannot replace file";
    if (rename(tmp, path) != 0)
        goto fail;
    sync_parent_dir(path);
    free(tmp);
    return 0;

fail:;
    int e = errno ? errno : EIO; /* a writer that failed without saying why */
    if (f)
        fclose(f);
    else if (fd >= 0)
        close(fd);
    if (tmp[0])
        unlink(tmp);
    lenet_set_error(err, "%s: %s: %s", path, what, strerror(e));
    free(tmp);
    errno = e;
    return -1;
}
