# Logging drivers (issue 5, item 3): one conformance suite run against every
# logging driver plugin, plus the json-file specifics.
pkg_check_modules(LOG_ZLIB REQUIRED IMPORTED_TARGET zlib)
berth_unit_test(check-logging-conformance
  ${CMAKE_CURRENT_LIST_DIR}/unit/check-logging-conformance.c)
target_link_libraries(check-logging-conformance PRIVATE PkgConfig::LOG_ZLIB)
add_dependencies(check-logging-conformance log-jsonfile log-none)
set_tests_properties(check-logging-conformance PROPERTIES LABELS "unit;logging")
# The same suite against the same drivers built in, as the static berth-shim
# links them (plugins/CMakeLists.txt, berth_builtin_plugin).
berth_unit_test(check-logging-builtin
  ${CMAKE_CURRENT_LIST_DIR}/unit/check-logging-conformance.c
  $<TARGET_OBJECTS:log-jsonfile-builtin> $<TARGET_OBJECTS:log-none-builtin>)
target_compile_definitions(check-logging-builtin PRIVATE LOGGING_BUILTIN)
target_link_libraries(check-logging-builtin PRIVATE PkgConfig::LOG_ZLIB)
set_tests_properties(check-logging-builtin PROPERTIES LABELS "unit;logging")
