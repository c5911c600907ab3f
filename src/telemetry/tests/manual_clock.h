#pragma once
// A clock tests move by hand (shared/STYLE.md rule 11: no test reads the real time).
#include "core/clock.h"

namespace pc::telemetry::testing {

class ManualClock final : public core::Clock {
 public:
  core::MonoTime now() const override { return core::MonoTime(wall.time_since_epoch()); }
  core::WallTime wall_now() const override { return wall; }
  void advance(core::Duration d) {
    wall += std::chrono::duration_cast<core::WallTime::duration>(d);
  }
  core::WallTime wall{std::chrono::seconds(1'800'000'000)};
};

}  // namespace pc::telemetry::testing
