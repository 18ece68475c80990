/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A tar of a tree, walked with O_NOFOLLOW descriptors from a directory
 * descriptor: what GET /containers/{id}/archive sends and what berth cp
 * uploads (through berth-tar, so that the CLI itself does not load
 * libarchive). */
#include "tar-archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

static int tar_add(struct archive *a, int pfd, const char *name, const char *arcname,
                   struct berth_err *err)
{
        struct stat st;
        int flags = *name ? AT_SYMLINK_NOFOLLOW : AT_EMPTY_PATH;
        if (fstatat(pfd, name, &st, flags) < 0)
                return err_errno(err, -errno, "stat '%s'", arcname);
        if (S_ISSOCK(st.st_mode)) /* as tar does: sockets are not archived */
                return 0;
        struct archive_entry *e = archive_entry_new();
        archive_entry_copy_stat(e, &st);
        archive_entry_set_nlink(e, 1);
        archive_entry_set_pathname(e, arcname);
        int r = 0, fd = -1;
        if (S_ISLNK(st.st_mode)) {
                char t[4096];
                ssize_t n = readlinkat(pfd, name, t, sizeof(t) - 1);
                if (n < 0) {
                        archive_entry_free(e);
                        return err_errno(err, -errno, "readlink '%s'", arcname);
                }
                t[n] = '\0';
                archive_entry_set_symlink(e, t);
        } else if (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)) {
                /* a followed path was opened O_PATH: reopen it for reading */
                if (*name)
                        fd = openat(pfd, name,
                                    O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
                                        (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
                else {
                        _cleanup_free_ char *p = xasprintf("/proc/self/fd/%d", pfd);
                        fd =
                            open(p, O_RDONLY | O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
                }
                if (fd < 0) {
                        archive_entry_free(e);
                        return err_errno(err, -errno, "open '%s'", arcname);
                }
        }
        if (archive_write_header(a, e) != ARCHIVE_OK)
                r = err_set(err, -EIO, "tar '%s': %s", arcname, strempty(archive_error_string(a)));
        archive_entry_free(e);
        if (r >= 0 && S_ISREG(st.st_mode)) {
                char buf[65536];
                int64_t left = st.st_size;
                while (left > 0) {
                        ssize_t n = read(fd, buf, sizeof(buf));
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0) /* it shrank: pad, the header is out already */
                                break;
                        if (n > left)
                                n = (ssize_t)left;
                        if (archive_write_data(a, buf, (size_t)n) < 0) {
                                r = err_set(err, -EIO, "tar '%s': %s", arcname,
                                            strempty(archive_error_string(a)));
                                break;
                        }
                        left -= n;
                }
        }
        if (r >= 0 && S_ISDIR(st.st_mode)) {
                DIR *d = fdopendir(fd);
                if (!d) {
                        r = err_errno(err, -errno, "read directory '%s'", arcname);
                } else {
                        fd = -1;
                        struct dirent *de;
                        while (r >= 0 && (de = readdir(d))) {
                                if (streq(de->d_name, ".") || streq(de->d_name, ".."))
                                        continue;
                                _cleanup_free_ char *child =
                                    xasprintf("%s/%s", arcname, de->d_name);
                                r = tar_add(a, dirfd(d), de->d_name, child, err);
                        }
                        closedir(d);
                }
        }
        safe_close(fd);
        return r;
}

int archive_write_tree(int dirfd, const char *name, const char *top, int out_fd,
                       struct berth_err *err)
{
        struct archive *a = archive_write_new();
        int r;
        archive_write_set_format_pax_restricted(a);
        if (archive_write_open_fd(a, out_fd) != ARCHIVE_OK)
                r = err_set(err, -EIO, "tar: %s", strempty(archive_error_string(a)));
        else {
                r = tar_add(a, dirfd, name, top, err);
                if (archive_write_close(a) != ARCHIVE_OK && r >= 0)
                        r = err_set(err, -EIO, "tar: %s", strempty(archive_error_string(a)));
        }
        archive_write_free(a);
        return r;
}
