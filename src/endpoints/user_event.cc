#include "endpoints/user_event.h"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <regex>

#include "core/strings.h"

namespace pc::endpoints {
namespace {

// Bytes we decode at most: an event must fit serf's 512-byte limit anyway.
constexpr std::size_t kEncodedSizeMax = 4096;
constexpr std::size_t kFieldSizeMax = 1024;

// std::regex throws on a bad pattern and on a match too complex; neither may escape.
std::optional<std::regex> compile(const std::string& pattern) {
  try {
    return std::regex(pattern);
  } catch (const std::regex_error&) {
    return std::nullopt;
  }
}

bool search(const std::string& pattern, const std::string& text) {
  auto re = compile(pattern);
  if (!re) return false;
  try {
    return std::regex_search(text, *re);
  } catch (const std::regex_error&) {
    return false;
  }
}

core::Error invalid(const std::string& why) {
  return core::make_error(core::Code::kInvalidArgument, why);
}

}  // namespace

core::Status validate_user_event(const UserEvent& event) {
  if (event.name.empty()) return invalid("User event missing name");
  if (!event.tag_filter.empty() && event.service_filter.empty()) {
    return invalid("Cannot provide tag filter without service filter");
  }
  if (!event.node_filter.empty() && !compile(event.node_filter)) {
    return invalid("Invalid node filter: " + event.node_filter);
  }
  if (!event.service_filter.empty() && !compile(event.service_filter)) {
    return invalid("Invalid service filter: " + event.service_filter);
  }
  if (!event.tag_filter.empty() && !compile(event.tag_filter)) {
    return invalid("Invalid tag filter: " + event.tag_filter);
  }
  return core::ok();
}

void stamp_user_event(UserEvent& event, core::Rand& rand) {
  event.id = core::make_uuid(rand);
  event.version = kUserEventVersion;
}

std::string encode_user_event(const UserEvent& e) {
  boost::json::object o;
  o["ID"] = e.id;
  o["Name"] = e.name;
  o["Payload"] = core::base64_encode(e.payload);
  o["NodeFilter"] = e.node_filter;
  o["ServiceFilter"] = e.service_filter;
  o["TagFilter"] = e.tag_filter;
  o["Version"] = e.version;
  return boost::json::serialize(o);
}

core::Result<UserEvent> decode_user_event(std::string_view bytes) {
  auto bad = [](const std::string& why) { return invalid("user event: " + why); };
  if (bytes.size() > kEncodedSizeMax) return bad("too large");
  boost::system::error_code ec;
  boost::json::value v = boost::json::parse(bytes, ec);
  if (ec || !v.is_object()) return bad("not a JSON object");
  const boost::json::object& o = v.as_object();
  auto text = [&](const char* key, std::string& out) -> bool {
    const boost::json::value* f = o.if_contains(key);
    if (f == nullptr) return true;
    if (!f->is_string() || f->as_string().size() > kFieldSizeMax) return false;
    out = std::string(f->as_string());
    return true;
  };
  UserEvent e;
  std::string payload64;
  if (!text("ID", e.id) || !text("Name", e.name) || !text("Payload", payload64) ||
      !text("NodeFilter", e.node_filter) || !text("ServiceFilter", e.service_filter) ||
      !text("TagFilter", e.tag_filter)) {
    return bad("a field is not a string or too long");
  }
  if (e.name.empty()) return bad("no name");
  if (!core::is_uuid(e.id)) return bad("ID is not a UUID");
  if (!core::base64_decode(payload64, e.payload)) return bad("payload is not base64");
  if (const boost::json::value* ver = o.if_contains("Version"); ver != nullptr) {
    if (!ver->is_int64() || ver->as_int64() < 0 || ver->as_int64() > 1000) {
      return bad("bad version");
    }
    e.version = static_cast<int>(ver->as_int64());
  }
  return e;
}

bool user_event_matches(const UserEvent& event, const std::string& node_name,
                        const std::vector<LocalServiceTags>& services) {
  // Consul drops events of a newer version than it knows.
  if (event.version > kUserEventVersion) return false;
  if (!event.node_filter.empty() && !search(event.node_filter, node_name)) return false;
  if (event.service_filter.empty()) return true;
  for (const LocalServiceTags& s : services) {
    if (!search(event.service_filter, s.service)) continue;
    if (event.tag_filter.empty()) return true;
    for (const std::string& tag : s.tags) {
      if (search(event.tag_filter, tag)) return true;
    }
  }
  return false;
}

std::uint64_t user_event_index(const std::string& uuid) {
  if (!core::is_uuid(uuid)) return 0;
  const std::string lower = uuid.substr(0, 8) + uuid.substr(9, 4) + uuid.substr(14, 4);
  const std::string upper = uuid.substr(19, 4) + uuid.substr(24, 12);
  std::uint64_t lo = 0;
  std::uint64_t hi = 0;
  std::from_chars(lower.data(), lower.data() + lower.size(), lo, 16);
  std::from_chars(upper.data(), upper.data() + upper.size(), hi, 16);
  return lo ^ hi;
}

void UserEventLog::add(UserEvent event) {
  std::map<WaiterId, std::function<void()>> woken;
  {
    std::lock_guard lock(mu_);
    if (ring_.size() < kUserEventBufferSize) {
      ring_.push_back(std::move(event));
    } else {
      ring_[next_ % kUserEventBufferSize] = std::move(event);
    }
    ++next_;
    woken.swap(waiters_);
  }
  for (auto& [id, fn] : woken) fn();
}

UserEventLog::WaiterId UserEventLog::on_next(std::function<void()> fn) {
  std::lock_guard lock(mu_);
  const WaiterId id = next_waiter_++;
  waiters_.emplace(id, std::move(fn));
  return id;
}

bool UserEventLog::cancel(WaiterId id) {
  std::function<void()> dropped;  // destroyed outside the lock
  std::lock_guard lock(mu_);
  auto it = waiters_.find(id);
  if (it == waiters_.end()) return false;
  dropped = std::move(it->second);
  waiters_.erase(it);
  return true;
}

std::size_t UserEventLog::waiters() const {
  std::lock_guard lock(mu_);
  return waiters_.size();
}

std::vector<UserEvent> UserEventLog::list(const std::string& name) const {
  std::lock_guard lock(mu_);
  std::vector<UserEvent> out;
  const std::size_t n = ring_.size();
  const std::size_t start = n < kUserEventBufferSize ? 0 : next_ % kUserEventBufferSize;
  for (std::size_t i = 0; i < n; ++i) {
    const UserEvent& e = ring_[(start + i) % n];
    if (name.empty() || e.name == name) out.push_back(e);
  }
  return out;
}

}  // namespace pc::endpoints
