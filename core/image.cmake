# The image store (issue 3): content store, layers, load/save/import, queries.
pkg_check_modules(LIBARCHIVE REQUIRED IMPORTED_TARGET libarchive>=3.6)
pkg_check_modules(OPENSSL REQUIRED IMPORTED_TARGET libcrypto>=3.0)
target_sources(berth-core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/image-store.c
  ${CMAKE_CURRENT_LIST_DIR}/image-ref.c
  ${CMAKE_CURRENT_LIST_DIR}/image-unpack.c
  ${CMAKE_CURRENT_LIST_DIR}/image-archive.c
  ${CMAKE_CURRENT_LIST_DIR}/image-import.c
  ${CMAKE_CURRENT_LIST_DIR}/image-commit.c
  ${CMAKE_CURRENT_LIST_DIR}/image-ops.c)
target_link_libraries(berth-core PUBLIC PkgConfig::LIBARCHIVE PkgConfig::OPENSSL)
