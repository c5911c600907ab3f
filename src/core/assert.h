#pragma once
// Always-on invariant checks (shared/STYLE.md §3). PC_ASSERT stays in release builds: it
// prints file, line, the formatted reason and a backtrace, then aborts. Never use it on
// bytes from the network, the disk or a user: return an Error instead.
#include <fmt/core.h>

#include <string>

namespace pc::core {
[[noreturn]] void assert_fail(const char* file, int line, const char* expr, const std::string& why);
}  // namespace pc::core

#define PC_ASSERT(cond, ...)                                                             \
  do {                                                                                   \
    if (!(cond)) [[unlikely]] {                                                          \
      ::pc::core::assert_fail(__FILE__, __LINE__, #cond, ::fmt::format("" __VA_ARGS__)); \
    }                                                                                    \
  } while (0)

#ifdef PC_DEBUG_ASSERTS
#define PC_DASSERT(cond, ...) PC_ASSERT(cond, __VA_ARGS__)
#else
#define PC_DASSERT(cond, ...) \
  do {                        \
  } while (0)
#endif

#define PC_UNREACHABLE(...) \
  ::pc::core::assert_fail(__FILE__, __LINE__, "unreachable", ::fmt::format("" __VA_ARGS__))
