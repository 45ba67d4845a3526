# Installs the built library into a temporary prefix, then configures, builds and runs a
# separate project that uses find_package(asp) and links asp::asp.
file(REMOVE_RECURSE ${WORK_DIR})
# A library built with sanitizers needs a consumer built with them too.
set(sanitize_flags "")
if(SANITIZE)
  set(sanitize_flags "-DCMAKE_CXX_FLAGS=-fsanitize=${SANITIZE}" "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=${SANITIZE}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix
                RESULT_VARIABLE result)
if(result)
  message(FATAL_ERROR "install failed: ${result}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -S ${SOURCE_DIR}/tests/install/consumer -B ${WORK_DIR}/build
                        -G ${GENERATOR} -DCMAKE_CXX_COMPILER=${CXX}
                        -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix -DWITH_ASIO=${WITH_ASIO} -DWITH_DATA=${WITH_DATA} -DWITH_NATS=${WITH_NATS}
                        ${sanitize_flags}
                RESULT_VARIABLE result)
if(result)
  message(FATAL_ERROR "configuring the consumer failed: ${result}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${WORK_DIR}/build RESULT_VARIABLE result)
if(result)
  message(FATAL_ERROR "building the consumer failed: ${result}")
endif()
execute_process(COMMAND ${WORK_DIR}/build/consumer RESULT_VARIABLE result OUTPUT_VARIABLE output)
if(result OR NOT output STREQUAL "2025-01-01T00:00:01.000000000Z 42\n")
  message(FATAL_ERROR "the consumer printed '${output}' and returned ${result}")
endif()
# The Python package, installed beside the library, imports and runs from the prefix (not under
# a sanitizer: the interpreter would need the sanitizer's runtime preloaded).
if(PYTHON AND NOT SANITIZE)
  execute_process(COMMAND ${CMAKE_COMMAND} -E env PYTHONPATH=${WORK_DIR}/prefix/${PYTHON_DIR}
                          ${PYTHON} -c "import asyncio, datetime, async_stream_processing as asp; seen = []; asyncio.run(asp.run([asp.process_stream(lambda t, v: seen.append(v), [(datetime.datetime(2025, 1, 1), 42)])])); print(seen[0], asp.__file__.startswith('${WORK_DIR}'))"
                  WORKING_DIRECTORY ${WORK_DIR}
                  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE errors)
  if(result OR NOT output STREQUAL "42 True\n")
    message(FATAL_ERROR "the installed Python package printed '${output}' and returned ${result}: ${errors}")
  endif()
endif()
