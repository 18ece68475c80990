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
# Statically where Debian ships libarchive.a: then only the formats and
# filters berth uses are linked, and no libxml2/ICU/libstdc++ (only the xar
# format needs them; tar-static.c), which halves the helper's start.
find_library(LIBARCHIVE_STATIC_A NAMES libarchive.a)
if(LIBARCHIVE_STATIC_A)
  set(_la_deps ${LIBARCHIVE_STATIC_LIBRARIES})
  list(REMOVE_ITEM _la_deps archive)
  # in the program itself, ahead of libarchive.a in the link
  target_sources(berth-archive INTERFACE ${CMAKE_CURRENT_LIST_DIR}/tar-static.c)
  target_include_directories(berth-archive PUBLIC ${LIBARCHIVE_INCLUDE_DIRS})
  target_link_libraries(berth-archive PUBLIC berth-core ${LIBARCHIVE_STATIC_A} ${_la_deps})
else()
  target_link_libraries(berth-archive PUBLIC berth-core PkgConfig::LIBARCHIVE)
endif()
