# Containers beyond the life cycle (issue 5): stats, cp (archive), events.
target_sources(berth-core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/runtime-stats.c
  ${CMAKE_CURRENT_LIST_DIR}/container-stats.c
  ${CMAKE_CURRENT_LIST_DIR}/api-stats.c
  ${CMAKE_CURRENT_LIST_DIR}/container-archive.c
  ${CMAKE_CURRENT_LIST_DIR}/tar-helper.c
  ${CMAKE_CURRENT_LIST_DIR}/api-archive.c
  ${CMAKE_CURRENT_LIST_DIR}/events.c
  ${CMAKE_CURRENT_LIST_DIR}/api-events.c
  ${CMAKE_CURRENT_LIST_DIR}/container-init.c)
target_compile_definitions(berth-core PUBLIC
  BERTH_LIBEXECDIR="${CMAKE_INSTALL_FULL_LIBEXECDIR}")

# berth-init: the init of run --init, bind-mounted into containers, so
# static and free of the engine library.
add_executable(berth-init ${CMAKE_CURRENT_LIST_DIR}/init/berth-init.c)
if(NOT BERTH_SANITIZE) # the sanitizers' runtimes do not link statically
  target_link_options(berth-init PRIVATE -static)
endif()
install(TARGETS berth-init RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/berth)

# berth-tar: all the tar work of berthd (layers, load, save, import,
# export, cp) and of berth cp, in a program of its own so that neither maps
# libarchive and its dependencies (tar-helper.h).
add_executable(berth-tar ${CMAKE_CURRENT_LIST_DIR}/cli/berth-tar.c)
target_link_libraries(berth-tar PRIVATE berth-archive)
target_link_options(berth-tar PRIVATE -Wl,--as-needed)
install(TARGETS berth-tar RUNTIME DESTINATION ${CMAKE_INSTALL_LIBEXECDIR}/berth)
