/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Only when berth-tar links libarchive statically (image.cmake).
 *
 * The pax writer calls this one function of archive_write_set_format.o,
 * whose table of every writer would pull in the xar writer and with it
 * libxml2, ICU and libstdc++: 1.1 ms more for every start of berth-tar,
 * that is for every layer unpacked. Defined here (as libarchive 3.6 has it:
 * the same message), that object stays out of the link. */
#include <archive.h>
#include <archive_entry.h>
#include <errno.h>

void __archive_write_entry_filetype_unsupported(struct archive *a, struct archive_entry *entry,
                                                const char *format);

void __archive_write_entry_filetype_unsupported(struct archive *a, struct archive_entry *entry,
                                                const char *format)
{
        const char *name = NULL;
        switch (archive_entry_filetype(entry)) {
        case AE_IFDIR:
                name = "directories";
                break;
        case AE_IFLNK:
                name = "symbolic links";
                break;
        case AE_IFCHR:
                name = "character devices";
                break;
        case AE_IFBLK:
                name = "block devices";
                break;
        case AE_IFIFO:
                name = "named pipes";
                break;
        case AE_IFSOCK:
                name = "sockets";
                break;
        default:
                break;
        }
        if (name)
                archive_set_error(a, EINVAL, "%s: %s format cannot archive %s",
                                  archive_entry_pathname(entry), format, name);
        else
                archive_set_error(a, EINVAL, "%s: unsupported filetype",
                                  archive_entry_pathname(entry));
}
