# asp::data, loaded by find_package(asp COMPONENTS data).
include("${CMAKE_CURRENT_LIST_DIR}/asp-data-targets.cmake")
