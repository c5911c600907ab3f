// Fuzz target for what the API decodes from clients: the query string (?index, ?wait, flags,
// ?cas, ?flags, ?acquire...) and the JSON bodies of /v1/txn and /v1/session/create, driven
// through the real handlers over a live store and -dev log. Input: one selector byte, then
// "<query>\n<body>". Whatever comes in, the handler must answer exactly once, and never
// crash or commit an entry that does not decode (StoreFsm would stop the process).
#include <cstdint>
#include <future>
#include <string>
#include <string_view>

#include "consensus/runtime/single_node_log.h"
#include "endpoints/context.h"
#include "http/handlers/handlers.h"
#include "http/query.h"
#include "proto/commands.pb.h"

namespace {

using namespace pc;

class Fsm : public consensus::Fsm {
 public:
  explicit Fsm(state::Store& store) : store_(store) {}
  std::any apply(std::uint64_t index, std::string_view bytes) override {
    auto cmd = state::decode_command(bytes);
    PC_ASSERT(cmd.has_value(), "a handler committed an undecodable entry: {}", cmd.error().message);
    return store_.apply(index, *cmd);
  }
  void publish() override { store_.publish(); }

 private:
  state::Store& store_;
};

struct World {
  World() : fsm(store), log(fsm, "127.0.0.1:8300"), ctx{store, log, clock, rand, {}} {
    ctx.identity.node_name = "fuzz";
    ctx.identity.datacenter = "dc1";
    log.start();
    // The node with its serfHealth check, as the agent registers itself, so session creates
    // (which depend on serfHealth by default) can succeed.
    proto::Command cmd;
    auto* reg = cmd.mutable_catalog_register();
    reg->set_node("fuzz");
    reg->set_address("127.0.0.1");
    reg->mutable_check()->set_check_id("serfHealth");
    reg->mutable_check()->set_status("passing");
    std::promise<void> done;
    endpoints::submit(ctx, cmd, [&](core::Result<state::ApplyResult>) { done.set_value(); });
    done.get_future().wait();
  }
  const core::SystemClock& clock = core::SystemClock::instance();
  core::SystemRand rand{1};
  state::Store store;
  Fsm fsm;
  consensus::SingleNodeLog log;
  endpoints::Context ctx;
};

void split_query(std::string_view raw, http::Request& req) {
  req.raw_query = std::string(raw);
  while (!raw.empty()) {
    auto amp = raw.find('&');
    std::string_view part = raw.substr(0, amp);
    auto eq = part.find('=');
    req.query.emplace_back(std::string(part.substr(0, eq)),
                           eq == std::string_view::npos ? "" : std::string(part.substr(eq + 1)));
    if (amp == std::string_view::npos) break;
    raw.remove_prefix(amp + 1);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static World world;
  if (size == 0) return 0;
  std::string_view input(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto newline = input.find('\n');
  http::Request req;
  split_query(input.substr(0, newline), req);
  if (newline != std::string_view::npos) req.body = std::string(input.substr(newline + 1));
  (void)http::parse_query_options(req);

  using Fn = void (*)(endpoints::Context&, const http::Request&, http::Reply);
  struct Route {
    const char* method;
    const char* path;
    Fn fn;
  };
  static const Route kRoutes[] = {
      {"PUT", "/v1/txn", http::handlers::txn},
      {"PUT", "/v1/session/create", http::handlers::session_create},
      {"PUT", "/v1/kv/fuzz/key", http::handlers::kv},
      {"GET", "/v1/kv/fuzz/", http::handlers::kv},
      {"DELETE", "/v1/kv/fuzz/key", http::handlers::kv},
  };
  const Route& route = kRoutes[data[0] % (sizeof kRoutes / sizeof kRoutes[0])];
  req.method = route.method;
  req.path = route.path;
  std::promise<void> answered;
  int replies = 0;
  route.fn(world.ctx, req, [&](http::Outcome outcome) {
    ++replies;
    if (auto* read = std::get_if<http::BlockingRead>(&outcome)) {
      state::WatchSet ws;
      (void)read->run(ws);
    }
    answered.set_value();
  });
  answered.get_future().wait();
  PC_ASSERT(replies == 1, "a handler replied {} times", replies);
  return 0;
}
