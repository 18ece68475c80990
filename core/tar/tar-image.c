/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The tar work of image load, import and save, in berth-tar: spool an image
 * archive into a directory, decompress a layer, write a tar from a plan
 * (tar-archive.h). The engine's side is image-archive.c and
 * image-import.c. */
#include "tar-archive.h"
#include "tar-layer.h"
#include "base/sha256.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

/* --- load: spool ----------------------------------------------------------- */

static int spool_file(struct archive *a, int out, const char *path, struct berth_err *err,
                      char ret_digest[72])
{
        struct hasher h;
        hasher_init(&h);
        const void *buf;
        size_t len;
        la_int64_t off;
        int64_t pos = 0;
        int ar;
        while ((ar = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK) {
                if (off != pos) { /* sparse: hash the hole's zeros */
                        static const char zeros[4096];
                        while (pos < off) {
                                size_t z = (size_t)(off - pos) < sizeof(zeros) ? (size_t)(off - pos)
                                                                               : sizeof(zeros);
                                hasher_update(&h, zeros, z);
                                pos += (int64_t)z;
                        }
                }
                hasher_update(&h, buf, len);
                pos = off + (int64_t)len;
                for (const char *b = buf; len > 0;) {
                        ssize_t n = pwrite(out, b, len, off);
                        if (n < 0 && errno == EINTR)
                                continue;
                        if (n <= 0)
                                return err_errno(err, n < 0 ? -errno : -EIO,
                                                 "spool archive entry '%s'", path);
                        b += n, len -= (size_t)n, off += n;
                }
        }
        if (ar != ARCHIVE_EOF)
                return err_set(err, -EINVAL, "invalid or truncated image archive at '%s': %s", path,
                               strempty(archive_error_string(a)));
        hasher_final(&h, ret_digest);
        return 0;
}

static int spool_entry(struct archive *a, struct archive_entry *e, const char *files,
                       json_t *hashes, json_t *links, int64_t *avail, struct berth_err *err)
{
        const char *raw = archive_entry_pathname(e);
        _cleanup_free_ char *path = NULL;
        if (!raw || raw[0] == '/' || layer_clean_path(raw, &path) < 0)
                return err_set(err, -EXDEV,
                               "image archive entry '%s' would land outside the archive "
                               "(absolute path or '..')",
                               strempty(raw));
        if (!path)
                return 0;
        const char *hl = archive_entry_hardlink(e);
        mode_t type = archive_entry_filetype(e);
        if (hl) {
                json_object_set_new(links, path, json_sprintf("/%s", hl));
                return 0;
        }
        if (type == AE_IFLNK) {
                json_object_set_new(links, path, json_string(archive_entry_symlink(e)));
                return 0;
        }
        if (type == AE_IFDIR) {
                _cleanup_free_ char *d = xasprintf("%s/%s", files, path);
                (void)mkdir_p(d, 0700);
                (void)mkdir(d, 0700);
                return 0;
        }
        if (type != AE_IFREG)
                return 0;
        int64_t size = archive_entry_size(e);
        if (size < 0 || size > *avail)
                return err_set(err, -EFBIG,
                               "image archive entry '%s' declares %" PRId64
                               " bytes, more than the %" PRId64 " bytes free in the store",
                               path, size, *avail);
        _cleanup_free_ char *full = xasprintf("%s/%s", files, path);
        _cleanup_free_ char *parent = xstrdup(full);
        *strrchr(parent, '/') = '\0';
        (void)mkdir_p(parent, 0700);
        (void)mkdir(parent, 0700);
        _cleanup_close_ int out =
            open(full, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (out < 0)
                return err_errno(err, -errno, "spool archive entry '%s'", path);
        char dg[72];
        int r = spool_file(a, out, path, err, dg);
        if (r < 0)
                return r;
        if (ftruncate(out, size) < 0) /* a sparse file's trailing hole */
                return err_errno(err, -errno, "spool archive entry '%s'", path);
        json_object_set_new(hashes, path, json_string(dg));
        *avail -= size;
        return 0;
}

int tar_spool(int fd, const char *files, json_t *hashes, json_t *links, struct berth_err *err)
{
        struct statvfs sv;
        int64_t avail = statvfs(files, &sv) == 0 ? (int64_t)(sv.f_bavail * sv.f_frsize) : INT64_MAX;
        struct archive *a = archive_read_new();
        archive_read_support_filter_all(a);
        archive_read_support_format_tar(a);
        int r = 0, n_entries = 0;
        if (archive_read_open_fd(a, fd, 256 * 1024) != ARCHIVE_OK)
                r = err_set(err, -EINVAL, "invalid image archive: %s",
                            strempty(archive_error_string(a)));
        while (r == 0) {
                struct archive_entry *e;
                int ar = archive_read_next_header(a, &e);
                if (ar == ARCHIVE_EOF)
                        break;
                if (ar != ARCHIVE_OK && ar != ARCHIVE_WARN) {
                        r = err_set(err, -EINVAL, "invalid or truncated image archive: %s",
                                    strempty(archive_error_string(a)));
                        break;
                }
                n_entries++;
                r = spool_entry(a, e, files, hashes, links, &avail, err);
        }
        if (r == 0 && n_entries == 0)
                r = err_set(err, -EINVAL, "invalid image archive: it is empty");
        archive_read_free(a);
        return r;
}

/* --- load and import: decompress ------------------------------------------ */

int tar_decompress(int in_fd, int out_fd, const char *read_msg, const char *data_msg,
                   const char *write_msg, char ret_digest[72], int64_t *ret_size,
                   struct berth_err *err)
{
        struct archive *a = archive_read_new();
        archive_read_support_filter_all(a);
        archive_read_support_format_raw(a);
        struct archive_entry *e;
        struct hasher h;
        hasher_init(&h);
        int r = 0;
        if (archive_read_open_fd(a, in_fd, 256 * 1024) != ARCHIVE_OK ||
            archive_read_next_header(a, &e) != ARCHIVE_OK)
                r = err_set(err, -EINVAL, "%s: %s", read_msg, strempty(archive_error_string(a)));
        static char buf[256 * 1024];
        ssize_t n;
        int64_t total = 0;
        while (r == 0 && (n = archive_read_data(a, buf, sizeof(buf))) != 0) {
                if (n < 0) {
                        r = err_set(err, -EINVAL, "%s: %s", data_msg,
                                    strempty(archive_error_string(a)));
                        break;
                }
                hasher_update(&h, buf, (size_t)n);
                total += n;
                int q = loop_write(out_fd, buf, (size_t)n);
                if (q < 0)
                        r = err_errno(err, q, "%s", write_msg);
        }
        archive_read_free(a);
        hasher_final(&h, ret_digest);
        *ret_size = total;
        return r;
}

/* --- save: a tar from a plan ------------------------------------------------ */

static int plan_entry(struct archive *a, json_t *it, struct berth_err *err)
{
        const char *name = json_string_value(json_object_get(it, "name"));
        const char *file = json_string_value(json_object_get(it, "file"));
        json_t *data = json_object_get(it, "data");
        bool dir = json_is_true(json_object_get(it, "dir"));
        if (!name || (!file && !json_is_string(data) && !dir))
                return err_set(err, -EINVAL, "tar plan: an entry without a name or content");
        _cleanup_close_ int fd = -1;
        int64_t size = json_string_length(data);
        if (file) {
                struct stat st;
                fd = open(file, O_RDONLY | O_CLOEXEC);
                if (fd < 0 || fstat(fd, &st) < 0)
                        return err_errno(err, -errno, "open '%s'", file);
                size = st.st_size;
        }
        struct archive_entry *e = archive_entry_new();
        archive_entry_set_pathname(e, name);
        archive_entry_set_filetype(e, dir ? AE_IFDIR : AE_IFREG);
        archive_entry_set_perm(e, dir ? 0755 : 0644);
        if (!dir)
                archive_entry_set_size(e, (la_int64_t)size);
        archive_entry_set_mtime(e, 0, 0);
        int r = 0;
        if (archive_write_header(a, e) != ARCHIVE_OK)
                r = -EIO;
        else if (data && size &&
                 archive_write_data(a, json_string_value(data), (size_t)size) != size)
                r = -EIO;
        static char buf[256 * 1024];
        ssize_t n;
        while (r == 0 && fd >= 0 && (n = read(fd, buf, sizeof(buf))) > 0)
                if (archive_write_data(a, buf, (size_t)n) != n)
                        r = -EIO;
        archive_entry_free(e);
        if (r < 0)
                return err_set(err, r, "write '%s' to the archive: %s", name,
                               strempty(archive_error_string(a)));
        return 0;
}

int tar_write_plan(json_t *plan, int out_fd, struct berth_err *err)
{
        struct archive *a = archive_write_new();
        archive_write_set_format_pax_restricted(a);
        int r = 0;
        if (archive_write_open_fd(a, out_fd) != ARCHIVE_OK)
                r = err_set(err, -EIO, "%s", strempty(archive_error_string(a)));
        size_t i;
        json_t *it;
        json_array_foreach (plan, i, it) {
                if (r < 0)
                        break;
                r = plan_entry(a, it, err);
        }
        if (r == 0 && archive_write_close(a) != ARCHIVE_OK)
                r = err_set(err, -EIO, "%s", strempty(archive_error_string(a)));
        archive_write_free(a);
        return r;
}
