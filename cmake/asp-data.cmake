# asp::data, loaded by find_package(asp COMPONENTS data).
include(CMakeFindDependencyMacro)
find_dependency(zstd CONFIG)
include("${CMAKE_CURRENT_LIST_DIR}/asp-data-targets.cmake")
