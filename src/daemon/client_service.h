#pragma once
// A server's side of its client agents' RPC (daemon/client_rpc.h): proposes the writes they
// send through this server's log (forwarded to the leader when this server follows) once the
// token each acts for is allowed to make it (daemon/client_write_acl.h), tells them what a
// token secret grants so they can enforce ACLs themselves, reads
// their node's catalog rows at a consistent read point, and runs the HTTP API requests they
// forward through this server's route table, blocking queries included.
//
// The handlers are registered before the rpc server starts, but the endpoints' context and
// routes exist only later: until attach(), requests fail kUnavailable "server is starting".
//
// Thread-safety: handlers run on rpc I/O threads and answer from any thread; attach() once.
#include <atomic>

#include "consensus/log.h"
#include "core/timer_thread.h"
#include "daemon/dns_service.h"
#include "endpoints/context.h"
#include "http/router.h"
#include "rpc/transport.h"

namespace pc::daemon {

class ClientService {
 public:
  void register_handlers(rpc::RpcServer& server);
  // `ctx`, `router` and `timers` must outlive the rpc server.
  void attach(endpoints::Context& ctx, const http::Router& router, core::TimerThread& timers);
  // The DNS interface that answers client agents' queries (null until then: unavailable).
  void attach_dns(DnsService* dns) { dns_.store(dns, std::memory_order_release); }

 private:
  void handle_apply(rpc::Request request, rpc::Responder responder);
  void handle_node_rows(rpc::Request request, rpc::Responder responder);
  void handle_http(rpc::Request request, rpc::Responder responder);
  void handle_dns(rpc::Request request, rpc::Responder responder);
  void handle_acl_resolve(rpc::Request request, rpc::Responder responder);
  bool ready(rpc::Responder& responder) const;

  endpoints::Context* ctx_ = nullptr;
  const http::Router* router_ = nullptr;
  core::TimerThread* timers_ = nullptr;
  std::atomic<bool> attached_{false};
  std::atomic<DnsService*> dns_{nullptr};
};

}  // namespace pc::daemon
