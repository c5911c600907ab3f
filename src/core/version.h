#pragma once
// The release version, shown by `proconsul version`, /v1/agent/self and the agent banner.
// Keep in step with project(VERSION) in the top-level CMakeLists.txt.
#include <string_view>

namespace pc::core {
inline constexpr std::string_view kVersion = "0.1.0";
}
