#pragma once
// Runs `proconsul` command lines in-process with string streams, a fake environment and a
// scripted HTTP function that records every request. Single-threaded.
#include <deque>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "cli/cli.h"

namespace pc::cli::testing {

struct RecordedRequest {
  HttpTarget target;
  std::string method;
  std::string path;  // path and query as sent
  std::string body;
  Headers headers;

  const std::string* header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return &v;
    }
    return nullptr;
  }
};

class Harness {
 public:
  Harness() {
    ctx.out = &out;
    ctx.err = &err;
    ctx.in = &in;
    ctx.getenv = [this](std::string_view name) -> std::optional<std::string> {
      auto it = env.find(std::string(name));
      if (it == env.end()) return std::nullopt;
      return it->second;
    };
    ctx.http = [this](const HttpTarget& target, std::string_view method, std::string_view path,
                      std::string_view body, const Headers& headers) -> core::Result<HttpResponse> {
      requests.push_back(RecordedRequest{target, std::string(method), std::string(path),
                                         std::string(body), headers});
      if (replies.empty()) {
        return core::make_error(core::Code::kInternal, "test: no scripted reply");
      }
      core::Result<HttpResponse> reply = std::move(replies.front());
      replies.pop_front();
      return reply;
    };
  }

  // Queues the answer to the next request.
  void reply(int status, std::string body) {
    HttpResponse r;
    r.status = status;
    r.body = std::move(body);
    replies.emplace_back(std::move(r));
  }
  void fail(std::string message) {
    replies.emplace_back(core::make_error(core::Code::kUnavailable, std::move(message)));
  }

  int run(std::vector<std::string> args) { return pc::cli::run(args, ctx); }

  std::ostringstream out;
  std::ostringstream err;
  std::istringstream in;
  std::map<std::string, std::string> env;
  std::vector<RecordedRequest> requests;
  std::deque<core::Result<HttpResponse>> replies;
  Context ctx;
};

}  // namespace pc::cli::testing
