#include "core/assert.h"

#include <execinfo.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace pc::core {

void assert_fail(const char* file, int line, const char* expr, const std::string& why) {
  std::fprintf(stderr, "PC_ASSERT failed at %s:%d: %s%s%s\n", file, line, expr,
               why.empty() ? "" : ": ", why.c_str());
  void* frames[64];
  int count = backtrace(frames, 64);
  backtrace_symbols_fd(frames, count, STDERR_FILENO);
  std::abort();
}

}  // namespace pc::core
