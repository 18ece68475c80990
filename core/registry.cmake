# The registry client (issue 6): pull, push, login over the distribution API v2.
pkg_check_modules(ZLIB REQUIRED IMPORTED_TARGET zlib)
pkg_check_modules(LIBSSL REQUIRED IMPORTED_TARGET libssl>=3.0)
# the registry client's digests and base64 (the image store hashes with nettle)
pkg_check_modules(LIBCRYPTO REQUIRED IMPORTED_TARGET libcrypto>=3.0)
target_sources(berth-core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/registry-auth.c
  ${CMAKE_CURRENT_LIST_DIR}/registry-http.c
  ${CMAKE_CURRENT_LIST_DIR}/registry-pull.c
  ${CMAKE_CURRENT_LIST_DIR}/registry-push.c
  ${CMAKE_CURRENT_LIST_DIR}/api-registry.c
  ${CMAKE_CURRENT_LIST_DIR}/image-pull.c)
target_link_libraries(berth-core PUBLIC PkgConfig::ZLIB PkgConfig::LIBSSL
                                        PkgConfig::LIBCRYPTO)
