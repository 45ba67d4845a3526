# asp::nats, loaded by find_package(asp COMPONENTS nats): asp::data first, then nats.c
# through pkg-config.
include(CMakeFindDependencyMacro)
if(NOT TARGET asp::data)
  include("${CMAKE_CURRENT_LIST_DIR}/asp-data.cmake")
endif()
find_dependency(PkgConfig)
pkg_check_modules(NATS REQUIRED IMPORTED_TARGET libnats)
include("${CMAKE_CURRENT_LIST_DIR}/asp-nats-targets.cmake")
