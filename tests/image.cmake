# Image store and storage driver tests (issue 3).
set(_img_dir ${CMAKE_CURRENT_LIST_DIR}/unit)
foreach(_t check-image-store check-image-hostile check-image-fuzz check-storage-conformance)
  if(EXISTS ${_img_dir}/${_t}.c)
    berth_unit_test(${_t} ${_img_dir}/${_t}.c)
    # the tests build tars with libarchive; the store runs berth-tar
    target_link_libraries(${_t} PRIVATE PkgConfig::LIBARCHIVE)
    add_dependencies(${_t} storage-vfs storage-overlay2 berth-tar)
  endif()
endforeach()

# A thin command line over the image API for the integration tests and the
# load benchmark (until the berth CLI is wired to the API).
add_executable(image-tool ${_img_dir}/image-tool.c)
target_link_libraries(image-tool PRIVATE berth-core)
set_target_properties(image-tool PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
add_dependencies(image-tool storage-vfs storage-overlay2 berth-tar)
foreach(_t interop crash)
  if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/integration/image-${_t}.sh)
    berth_integration_test(image-${_t} image-${_t}.sh TIMEOUT 300)
    set_tests_properties(image-${_t} PROPERTIES LABELS "integration;image")
  endif()
endforeach()
