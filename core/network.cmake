# Networks: records, IPAM, container hooks, the DNS responder, the API.
target_sources(berth-core PRIVATE
  ${CMAKE_CURRENT_LIST_DIR}/network-store.c
  ${CMAKE_CURRENT_LIST_DIR}/network-container.c
  ${CMAKE_CURRENT_LIST_DIR}/network-dns.c
  ${CMAKE_CURRENT_LIST_DIR}/api-network.c)
target_sources(berth PRIVATE ${CMAKE_CURRENT_LIST_DIR}/cli/cli-network.c)
