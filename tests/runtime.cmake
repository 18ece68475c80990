# Runtime tests (issue 4). Unit tests need nothing but the build; the
# integration tests run berth-runtime as root against a busybox bundle.
berth_unit_test(check-runtime-spec ${CMAKE_CURRENT_LIST_DIR}/unit/check-runtime-spec.c)
berth_unit_test(check-runtime-cgroup ${CMAKE_CURRENT_LIST_DIR}/unit/check-runtime-cgroup.c)
berth_unit_test(check-runtime-seccomp ${CMAKE_CURRENT_LIST_DIR}/unit/check-runtime-seccomp.c)

foreach(_t lifecycle isolation seccomp cgroups userns errors terminal podman)
  berth_integration_test(runtime-${_t} runtime-${_t}.sh TIMEOUT 180)
  set_tests_properties(runtime-${_t} PROPERTIES LABELS "integration;runtime" RUN_SERIAL TRUE)
endforeach()
