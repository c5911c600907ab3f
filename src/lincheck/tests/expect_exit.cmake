# Runs TOOL on INPUT and fails unless it exits with EXPECTED (ctest only checks for zero).
execute_process(COMMAND ${TOOL} ${INPUT} RESULT_VARIABLE code OUTPUT_VARIABLE out
                ERROR_VARIABLE err)
if(NOT code EQUAL EXPECTED)
  message(FATAL_ERROR "${TOOL} ${INPUT}: exit ${code}, want ${EXPECTED}\n${out}${err}")
endif()
message("${out}${err}")
