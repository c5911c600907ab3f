#pragma once
// Consul's common query parameters (agent/http.go parse: parseDC, parseToken, parseFilter,
// parseConsistency, parseWait), parsed once per request by the handlers that take them.
//
// Consul's rules, which we follow exactly:
//   - a flag such as ?stale, ?recurse or ?keys is true when present at all, whatever its value
//     (?recurse=false is still true);
//   - of repeated parameters the first counts, and an empty value counts as absent;
//   - the token comes from ?token, else X-Consul-Token, else "Authorization: Bearer <t>";
//   - errors are 400s with Consul's texts: "Cannot specify ?stale with ?consistent, conflicting
//     semantics.", "Invalid wait time", "Invalid index", checked in that order.
//   - ?wait is clamped as Consul's blockingQuery does (none or <= 0 -> 5 min, > 10 min -> 10 min)
//     and a random jitter in [0, wait/16) is added so clients that woke together do not come
//     back together (core/limits.h).
//
// Stateless apart from the process-wide random source; safe from any thread.
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/clock.h"
#include "core/rand.h"
#include "core/result.h"
#include "http/handler.h"

namespace pc::http {

struct QueryOptions {
  std::uint64_t min_index = 0;  // ?index; 0 = do not block
  core::Duration wait{0};       // clamped, jitter included; meaningful when min_index > 0
  bool stale = false;           // ?stale, or ?max_stale > 0
  bool consistent = false;      // ?consistent
  bool cached = false;          // ?cached (agent cache; Consul's use_cache default is on)
  core::Duration max_stale{0};  // ?max_stale, a Go duration
  std::string dc, token, filter;

  bool blocking() const { return min_index > 0; }
};

// Parses the options of `req`. The jitter comes from `rand` (a seeded one in tests).
core::Result<QueryOptions> parse_query_options(const Request& req, core::Rand& rand);
// Same, with a process-wide SystemRand.
core::Result<QueryOptions> parse_query_options(const Request& req);

// The token alone (?token, X-Consul-Token, Authorization: Bearer), for handlers that take no
// other option. Empty when none was given.
std::string parse_token(const Request& req);

// Consul's presence test: true if ?name appears at all, with any value or none.
bool query_flag(const Request& req, std::string_view name);

// Wraps `run` as the server's BlockingRead with these options' index and wait.
inline BlockingRead blocking_read(const QueryOptions& options,
                                  std::function<ReadOutcome(state::WatchSet&)> run) {
  return BlockingRead{options.min_index, options.wait, std::move(run)};
}

}  // namespace pc::http
