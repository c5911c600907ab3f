#include "http/query.h"

#include <charconv>

#include "core/duration.h"
#include "core/limits.h"

namespace pc::http {
namespace {

// Go's query.Get: the first value, with "" meaning absent.
std::string_view first_value(const Request& req, std::string_view name) {
  const std::string* v = req.query_param(name);
  return v == nullptr ? std::string_view() : std::string_view(*v);
}

// Go's strings.TrimSpace, for the ASCII whitespace a header can hold.
bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

// Consul's parseTokenFromHeaders for "Authorization: <scheme> <value>": the scheme must be
// "bearer" in any case, and only the first space-separated word of the value counts.
std::string_view bearer_token(std::string_view header) {
  const std::size_t space = header.find(' ');
  if (space == std::string_view::npos) return {};
  std::string_view scheme = header.substr(0, space);
  if (scheme.size() != 6) return {};
  static constexpr std::string_view kBearer = "bearer";
  for (std::size_t i = 0; i < kBearer.size(); ++i) {
    char c = scheme[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != kBearer[i]) return {};
  }
  std::string_view value = trim(header.substr(space + 1));
  return trim(value.substr(0, value.find(' ')));
}

// Go's strconv.ParseUint(s, 10, 64): decimal digits only, no sign, no overflow.
bool parse_u64(std::string_view s, std::uint64_t& out) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && end == s.data() + s.size();
}

core::Error invalid(std::string message) {
  return core::make_error(core::Code::kInvalidArgument, std::move(message));
}

core::SystemRand& process_rand() {
  static core::SystemRand rand;
  return rand;
}

}  // namespace

bool query_flag(const Request& req, std::string_view name) {
  return req.has_query(name);
}

std::string parse_token(const Request& req) {
  if (auto t = first_value(req, "token"); !t.empty()) return std::string(t);
  if (const std::string* h = req.header("x-consul-token"); h != nullptr && !h->empty()) {
    return *h;
  }
  if (const std::string* h = req.header("authorization"); h != nullptr && !h->empty()) {
    return std::string(bearer_token(*h));
  }
  return {};
}

core::Result<QueryOptions> parse_query_options(const Request& req) {
  return parse_query_options(req, process_rand());
}

core::Result<QueryOptions> parse_query_options(const Request& req, core::Rand& rand) {
  QueryOptions q;
  q.dc = std::string(first_value(req, "dc"));
  q.token = parse_token(req);
  q.filter = std::string(first_value(req, "filter"));

  // parseConsistency
  q.stale = query_flag(req, "stale");
  q.consistent = query_flag(req, "consistent");
  q.cached = query_flag(req, "cached");
  if (auto text = first_value(req, "max_stale"); !text.empty()) {
    auto d = core::parse_go_duration(text);
    if (!d) return invalid("Invalid max_stale value \"" + std::string(text) + "\"");
    q.max_stale = *d;
    if (q.max_stale.count() > 0) q.stale = true;
  }
  if (q.stale && q.consistent) {
    return invalid("Cannot specify ?stale with ?consistent, conflicting semantics.");
  }
  if (q.cached && q.consistent) {
    return invalid("Cannot specify ?cached with ?consistent, conflicting semantics.");
  }

  // parseWait
  core::Duration wait{0};
  if (auto text = first_value(req, "wait"); !text.empty()) {
    auto d = core::parse_go_duration(text);
    if (!d) return invalid("Invalid wait time");
    wait = *d;
  }
  if (auto text = first_value(req, "index"); !text.empty()) {
    if (!parse_u64(text, q.min_index)) return invalid("Invalid index");
  }

  // blockingQuery's clamp, then lib.RandomStagger(wait / JitterFraction).
  if (wait > core::limits::blocking_wait_max) {
    wait = core::limits::blocking_wait_max;
  } else if (wait.count() <= 0) {
    wait = core::limits::blocking_wait_default;
  }
  const auto jitter_range = wait.count() / core::limits::blocking_jitter_fraction;
  if (jitter_range > 0) {
    wait += core::Duration(static_cast<core::Duration::rep>(
        rand.next_u64() % static_cast<std::uint64_t>(jitter_range)));
  }
  q.wait = wait;
  return q;
}

}  // namespace pc::http
