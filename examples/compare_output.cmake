# Runs an example on the manual clock and compares its output with the golden file, exactly.
execute_process(COMMAND ${PROGRAM} --manual-clock OUTPUT_VARIABLE output RESULT_VARIABLE result
                ERROR_VARIABLE errors)
if(result)
  message(FATAL_ERROR "${PROGRAM} exited with ${result}: ${errors}")
endif()
file(READ ${GOLDEN} expected)
if(NOT output STREQUAL expected)
  message(FATAL_ERROR "output differs from ${GOLDEN}:\n--- got ---\n${output}--- expected ---\n${expected}")
endif()
