#pragma once
// The seam between the HTTP server (server.cc, the only Beast translation unit) and the
// handlers. Handlers see plain structs, never Beast or Asio, so they compile fast and are
// testable without sockets.
//
// Lifecycle: the server parses a request, finds its Handler in the route table and calls it
// on an I/O thread. The handler must call `reply` exactly once, either before returning
// (reads, validation errors) or later from any thread (writes that wait for the log).
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "core/clock.h"

namespace pc::state {
class WatchSet;
}

namespace pc::http {

struct Request {
  std::string method;  // upper case: GET, PUT, POST, DELETE, ...
  std::string path;    // percent-decoded path, e.g. "/v1/kv/foo bar"
  std::string raw_query;
  // Percent-decoded query parameters in order; a bare "?recurse" has an empty value.
  std::vector<std::pair<std::string, std::string>> query;
  // Header names lower-cased.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_addr;

  const std::string* query_param(std::string_view name) const {
    for (const auto& [k, v] : query) {
      if (k == name) return &v;
    }
    return nullptr;
  }
  bool has_query(std::string_view name) const { return query_param(name) != nullptr; }
  const std::string* header(std::string_view lower_name) const {
    for (const auto& [k, v] : headers) {
      if (k == lower_name) return &v;
    }
    return nullptr;
  }
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  static Response text(int status, std::string body) {
    Response r;
    r.status = status;
    r.content_type = "text/plain; charset=utf-8";
    r.body = std::move(body);
    return r;
  }
  static Response json(std::string body) {
    Response r;
    r.body = std::move(body);
    return r;
  }
};

// What one run of a blocking read produced: the response and the index it reflects.
struct ReadOutcome {
  std::uint64_t index = 0;
  Response response;
};

// A read that supports Consul's blocking queries (?index=N&wait=D). The server runs
// `run` with a fresh WatchSet; `run` registers watches on exactly what it reads *before*
// taking its state snapshot, then reads. If outcome.index > min_index (or min_index is 0) the
// server replies at once; otherwise it parks (a suspended coroutine, no thread) until the
// WatchSet fires or `wait` passes, and runs again. At the deadline it replies with the last
// outcome. The server sets X-Consul-Index (at least 1), X-Consul-KnownLeader and
// X-Consul-LastContact on the final response.
struct BlockingRead {
  std::uint64_t min_index = 0;
  core::Duration wait{0};  // already clamped to the maximum, jitter included
  std::function<ReadOutcome(state::WatchSet&)> run;
};

using Outcome = std::variant<Response, BlockingRead>;
using Reply = std::function<void(Outcome)>;
using Handler = std::function<void(const Request&, Reply)>;

}  // namespace pc::http
