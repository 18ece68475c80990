# Logging drivers (issue 5, item 3): one conformance suite run against every
# logging driver plugin, plus the json-file specifics.
pkg_check_modules(LOG_ZLIB REQUIRED IMPORTED_TARGET zlib)
berth_unit_test(check-logging-conformance
  ${CMAKE_CURRENT_LIST_DIR}/unit/check-logging-conformance.c)
target_link_libraries(check-logging-conformance PRIVATE PkgConfig::LOG_ZLIB)
add_dependencies(check-logging-conformance log-jsonfile log-none)
set_tests_properties(check-logging-conformance PROPERTIES LABELS "unit;logging")
