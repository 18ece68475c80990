# Registry client tests (issue 6): against Debian's docker-registry on loopback.
foreach(_t pull push auth)
  if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/integration/registry-${_t}.sh)
    berth_integration_test(registry-${_t} registry-${_t}.sh TIMEOUT 300)
    set_tests_properties(registry-${_t} PROPERTIES LABELS "integration;registry")
  endif()
endforeach()
