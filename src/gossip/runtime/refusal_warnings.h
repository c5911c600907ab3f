#pragma once
// When to warn about a frame the keyring refused. A wrongly keyed agent retries its join and
// its probes every second or so; a line for each would bury the log, and none at all (only a
// debug line) hides the commonest gossip misconfiguration. So: one warning per sender IP per
// interval (memberlist logs "failed to decrypt" for each packet), naming how many refusals
// from that IP went unlogged since the previous one.
//
// Keyed by IP, not "ip:port": inbound TCP comes from ephemeral ports, one per connection.
// Bounded: at most kSendersMax IPs are remembered; when a new one finds the table full, the
// entries whose interval has passed are dropped, and if that frees nothing the table is
// cleared (a flood of spoofed sources then costs log lines at most once an interval each,
// never memory).
//
// Thread-safety: none; the pool's I/O thread owns it.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace pc::gossip {

class RefusalWarnings {
 public:
  static constexpr std::size_t kSendersMax = 1024;
  static constexpr std::uint64_t kIntervalDefaultMs = 60'000;

  explicit RefusalWarnings(std::uint64_t interval_ms = kIntervalDefaultMs)
      : interval_ms_(interval_ms) {}

  // A refusal from `sender` ("ip:port", "[v6]:port" or a bare IP) at now_ms (monotonic):
  // the number of earlier refusals from its IP that were not warned about, when a warning is
  // due now; nullopt when it is not (then it is counted for the next one).
  std::optional<std::uint64_t> refused(std::string_view sender, std::uint64_t now_ms);

  std::size_t senders_for_test() const { return senders_.size(); }

 private:
  struct Sender {
    std::uint64_t warned_ms = 0;
    std::uint64_t suppressed = 0;
  };
  void make_room(std::uint64_t now_ms);

  std::uint64_t interval_ms_;
  std::unordered_map<std::string, Sender> senders_;
};

// The IP of "ip:port" or "[v6]:port"; the text itself when it has no port.
std::string_view sender_ip(std::string_view sender);

}  // namespace pc::gossip
