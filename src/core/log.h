#pragma once
// Structured logging seam. Callers format with fmt; the sink (text or Consul-style JSON:
// {"@level","@message","@module","@timestamp"}) lives in log.cc so spdlog stays out of
// headers. Thread-safe: any thread may log.
#include <fmt/core.h>

#include <exception>
#include <string>
#include <string_view>

#include "core/result.h"

namespace pc::core::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError, kOff };

// Parses Consul's level names: trace, debug, info, warn, err/error (case-insensitive).
Result<Level> parse_level(std::string_view name);

// Configures the process-wide logger; safe to call again (SIGHUP reload of log_level).
void configure(Level level, bool json);
void set_level(Level level);
bool enabled(Level level);

void write(Level level, std::string_view module, std::string_view message);

template <typename... Args>
void trace(std::string_view module, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kTrace))
    write(Level::kTrace, module, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void debug(std::string_view module, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kDebug))
    write(Level::kDebug, module, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(std::string_view module, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kInfo))
    write(Level::kInfo, module, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(std::string_view module, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kWarn))
    write(Level::kWarn, module, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void error(std::string_view module, fmt::format_string<Args...> f, Args&&... args) {
  if (enabled(Level::kError))
    write(Level::kError, module, fmt::format(f, std::forward<Args>(args)...));
}

// Logs at ERROR why a task ended with `e` ("<what> ended by exception: ..."); nothing when `e`
// is null. For the completion of top-level coroutines: our code throws nothing, but a library
// exception that ends one is logged rather than lost.
void exception(std::string_view module, std::string_view what, std::exception_ptr e);

}  // namespace pc::core::log
