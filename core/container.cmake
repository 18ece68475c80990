# Containers beyond the life cycle (issue 5): stats, cp (archive), events.
target_sources(berth-core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/runtime-stats.c
  ${CMAKE_CURRENT_LIST_DIR}/container-stats.c
  ${CMAKE_CURRENT_LIST_DIR}/api-stats.c
  ${CMAKE_CURRENT_LIST_DIR}/container-archive.c
  ${CMAKE_CURRENT_LIST_DIR}/api-archive.c
  ${CMAKE_CURRENT_LIST_DIR}/events.c
  ${CMAKE_CURRENT_LIST_DIR}/api-events.c)
