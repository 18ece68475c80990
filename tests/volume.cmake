# Volumes (issue 8): the mount-spec parser and volume-local against the SDK's
# mock host (unit), the CLI and the docker CLI against berthd (integration).
berth_unit_test(check-volume ${CMAKE_CURRENT_LIST_DIR}/unit/check-volume.c)
target_link_libraries(check-volume PRIVATE ${DL_LIB})
target_compile_definitions(check-volume PRIVATE
  VOLUME_LOCAL_SO="${PROJECT_BINARY_DIR}/plugins/volume-local.so")
add_dependencies(check-volume volume-local)
berth_integration_test(volumes-cli volumes-cli.sh TIMEOUT 400)
berth_integration_test(volumes-docker volumes-docker.sh TIMEOUT 300)
set_tests_properties(volumes-cli volumes-docker PROPERTIES LABELS "integration;volume")
