#include "gossip/runtime/refusal_warnings.h"

namespace pc::gossip {

std::string_view sender_ip(std::string_view sender) {
  if (!sender.empty() && sender.front() == '[') {
    const auto close = sender.find(']');
    return close == std::string_view::npos ? sender : sender.substr(1, close - 1);
  }
  const auto colon = sender.find(':');
  // One colon: ip:port. None, or several (a bare IPv6 literal): no port to strip.
  if (colon == std::string_view::npos || sender.rfind(':') != colon) return sender;
  return sender.substr(0, colon);
}

void RefusalWarnings::make_room(std::uint64_t now_ms) {
  std::erase_if(senders_,
                [&](const auto& entry) { return now_ms - entry.second.warned_ms >= interval_ms_; });
  if (senders_.size() >= kSendersMax) senders_.clear();
}

std::optional<std::uint64_t> RefusalWarnings::refused(std::string_view sender,
                                                      std::uint64_t now_ms) {
  const std::string ip(sender_ip(sender));
  auto it = senders_.find(ip);
  if (it == senders_.end()) {
    if (senders_.size() >= kSendersMax) make_room(now_ms);
    senders_.emplace(ip, Sender{now_ms, 0});
    return std::uint64_t{0};
  }
  Sender& s = it->second;
  if (now_ms - s.warned_ms < interval_ms_) {
    ++s.suppressed;
    return std::nullopt;
  }
  const std::uint64_t suppressed = s.suppressed;
  s = Sender{now_ms, 0};
  return suppressed;
}

}  // namespace pc::gossip
