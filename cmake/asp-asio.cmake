# asp::asio, loaded by find_package(asp COMPONENTS asio).
include(CMakeFindDependencyMacro)
find_dependency(Boost 1.81 CONFIG)
find_dependency(OpenSSL)
include("${CMAKE_CURRENT_LIST_DIR}/asp-asio-targets.cmake")
