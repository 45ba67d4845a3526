# Runs an example on the manual clock and compares its output with the golden file, exactly.
# ENV: NAME=VALUE settings for the program alone (a sanitizer runtime to preload into an
# interpreter must not be preloaded into cmake).
set(launcher)
if(ENV)
  set(launcher ${CMAKE_COMMAND} -E env ${ENV})
endif()
execute_process(COMMAND ${launcher} ${PROGRAM} --manual-clock OUTPUT_VARIABLE output
                RESULT_VARIABLE result ERROR_VARIABLE errors)
if(result)
  message(FATAL_ERROR "${PROGRAM} exited with ${result}: ${errors}")
endif()
file(READ ${GOLDEN} expected)
if(NOT output STREQUAL expected)
  message(FATAL_ERROR "output differs from ${GOLDEN}:\n--- got ---\n${output}--- expected ---\n${expected}")
endif()
