# The image store (issue 3): content store, layers, load/save/import, queries.
# sha256 with nettle (libcrypto would cost berthd 1.4 MB of RSS for a hash).
pkg_check_modules(NETTLE REQUIRED IMPORTED_TARGET nettle>=3.7)
target_sources(berth-core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/image-store.c
  ${CMAKE_CURRENT_LIST_DIR}/image-ref.c
  ${CMAKE_CURRENT_LIST_DIR}/image-unpack.c
  ${CMAKE_CURRENT_LIST_DIR}/image-archive.c
  ${CMAKE_CURRENT_LIST_DIR}/image-import.c
  ${CMAKE_CURRENT_LIST_DIR}/image-commit.c
  ${CMAKE_CURRENT_LIST_DIR}/image-ops.c)
target_link_libraries(berth-core PUBLIC PkgConfig::NETTLE)

# berth-archive: everything that links libarchive, for berth-tar alone
# (tar-helper.h): berthd and the CLI run it rather than map libarchive,
# libxml2, ICU and libstdc++, which could never be unloaded again.
pkg_check_modules(LIBARCHIVE REQUIRED IMPORTED_TARGET GLOBAL libarchive>=3.6)
add_library(berth-archive STATIC
  ${CMAKE_CURRENT_LIST_DIR}/tar-unpack.c
  ${CMAKE_CURRENT_LIST_DIR}/tar-tree.c
  ${CMAKE_CURRENT_LIST_DIR}/tar-image.c)
target_link_libraries(berth-archive PUBLIC berth-core PkgConfig::LIBARCHIVE)
