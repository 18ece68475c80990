# Networks (issue 7). The UDP echo helper goes into the test image "web".
# Static, so it runs in a busybox rootfs; never sanitized (no static ASan).
add_executable(berth-udpecho ${CMAKE_CURRENT_LIST_DIR}/lib/udpecho.c)
target_compile_options(berth-udpecho PRIVATE -fno-sanitize=all)
target_link_options(berth-udpecho PRIVATE -fno-sanitize=all -static)

foreach(_t ports user docker)
  berth_integration_test(network-${_t} network-${_t}.sh TIMEOUT 300)
endforeach()

# After the whole suite: no bridge, veth, netns or nftables table of a test
# left behind. It requires nothing itself, and cleans up the fixture every
# integration test requires, so ctest (also with -j) runs it last.
add_test(NAME network-leaks COMMAND bash ${PROJECT_SOURCE_DIR}/tests/integration/network-leaks.sh)
set_tests_properties(network-leaks PROPERTIES LABELS integration ENVIRONMENT "${BERTH_TEST_ENV}"
                     TIMEOUT 60 SKIP_RETURN_CODE 77 FIXTURES_CLEANUP berth_net_leaks)

berth_unit_test(check-network-ipam ${CMAKE_CURRENT_LIST_DIR}/unit/check-network-ipam.c)
