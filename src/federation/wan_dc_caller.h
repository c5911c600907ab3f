#pragma once
// The DcCaller of a server (dc_caller.h): the servers of each datacenter come from the WAN
// gossip pool (router.h), asked afresh on every call, so a server that fails drops out as soon
// as gossip says so; the calls go over a pooled rpc client of its own (one multiplexed
// connection per remote server, TLS per internal_rpc as the agent's other server RPC).
//
// One call: the usable servers of `dc` in random order (attempt_order); the first is called,
// and when it cannot be reached the next one, up to attempts_max servers, all within the
// call's one timeout (a later attempt gets what is left of it). What counts as "cannot be
// reached" follows the client agents' rule (daemon/client_runtime.h): a request that may have
// reached a server is never sent twice, so call() moves on only when the request was surely
// not handled (rpc::never_handled: connect refused or timed out, the server stopping), and
// call_idempotent(), for reads, also when the connection dropped after sending or the server
// did not answer within the attempt's own bound. With no usable server, or none reachable,
// the error is kUnavailable "No path to datacenter" (Consul's ErrNoDCPath); the reason of the
// last failure is logged.
//
// A server that stops answering with its pooled connection open (a WAN partition starting, a
// frozen host) is found by the connection's silence (silence_timeout: pings go unanswered),
// which closes that connection, so the call moves on in seconds and later calls reconnect
// instead of queueing behind it. Before each later attempt, servers the WAN pool has found
// failed since the call began are dropped from its list. Errors come back without the rpc layer's
// addresses and method numbers (logged instead): kTimeout "rpc error: call to datacenter DC timed
// out", kUnavailable "rpc error: connection to datacenter DC lost before its answer" for a write.
//
// Lifecycle: construct, start() once, stop() once (the destructor stops too), from the owning
// thread. call() and known_datacenters() from any thread; `done` runs on an rpc I/O thread,
// or at once in the calling thread when there is nothing to call. After stop() calls fail.
#include <atomic>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/rand.h"
#include "federation/dc_caller.h"
#include "gossip/core/memberlist.h"
#include "rpc/stream.h"
#include "rpc/transport.h"

namespace pc::federation {

struct WanDcCallerOptions {
  // The WAN pool's members now; called on every call, from any thread.
  std::function<std::vector<gossip::MemberInfo>()> members;
  // TLS for the connections (rpc/tls_stream.h); null: plain TCP.
  rpc::StreamWrapper wrap_stream;
  // Servers of one datacenter tried per call (Consul tries one per forward and marks it
  // failed; a few more turn a dead server into a short delay instead of an error).
  std::size_t attempts_max = 3;
  // Bounds each connect, so a dead host leaves time for the next server within the call.
  std::chrono::milliseconds connect_timeout{std::chrono::seconds(2)};
  // A connection with calls waiting that hears nothing back, not even a pong, for this long
  // is closed (rpc::RpcClient::Options::silence_timeout): well above a WAN round trip, and
  // small enough that attempts_max silent servers fit in a dozen seconds.
  std::chrono::milliseconds silence_timeout{std::chrono::seconds(2)};
};

// How long one call may take, and how long each server tried within it may take to answer.
struct DcCallBounds {
  core::Duration total{};
  // Zero: the whole of `total` (a blocking query parks on one server for its wait). Otherwise
  // a read whose server did not answer within it moves on to the next server; a write fails
  // with kTimeout (it may have run).
  core::Duration attempt{};
};

class WanDcCaller final : public DcCaller {
 public:
  explicit WanDcCaller(WanDcCallerOptions options);
  ~WanDcCaller() override;
  WanDcCaller(const WanDcCaller&) = delete;
  WanDcCaller& operator=(const WanDcCaller&) = delete;

  void start();
  void stop();

  void call(const std::string& dc, rpc::Method method, std::string payload, core::Duration timeout,
            DcReplyFn done) override;
  // call() for a request that may safely run twice (a read).
  void call_idempotent(const std::string& dc, rpc::Method method, std::string payload,
                       core::Duration timeout, DcReplyFn done);
  // Either of the above with a bound per server tried as well.
  void call_bounded(const std::string& dc, rpc::Method method, std::string payload,
                    DcCallBounds bounds, bool idempotent, DcReplyFn done);
  std::vector<std::string> known_datacenters() const override;
  // Whether the pool lists a usable server of `dc` now (a call may still fail to reach it).
  bool has_servers(const std::string& dc) const;

 private:
  struct Attempt;
  void try_next(std::shared_ptr<Attempt> attempt);
  void on_answer(std::shared_ptr<Attempt> attempt, const std::string& server,
                 core::Result<std::string> result);
  // Drops the untried servers the WAN pool no longer lists as usable; whether any remain.
  bool drop_failed_servers(Attempt& attempt) const;

  const WanDcCallerOptions options_;
  std::unique_ptr<rpc::RpcClient> rpc_;
  core::SystemRand rand_;
  std::atomic<bool> running_{false};
};

}  // namespace pc::federation
