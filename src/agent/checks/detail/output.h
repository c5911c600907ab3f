#pragma once
// Private to agent/checks: what the probes share for building results.
//
// OutputTail keeps the last size_max bytes written to it and counts them all, as the
// circular buffer (armon/circbuf) Consul reads check output into. Not thread-safe: one probe
// call owns one.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "agent/checks/probe.h"

namespace pc::agent::detail {

class OutputTail {
 public:
  // size_max 0 means Consul's default, as OutputMaxSize < 1 does.
  explicit OutputTail(std::size_t size_max)
      : size_max_(size_max == 0 ? probe_output_size_default
                                : std::min(size_max, probe_output_size_max)) {}

  void write(std::string_view bytes) {
    total_bytes_ += bytes.size();
    if (bytes.size() >= size_max_) {
      kept_.assign(bytes.substr(bytes.size() - size_max_));
      return;
    }
    kept_.append(bytes);
    // Trim lazily: at most 2 * size_max_ bytes are held, and each byte is moved O(1) times.
    if (kept_.size() > 2 * size_max_) kept_.erase(0, kept_.size() - size_max_);
  }

  std::string tail() const {
    return kept_.size() > size_max_ ? kept_.substr(kept_.size() - size_max_) : kept_;
  }
  std::uint64_t total_bytes() const { return total_bytes_; }
  std::size_t size_max() const { return size_max_; }
  bool truncated() const { return total_bytes_ > size_max_; }

 private:
  std::size_t size_max_;
  std::uint64_t total_bytes_ = 0;
  std::string kept_;
};

// Consul's script-check output: the tail, preceded by "Captured N of M bytes\n...\n" when
// bytes were dropped.
inline std::string captured_output(const OutputTail& out) {
  if (!out.truncated()) return out.tail();
  return "Captured " + std::to_string(out.size_max()) + " of " + std::to_string(out.total_bytes()) +
         " bytes\n...\n" + out.tail();
}

// The timeout a probe runs with: Consul's default for none, at most probe_timeout_max.
inline core::Duration effective_timeout(core::Duration timeout, core::Duration fallback) {
  if (timeout <= core::Duration::zero()) return fallback;
  return std::min<core::Duration>(timeout, probe_timeout_max);
}

inline ProbeResult probe_result(std::string_view status, std::string output) {
  return ProbeResult{std::string(status), std::move(output)};
}

}  // namespace pc::agent::detail
