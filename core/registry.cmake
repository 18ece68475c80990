# The registry client (issue 6): pull, push, login over the distribution API v2.
# It runs in berth-registry, a helper process berthd starts per operation
# (registry-proto.h): berthd keeps the image store and links neither libcurl
# nor OpenSSL's TLS. berth-core has berthd's side and what the CLI uses.
target_sources(berth-core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/registry-auth.c
  ${CMAKE_CURRENT_LIST_DIR}/registry-proto.c
  ${CMAKE_CURRENT_LIST_DIR}/registry-helper.c
  ${CMAKE_CURRENT_LIST_DIR}/api-registry.c
  ${CMAKE_CURRENT_LIST_DIR}/image-pull.c)

# The helper's side: HTTP (libcurl, OpenSSL), pull, push, and its end of the
# conversation with berthd. A library for the helper and the unit tests.
pkg_check_modules(ZLIB REQUIRED IMPORTED_TARGET zlib)
pkg_check_modules(LIBSSL REQUIRED IMPORTED_TARGET libssl>=3.0)
# the registry client's digests (EVP sha256)
pkg_check_modules(LIBCRYPTO REQUIRED IMPORTED_TARGET libcrypto>=3.0)
add_library(berth-registry-client STATIC
  ${CMAKE_CURRENT_LIST_DIR}/registry-http.c
  ${CMAKE_CURRENT_LIST_DIR}/registry-pull.c
  ${CMAKE_CURRENT_LIST_DIR}/registry-push.c
  ${CMAKE_CURRENT_LIST_DIR}/registry-remote.c)
target_link_libraries(berth-registry-client PUBLIC berth-core PkgConfig::CURL PkgConfig::ZLIB
                                                   PkgConfig::LIBSSL PkgConfig::LIBCRYPTO)

add_executable(berth-registry ${CMAKE_CURRENT_LIST_DIR}/registry/berth-registry.c)
target_link_libraries(berth-registry PRIVATE berth-registry-client)
target_link_options(berth-registry PRIVATE -Wl,--as-needed)
install(TARGETS berth-registry RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/berth)
