# The runtime (issue 4): the library in berth-core, and berth-runtime, the
# OCI runtime CLI over it.
pkg_check_modules(LIBCAP REQUIRED IMPORTED_TARGET libcap)
pkg_check_modules(LIBSECCOMP REQUIRED IMPORTED_TARGET libseccomp>=2.5)

target_sources(berth-core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/runtime-spec.c
  ${CMAKE_CURRENT_LIST_DIR}/runtime-ns.c
  ${CMAKE_CURRENT_LIST_DIR}/runtime-mount.c
  ${CMAKE_CURRENT_LIST_DIR}/runtime-cgroup.c
  ${CMAKE_CURRENT_LIST_DIR}/runtime-cgroup-v1.c
  ${CMAKE_CURRENT_LIST_DIR}/runtime-cgroup-v2.c
  ${CMAKE_CURRENT_LIST_DIR}/runtime-caps.c
  ${CMAKE_CURRENT_LIST_DIR}/runtime-seccomp.c
  ${CMAKE_CURRENT_LIST_DIR}/runtime-state.c
  ${CMAKE_CURRENT_LIST_DIR}/runtime-exec.c
  ${CMAKE_CURRENT_LIST_DIR}/runtime-init.c
  ${CMAKE_CURRENT_LIST_DIR}/runtime-hooks.c
  ${CMAKE_CURRENT_LIST_DIR}/runtime-features.c
  ${CMAKE_CURRENT_LIST_DIR}/runtime-container.c)
target_link_libraries(berth-core PUBLIC PkgConfig::LIBCAP PkgConfig::LIBSECCOMP)

add_executable(berth-runtime ${CMAKE_CURRENT_LIST_DIR}/runtime/berth-runtime.c)
target_link_libraries(berth-runtime PRIVATE berth-core)
install(TARGETS berth-runtime RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
