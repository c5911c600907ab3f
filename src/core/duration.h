#pragma once
// Go's time.Duration text form, which Consul speaks everywhere: "10s", "1.5h", "120000ms",
// "0.001s", "1h2m3s", "300" is rejected (a unit is required, as in Go) except "0".
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/result.h"

namespace pc::core {

Result<Duration> parse_go_duration(std::string_view text);

// Formats like Go's Duration.String(): "24h0m0s", "15s", "1.5s", "100ms", "0s".
std::string format_go_duration(Duration d);

}  // namespace pc::core
