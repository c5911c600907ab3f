# Helpers shared by every module: one static library per module (pc::<module>), one unit
# test binary per module, and the common warning and sanitizer flags.

set(PC_WARNINGS -Wall -Wextra -Wno-missing-field-initializers)
if(PC_WERROR)
  list(APPEND PC_WARNINGS -Werror)
endif()

if(PC_SANITIZE)
  # g++ 12 reports false maybe-uninitialized warnings inside Boost.Beast once ASan
  # instruments it; the normal build keeps the warning.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    list(APPEND PC_WARNINGS -Wno-maybe-uninitialized)
  endif()
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

if(PC_LIBFUZZER)
  # Coverage for the code under test, not only the fuzz target's own file: every library is
  # instrumented; only the fuzz executables link libFuzzer's main (pc_fuzz below).
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()

# pc_module(<name> SOURCES a.cc b.cc DEPS pc::core ...)
function(pc_module name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(pc_${name} STATIC ${ARG_SOURCES})
  add_library(pc::${name} ALIAS pc_${name})
  target_include_directories(pc_${name} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_compile_options(pc_${name} PRIVATE ${PC_WARNINGS})
  target_link_libraries(pc_${name} PUBLIC ${ARG_DEPS})
endfunction()

# pc_test(<name> SOURCES x_test.cc DEPS pc::state ... [LABELS unit])
function(pc_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_compile_options(${name} PRIVATE ${PC_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gtest_main)
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_test(NAME ${name} COMMAND ${name})
  set_tests_properties(${name} PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT 300)
endfunction()

# pc_fuzz(<name> SOURCES x_fuzz.cc DEPS ... CORPUS <dir>)
# A libFuzzer target under clang with -DPC_LIBFUZZER=ON; otherwise the shared replay main
# runs the checked-in corpus as the ctest <name>_replay (label fuzz).
function(pc_fuzz name)
  cmake_parse_arguments(ARG "" "CORPUS" "SOURCES;DEPS" ${ARGN})
  if(PC_LIBFUZZER)
    add_executable(${name} ${ARG_SOURCES})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
  else()
    add_executable(${name} ${ARG_SOURCES} ${PROJECT_SOURCE_DIR}/testing/fuzz/replay_main.cc)
  endif()
  target_compile_options(${name} PRIVATE ${PC_WARNINGS})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS})
  if(PC_LIBFUZZER)
    # -runs=0: execute the corpus once and stop, instead of fuzzing on.
    add_test(NAME ${name}_replay COMMAND ${name} -runs=0 ${ARG_CORPUS})
  else()
    add_test(NAME ${name}_replay COMMAND ${name} ${ARG_CORPUS})
  endif()
  set_tests_properties(${name}_replay PROPERTIES LABELS fuzz TIMEOUT 300)
endfunction()
