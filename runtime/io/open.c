/* open.c: opening an input file without hanging on what is not a file.
 *
 * open(2) on a FIFO blocks until a writer appears, and a device can stream
 * forever; so inputs are opened non-blocking, must be regular files, and
 * only then become ordinary blocking descriptors.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lenet_core.h"
#include "lenet_io.h"

int lenet_open_regular(const char *path, lenet_error *err) {
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        lenet_set_error(err, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        lenet_set_error(err, "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        lenet_set_error(err, "%s: not a regular file (%s)", path,
                        S_ISDIR(st.st_mode)    ? "a directory"
                        : S_ISFIFO(st.st_mode) ? "a FIFO"
                        : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device"
                                                                      : "not a file");
        close(fd);
        return -1;
    }
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0) {
        lenet_set_error(err, "%s: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}
