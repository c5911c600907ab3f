#pragma once
// Time seam (shared/STYLE.md rule 11). Production code asks an injected Clock for time; tests
// use testing's simulated clock. Times are nanoseconds on a monotonic or wall scale.
#include <chrono>
#include <cstdint>

namespace pc::core {

using Duration = std::chrono::nanoseconds;
using MonoTime = std::chrono::steady_clock::time_point;
using WallTime = std::chrono::system_clock::time_point;

// Thread-safe: implementations must allow calls from any thread.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual MonoTime now() const = 0;
  virtual WallTime wall_now() const = 0;
};

class SystemClock final : public Clock {
 public:
  MonoTime now() const override { return std::chrono::steady_clock::now(); }
  WallTime wall_now() const override { return std::chrono::system_clock::now(); }
  static const SystemClock& instance() {
    static const SystemClock clock;
    return clock;
  }
};

}  // namespace pc::core
