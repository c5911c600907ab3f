#pragma once
// A live store and -dev log for driving the API handlers directly, without a server or
// sockets: what the handler tests and the api_request fuzzer share. The world starts with one
// node, registered with its serfHealth check as the agent registers itself (sessions depend
// on serfHealth by default). call() runs a handler on a request and, for a blocking read,
// runs the read once, as the server does for a request without ?index.
//
// Lifecycle: construct, call() from one thread at a time, destroy (stops the log).
#include <cstdint>
#include <future>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "agent/local_agent.h"
#include "consensus/runtime/single_node_log.h"
#include "core/assert.h"
#include "endpoints/context.h"
#include "http/handler.h"
#include "proto/commands.pb.h"
#include "state/store.h"

namespace pc::http::testing {

// Applies committed entries to the store; an entry that does not decode is a handler bug (a
// real server would stop on it), so it is fatal here too.
class StoreFsm final : public consensus::Fsm {
 public:
  explicit StoreFsm(state::Store& store) : store_(store) {}
  std::any apply(std::uint64_t index, std::string_view bytes) override {
    auto cmd = state::decode_command(bytes);
    PC_ASSERT(cmd.has_value(), "a handler committed an undecodable entry: {}", cmd.error().message);
    return store_.apply(index, *cmd);
  }
  void publish() override { store_.publish(); }

 private:
  state::Store& store_;
};

// "a=1&b&c=" into req.raw_query and req.query, without percent-decoding (the server decodes;
// the tests and the fuzzer hand over decoded text).
inline void split_query(std::string_view raw, Request& req) {
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

class HandlerWorld {
 public:
  using HandlerFn = void (*)(endpoints::Context&, const Request&, Reply);

  explicit HandlerWorld(std::string node_name)
      : fsm_(store_), log_(fsm_, "127.0.0.1:8300"), ctx_{store_, log_, clock_, rand_, {}} {
    ctx_.identity.node_name = node_name;
    ctx_.identity.datacenter = "dc1";
    log_.start();
    proto::Command cmd;
    auto* reg = cmd.mutable_catalog_register();
    reg->set_node(std::move(node_name));
    reg->set_address("127.0.0.1");
    reg->mutable_check()->set_check_id("serfHealth");
    reg->mutable_check()->set_status("passing");
    std::promise<void> done;
    endpoints::submit(ctx_, cmd, [&](core::Result<state::ApplyResult>) { done.set_value(); });
    done.get_future().wait();
    // The agent's own services and checks, synced through the same log. One probe worker:
    // registered HTTP/TCP checks may point anywhere, and they only need to run, not be fast.
    agent::NodeInfo node{"", ctx_.identity.node_name, "127.0.0.1", "dc1", {}, {}};
    agent::LocalAgent::Options options;
    options.runner.workers = 1;
    agent_ = std::make_unique<agent::LocalAgent>(
        node, agent::store_reader(store_, node.name),
        // A server's agent: every write goes to its own log, whatever token it names.
        [this](proto::Command c, const std::string&) {
          std::promise<core::Status> applied;
          endpoints::submit(ctx_, std::move(c), [&applied](core::Result<state::ApplyResult> r) {
            applied.set_value(r ? core::ok() : core::Status(r.error()));
          });
          return applied.get_future().get();
        },
        timers_, clock_, agent_rand_, options);
    ctx_.agent = agent_.get();
    agent_->start();
  }
  ~HandlerWorld() {
    agent_->stop();
    timers_.stop();
    log_.stop();
  }
  HandlerWorld(const HandlerWorld&) = delete;
  HandlerWorld& operator=(const HandlerWorld&) = delete;

  // Runs `fn` on `req` and returns its response; a handler that does not reply exactly once
  // is a broken invariant.
  Response call(HandlerFn fn, const Request& req) {
    std::promise<Response> answered;
    int replies = 0;
    fn(ctx_, req, [&](Outcome outcome) {
      if (++replies > 1) return;  // reported below
      if (auto* read = std::get_if<BlockingRead>(&outcome)) {
        state::WatchSet ws;
        answered.set_value(read->run(ws).response);
      } else {
        answered.set_value(std::move(std::get<Response>(outcome)));
      }
    });
    Response r = answered.get_future().get();
    PC_ASSERT(replies == 1, "a handler replied {} times", replies);
    return r;
  }
  Response call(HandlerFn fn, std::string method, std::string path, std::string_view query = "",
                std::string body = "") {
    Request req;
    req.method = std::move(method);
    req.path = std::move(path);
    split_query(query, req);
    req.body = std::move(body);
    return call(fn, req);
  }

  endpoints::Context& ctx() { return ctx_; }
  state::Store& store() { return store_; }

 private:
  const core::SystemClock& clock_ = core::SystemClock::instance();
  core::SystemRand rand_{1};
  state::Store store_;
  StoreFsm fsm_;
  consensus::SingleNodeLog log_;
  endpoints::Context ctx_;
  core::TimerThread timers_;
  core::SystemRand agent_rand_{2};
  std::unique_ptr<agent::LocalAgent> agent_;
};

}  // namespace pc::http::testing
