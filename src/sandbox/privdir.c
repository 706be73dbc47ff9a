/* privdir: the private directory of a run, top/box: top is made by
 * mkdtemp, is the host's and mode 0711; box is the program's cwd, owned by
 * the run's uid. The program cannot rename box away or replace top with a
 * symlink, since top is not its own. Removal assumes the worst of what the
 * program left: unreadable directories, symlinks swapped in, trees deeper
 * than any fd budget; see privdir_remove. Under bwrap the program writes to
 * a tmpfs instead, and box only holds its input files, bound read-only. */
#include "sandbox/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RM_DEPTH 32     /* levels opened at once; deeper parts are moved up */

static int privdir_clear(int dfd, int topfd, int depth, unsigned *moved)
{
    /* not dup(): a dup shares the offset, and the next pass would start
     * where this one ended */
    int fd2 = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    DIR *d = fd2 >= 0 ? fdopendir(fd2) : NULL;
    if (!d) {
        if (fd2 >= 0)
            close(fd2);
        return 0;
    }
    int progress = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *name = e->d_name;
        if (!strcmp(name, ".") || !strcmp(name, ".."))
            continue;
        if (unlinkat(dfd, name, 0) == 0) {
            progress = 1;
            continue;
        }
        if (errno != EISDIR && errno != EPERM)
            continue;
        int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (sub < 0 && errno == EACCES) {
            /* the program made it unreadable; O_PATH + /proc/self/fd chmods the
             * directory itself, never what a swapped-in symlink points to */
            int pfd = openat(dfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (pfd >= 0) {
                char pp[40];
                snprintf(pp, sizeof pp, "/proc/self/fd/%d", pfd);
                if (chmod(pp, 0700) < 0) { /* unlinkat below reports the failure */ }
                close(pfd);
            }
            sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        }
        if (sub < 0)
            continue;
        if (fchmod(sub, 0700) < 0) { /* root needs no permission bits */ }
        if (depth >= RM_DEPTH) {
            /* no recursion (or fd) per level of an arbitrarily deep tree:
             * move the deep part up and take it on a later pass */
            char fresh[32];
            for (int tries = 0; tries < 100; tries++) {
                snprintf(fresh, sizeof fresh, ".deep%u", (*moved)++);
                if (renameat2(dfd, name, topfd, fresh, RENAME_NOREPLACE) == 0 || errno != EEXIST)
                    break;
            }
            close(sub);
            progress = 1;
            continue;
        }
        progress |= privdir_clear(sub, topfd, depth + 1, moved);
        close(sub);
        if (unlinkat(dfd, name, AT_REMOVEDIR) == 0)
            progress = 1;
    }
    closedir(d);
    return progress;
}

int privdir_remove(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? 0 : -1;
    if (fchmod(fd, 0700) < 0) { /* as for privdir_clear */ }
    unsigned moved = 0;
    int rc;
    while ((rc = rmdir(path)) < 0 && privdir_clear(fd, fd, 0, &moved))
        ;
    close(fd);
    return rc;
}

/* Writes files into top/box. 0, or -1 with err set. */
static int privdir_fill(const char *top, uid_t uid, int own, const sandbox_file *files, int nfiles,
                        char *err, size_t errlen)
{
    char box[PATH_MAX];
    snprintf(box, sizeof box, "%s/box", top);
    if (mkdir(box, 0700) < 0) {
        snprintf(err, errlen, "mkdir %s: %s", box, strerror(errno));
        return -1;
    }
    int bfd = open(box, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (bfd < 0) {
        snprintf(err, errlen, "open %s: %s", box, strerror(errno));
        return -1;
    }
    int rc = 0;
    for (int i = 0; i < nfiles && rc == 0; i++) {
        int fd = openat(bfd, files[i].name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd < 0) {
            snprintf(err, errlen, "create %s: %s", files[i].name, strerror(errno));
            rc = -1;
            break;
        }
        for (size_t off = 0; off < files[i].len;) {
            ssize_t n = write(fd, files[i].data + off, files[i].len - off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                snprintf(err, errlen, "write %s: %s", files[i].name, strerror(errno));
                rc = -1;
                break;
            }
            off += (size_t)n;
        }
        if (rc == 0 && own && fchown(fd, uid, uid) < 0) {
            snprintf(err, errlen, "chown %s: %s", files[i].name, strerror(errno));
            rc = -1;
        }
        close(fd);
    }
    if (rc == 0 && own && (fchown(bfd, uid, uid) < 0 || chmod(top, 0711) < 0)) {
        snprintf(err, errlen, "chown %s: %s", box, strerror(errno));
        rc = -1;
    }
    close(bfd);
    return rc;
}

int privdir_name_ok(const char *s)
{
    return s && *s && strcmp(s, ".") && strcmp(s, "..") && !strchr(s, '/') && strlen(s) < 200;
}

int privdir_create(char *top, uid_t uid, int own, const sandbox_file *files, int nfiles,
                   char *err, size_t errlen)
{
    snprintf(top, 64, "/tmp/slmmux-%d-XXXXXX", (int)getpid());
    if (!mkdtemp(top)) {
        snprintf(err, errlen, "mkdtemp %s: %s", top, strerror(errno));
        top[0] = 0;
        return -1;
    }
    if (privdir_fill(top, uid, own, files, nfiles, err, errlen) < 0) {
        privdir_remove(top);
        top[0] = 0;
        return -1;
    }
    return 0;
}
