# Volumes (issue 8): records, the /volumes API, container mounts, `berth volume`.
target_sources(berth-core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/volume-store.c
  ${CMAKE_CURRENT_LIST_DIR}/volume-mount.c
  ${CMAKE_CURRENT_LIST_DIR}/api-volume.c)
if(TARGET berth)
  target_sources(berth PRIVATE ${CMAKE_CURRENT_LIST_DIR}/cli/cli-volume.c)
endif()
