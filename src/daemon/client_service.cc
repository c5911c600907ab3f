#include "daemon/client_service.h"

#include "acl/builtin.h"
#include "daemon/apply_outcome.h"
#include "daemon/client_rpc.h"
#include "endpoints/acl_resolver.h"
#include "endpoints/acl_write.h"
#include "endpoints/context.h"
#include "endpoints/query.h"
#include "http/blocking_runner.h"
#include "proto/commands.pb.h"
#include "state/store.h"

namespace pc::daemon {
namespace {

// With ACLs on, the token a client agent's write acts for must allow it (an empty token is
// the anonymous token: the agent has already chosen its agent or default token).
core::Status authorize_client_write(const endpoints::Context& ctx, const ClientWrite& write) {
  if (ctx.acl == nullptr || !ctx.acl->enabled()) return core::ok();
  proto::Command command;
  if (auto st = parse_client_command(write.command, command); !st) return st;
  return endpoints::authorize_write_for(ctx, command, write.token);
}

}  // namespace

void ClientService::register_handlers(rpc::RpcServer& server) {
  server.handle(kRpcClientApply, [this](rpc::Request r, rpc::Responder resp) {
    handle_apply(std::move(r), std::move(resp));
  });
  server.handle(kRpcClientNodeRows, [this](rpc::Request r, rpc::Responder resp) {
    handle_node_rows(std::move(r), std::move(resp));
  });
  server.handle(kRpcClientHttp, [this](rpc::Request r, rpc::Responder resp) {
    handle_http(std::move(r), std::move(resp));
  });
  server.handle(kRpcClientDns, [this](rpc::Request r, rpc::Responder resp) {
    handle_dns(std::move(r), std::move(resp));
  });
  server.handle(kRpcClientAclResolve, [this](rpc::Request r, rpc::Responder resp) {
    handle_acl_resolve(std::move(r), std::move(resp));
  });
  // Another datacenter's server running a prepared query here (its failover).
  server.handle(endpoints::kRpcQueryExecuteRemote, [this](rpc::Request r, rpc::Responder resp) {
    if (!ready(resp)) return;
    auto out = endpoints::query_execute_remote(*ctx_, r.payload);
    if (!out) return resp.fail(out.error());
    resp.respond(std::move(*out));
  });
}

void ClientService::attach(endpoints::Context& ctx, const http::Router& router,
                           core::TimerThread& timers) {
  ctx_ = &ctx;
  router_ = &router;
  timers_ = &timers;
  attached_.store(true, std::memory_order_release);
}

bool ClientService::ready(rpc::Responder& responder) const {
  if (attached_.load(std::memory_order_acquire)) return true;
  responder.fail(core::make_error(core::Code::kUnavailable, "server is starting"));
  return false;
}

void ClientService::handle_apply(rpc::Request request, rpc::Responder responder) {
  if (!ready(responder)) return;
  auto write = decode_client_apply(request.payload);
  if (!write) {
    responder.fail(write.error());
    return;
  }
  if (auto allowed = authorize_client_write(*ctx_, *write); !allowed) {
    responder.fail(allowed.error());
    return;
  }
  auto command = check_client_command(write->command, endpoints::unix_now_ns(*ctx_));
  if (!command) {
    responder.fail(command.error());
    return;
  }
  // Through this server's log: a follower forwards it to the leader. The outcome travels
  // back as the ApplyResult the agent's own endpoints read.
  ctx_->log.propose(std::move(*command), [responder](core::Result<std::any> result) mutable {
    if (!result) {
      responder.fail(result.error());
      return;
    }
    responder.respond(encode_apply_outcome(*result));
  });
}

void ClientService::handle_acl_resolve(rpc::Request request, rpc::Responder responder) {
  if (!ready(responder)) return;
  auto secret = decode_acl_resolve_request(request.payload);
  if (!secret) {
    responder.fail(secret.error());
    return;
  }
  // describe_token fails only for a secret no token has: an answer, not an error.
  auto grants =
      endpoints::describe_token(ctx_->store.snapshot(), *secret, ctx_->identity.datacenter);
  responder.respond(encode_acl_resolve_reply(
      grants ? std::optional<acl::TokenGrantsText>(std::move(*grants)) : std::nullopt));
}

void ClientService::handle_node_rows(rpc::Request request, rpc::Responder responder) {
  if (!ready(responder)) return;
  auto node = decode_node_rows_request(request.payload);
  if (!node) {
    responder.fail(node.error());
    return;
  }
  // Consul's anti-entropy reads in the default mode: at a read point no older than any
  // acknowledged write, so the agent does not redo a write it just made.
  auto read = [reader = agent::store_reader(ctx_->store, std::move(*node)), responder]() mutable {
    auto rows = reader();
    if (!rows) {
      responder.fail(rows.error());
      return;
    }
    responder.respond(encode_node_rows(*rows));
  };
  if (ctx_->log.lease_valid()) {
    read();
    return;
  }
  ctx_->log.read_barrier([read = std::move(read), responder](core::Status s) mutable {
    if (!s) {
      responder.fail(s.error());
      return;
    }
    read();
  });
}

void ClientService::handle_http(rpc::Request request, rpc::Responder responder) {
  if (!ready(responder)) return;
  auto req = decode_http_request(request.payload);
  if (!req) {
    responder.fail(req.error());
    return;
  }
  consensus::Log& log = ctx_->log;
  core::TimerThread& timers = *timers_;
  router_->dispatch(*req, [&log, &timers, responder](http::Outcome outcome) mutable {
    auto leader_info = [&log] {
      auto l = log.leader();
      return http::LeaderInfo{l.known_leader, l.last_contact_ms};
    };
    http::run_outcome(std::move(outcome), timers, leader_info,
                      [responder](http::Response response) mutable {
                        responder.respond(encode_http_response(response));
                      });
  });
}

void ClientService::handle_dns(rpc::Request request, rpc::Responder responder) {
  DnsService* dns = dns_.load(std::memory_order_acquire);
  if (dns == nullptr) {
    responder.fail(core::make_error(core::Code::kUnavailable, "this server does not serve DNS"));
    return;
  }
  auto query = decode_dns_query(request.payload);
  if (!query) {
    responder.fail(query.error());
    return;
  }
  dns->answer_async(
      query->bytes, query->tcp, query->token, query->options ? &*query->options : nullptr,
      [responder](std::optional<std::vector<std::uint8_t>> answer) mutable {
        if (!answer) {
          responder.fail(core::make_error(core::Code::kInvalidArgument, "no answer to this query"));
          return;
        }
        responder.respond(std::string(answer->begin(), answer->end()));
      });
}

}  // namespace pc::daemon
