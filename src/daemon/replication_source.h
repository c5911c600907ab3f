#pragma once
// The primary's side of replication: answers server RPC method 21 (kRpcReplicationFetch)
// with one kind's set (endpoints::replication_read). A request whose min_index the kind's
// table has not passed yet is parked on a watch of that table and answered when it changes
// or after max_wait (capped at kMaxWait), as a blocking query is; parking costs a watch and
// a timer, no thread.
//
// Lifecycle: register_handler() before the RPC server starts; attach() once the endpoints'
// context and timers exist (requests before it are refused as unavailable); the context and
// timers must outlive the RPC server's stop(). Thread-safe.
#include <atomic>

#include "core/timer_thread.h"
#include "endpoints/context.h"
#include "rpc/transport.h"

namespace pc::daemon {

class ReplicationSource {
 public:
  // The longest a secondary may park a fetch (Consul caps blocking queries at 10 minutes).
  static constexpr std::chrono::minutes kMaxWait{10};

  void register_handler(rpc::RpcServer& server);
  void attach(const endpoints::Context& ctx, core::TimerThread& timers);

 private:
  void handle(rpc::Request request, rpc::Responder responder);

  std::atomic<const endpoints::Context*> ctx_{nullptr};
  std::atomic<core::TimerThread*> timers_{nullptr};
};

}  // namespace pc::daemon
