#include "core/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

#include "core/strings.h"

namespace pc::core::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::atomic<bool> g_json{false};
std::mutex g_mu;

std::string_view level_name(Level level) {
  switch (level) {
    case Level::kTrace: return "trace";
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
    case Level::kOff: return "off";
  }
  return "info";
}

std::string timestamp() {
  auto now = std::chrono::system_clock::now();
  std::time_t secs = std::chrono::system_clock::to_time_t(now);
  auto micros =
      std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count() %
      1000000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(micros));
  return buf;
}

std::shared_ptr<spdlog::logger> sink() {
  // Raw pattern: we format the whole line ourselves so the JSON form stays exact.
  static std::shared_ptr<spdlog::logger> logger = [] {
    auto l = spdlog::stdout_logger_mt("proconsul");
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return logger;
}

}  // namespace

Result<Level> parse_level(std::string_view name) {
  std::string lower = to_lower(name);
  if (lower == "trace") return Level::kTrace;
  if (lower == "debug") return Level::kDebug;
  if (lower == "info") return Level::kInfo;
  if (lower == "warn" || lower == "warning") return Level::kWarn;
  if (lower == "err" || lower == "error") return Level::kError;
  if (lower == "off") return Level::kOff;
  return make_error(Code::kInvalidArgument, "invalid log level \"" + std::string(name) +
                                                "\": must be one of trace, debug, info, warn, err");
}

void configure(Level level, bool json) {
  std::lock_guard lock(g_mu);
  g_level.store(static_cast<int>(level));
  g_json.store(json);
  sink();
}

void set_level(Level level) {
  g_level.store(static_cast<int>(level));
}

bool enabled(Level level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void write(Level level, std::string_view module, std::string_view message) {
  std::string line;
  if (g_json.load(std::memory_order_relaxed)) {
    line = "{\"@level\":\"" + std::string(level_name(level)) + "\",\"@message\":\"" +
           json_escape(message) + "\",\"@module\":\"" + json_escape(module) +
           "\",\"@timestamp\":\"" + timestamp() + "\"}";
  } else {
    std::string upper = to_upper(level_name(level));
    line = timestamp() + " [" + upper + "] " + std::string(module) + ": " + std::string(message);
  }
  sink()->info(line);
}

void exception(std::string_view module, std::string_view what, std::exception_ptr e) {
  if (!e) return;
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& ex) {
    error(module, "{} ended by exception: {}", what, ex.what());
  } catch (...) {
    error(module, "{} ended by an unknown exception", what);
  }
}

}  // namespace pc::core::log
