#include "consensus/runtime/forwarding_log.h"

#include <memory>
#include <utility>

#include "consensus/runtime/message_codec.h"
#include "consensus/runtime/rpc_transport.h"

namespace pc::consensus {
namespace {

// The reply to a forwarded proposal: the leader's applied index when it answered (at or past
// the entry), then the encoded outcome.
std::string encode_reply(std::uint64_t index, std::string_view outcome) {
  std::string out;
  for (int i = 0; i < 8; ++i) out += static_cast<char>((index >> (8 * i)) & 0xff);
  out += outcome;
  return out;
}

}  // namespace

ForwardingLog::ForwardingLog(ReplicatedLog& raft, rpc::RpcClient& client, ResultCodec codec,
                             std::chrono::milliseconds timeout, std::chrono::milliseconds hold)
    : raft_(raft), client_(client), codec_(std::move(codec)), timeout_(timeout), hold_(hold) {}

void ForwardingLog::serve(rpc::RpcServer& server) {
  server.handle(kRpcRaftApply, [this](rpc::Request request, rpc::Responder responder) {
    handle_apply(std::move(request), std::move(responder));
  });
}

void ForwardingLog::handle_apply(rpc::Request request, rpc::Responder responder) {
  raft_.propose(
      std::move(request.payload), [this, responder](core::Result<std::any> result) mutable {
        if (!result) {
          responder.fail(result.error());
          return;
        }
        // Runs after the batch holding the entry was applied and published, so the
        // applied index already covers it.
        responder.respond(encode_reply(raft_.applied_index(), codec_.encode(result.value())));
      });
}

void ForwardingLog::remove_server(std::string address, OperatorDone done) {
  operate("remove", std::move(address), std::move(done));
}

void ForwardingLog::transfer_leadership(std::string address, OperatorDone done) {
  operate("transfer", std::move(address), std::move(done));
}

void ForwardingLog::operate(const std::string& verb, std::string address, OperatorDone done) {
  const LeaderInfo leader = raft_.leader();
  if (leader.known_leader && leader.last_contact_ms == 0) {
    if (verb == "remove") {
      raft_.remove_server(std::move(address), std::move(done));
    } else {
      raft_.transfer_leadership(std::move(address), std::move(done));
    }
    return;
  }
  if (!leader.known_leader || leader.leader_address.empty()) {
    done(core::make_error(core::Code::kNotLeader, "No cluster leader"));
    return;
  }
  auto shared_done = std::make_shared<OperatorDone>(std::move(done));
  auto sent = client_.call(leader.leader_address, kRpcRaftOperator, verb + "\n" + address, timeout_,
                           [shared_done](core::Result<std::string> reply) {
                             if (!reply) {
                               (*shared_done)(reply.error());
                             } else {
                               (*shared_done)(core::ok());
                             }
                           });
  if (!sent) (*shared_done)(sent.error());
}

void ForwardingLog::leader_configuration(ConfigurationDone done) {
  auto shared_done = std::make_shared<ConfigurationDone>(std::move(done));
  forward(
      kRpcRaftOperator, std::make_shared<const std::string>("configuration\n"),
      Clock::now() + hold_, [this, shared_done] { (*shared_done)(raft_.configuration()); },
      [shared_done](core::Result<std::string> reply) {
        if (!reply) {
          (*shared_done)(reply.error());
        } else {
          (*shared_done)(decode_configuration(*reply));
        }
      });
}

void ForwardingLog::handle_operator(rpc::Request request, rpc::Responder responder) {
  const auto nl = request.payload.find('\n');
  const std::string verb = request.payload.substr(0, nl);
  if (verb == "configuration") {
    // Only the leader knows every server's progress; a server that lost leadership since
    // says so, and the asker's caller retries as after any "No cluster leader".
    const LeaderInfo leader = raft_.leader();
    if (!(leader.known_leader && leader.last_contact_ms == 0)) {
      responder.fail(core::make_error(core::Code::kNotLeader, "not the leader"));
      return;
    }
    responder.respond(encode_configuration(raft_.configuration()));
    return;
  }
  std::string address = nl == std::string::npos ? "" : request.payload.substr(nl + 1);
  OperatorDone done = [responder](core::Status s) mutable {
    if (s) {
      responder.respond("");
    } else {
      responder.fail(s.error());
    }
  };
  if (verb == "join") {
    // "join\n<raft id>\n<address>": a new server asks to be added as a voter.
    const auto nl2 = address.find('\n');
    raft::NodeId id = 0;
    try {
      id = std::stoull(address.substr(0, nl2));
    } catch (const std::exception&) {
      id = 0;
    }
    if (nl2 == std::string::npos || id == 0) {
      done(core::make_error(core::Code::kInvalidArgument, "malformed join request"));
      return;
    }
    raft_.add_voter(id, address.substr(nl2 + 1), std::move(done));
  } else if (verb == "remove") {
    raft_.remove_server(std::move(address), std::move(done));
  } else if (verb == "transfer") {
    raft_.transfer_leadership(std::move(address), std::move(done));
  } else {
    done(core::make_error(core::Code::kInvalidArgument, "unknown operator action " + verb));
  }
}

void ForwardingLog::propose(std::string command, ProposeDone done) {
  auto shared_done = std::make_shared<ProposeDone>(std::move(done));
  auto shared_command = std::make_shared<const std::string>(std::move(command));
  forward(
      kRpcRaftApply, shared_command, Clock::now() + hold_,
      [this, shared_command, shared_done] {
        raft_.propose(*shared_command,
                      [shared_done](core::Result<std::any> r) { (*shared_done)(std::move(r)); });
      },
      [this, shared_done](core::Result<std::string> reply) {
        if (!reply) {
          (*shared_done)(reply.error());
          return;
        }
        if (reply->size() < 8) {
          (*shared_done)(
              core::make_error(core::Code::kInternal, "rpc error: short forwarded-apply reply"));
          return;
        }
        std::uint64_t index = 0;
        for (int i = 0; i < 8; ++i) {
          index |= static_cast<std::uint64_t>(static_cast<unsigned char>((*reply)[i])) << (8 * i);
        }
        auto outcome = codec_.decode(std::string_view(*reply).substr(8));
        if (!outcome) {
          (*shared_done)(outcome.error());
          return;
        }
        // Hand the outcome over once this server has applied the entry too.
        raft_.when_applied(index, [shared_done, outcome = std::move(*outcome)]() mutable {
          (*shared_done)(std::move(outcome));
        });
      });
}

void ForwardingLog::forward(rpc::Method method, std::shared_ptr<const std::string> payload,
                            Clock::time_point deadline, std::function<void()> local,
                            RemoteDone remote) {
  const LeaderInfo leader = raft_.leader();
  if (leader.known_leader && leader.last_contact_ms == 0) {
    local();
    return;
  }
  if (!leader.known_leader || leader.leader_address.empty()) {
    hold(method, std::move(payload), deadline, std::move(local), std::move(remote), raft::kNoNode);
    return;
  }
  const raft::NodeId leader_id = raft_.status().leader;
  auto shared_local = std::make_shared<std::function<void()>>(std::move(local));
  auto shared_remote = std::make_shared<RemoteDone>(std::move(remote));
  auto sent = client_.call(leader.leader_address, method, *payload, timeout_,
                           [this, method, payload, deadline, shared_local, shared_remote,
                            leader_id](core::Result<std::string> reply) {
                             // The leader could not be reached (it may have died, or its connection
                             // is backing off after it restarted): wait and try again, as Consul
                             // holds an RPC while it finds a leader. Only when the request cannot
                             // have reached the leader: a connection that closed after sending may
                             // have carried a write that then committed, and sending it again would
                             // apply it twice. rpc's texts: "... unavailable: ..." (backing off,
                             // nothing sent) and "... failed: connect: ..." (never connected); "...
                             // closed: ..." may have been sent. Other errors are the leader's
                             // answer.
                             if (!reply) {
                               const auto& e = reply.error();
                               if (e.code == core::Code::kUnavailable &&
                                   (e.message.find(" unavailable: ") != std::string::npos ||
                                    e.message.find(" failed: connect") != std::string::npos)) {
                                 hold(method, payload, deadline, std::move(*shared_local),
                                      std::move(*shared_remote), leader_id);
                                 return;
                               }
                             }
                             (*shared_remote)(std::move(reply));
                           });
  if (!sent) {
    if (sent.error().code == core::Code::kUnavailable) {
      hold(method, std::move(payload), deadline, std::move(*shared_local),
           std::move(*shared_remote), leader_id);
      return;
    }
    (*shared_remote)(sent.error());
  }
}

void ForwardingLog::hold(rpc::Method method, std::shared_ptr<const std::string> payload,
                         Clock::time_point deadline, std::function<void()> local, RemoteDone remote,
                         raft::NodeId unreachable) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  if (left.count() <= 0) {
    remote(core::make_error(core::Code::kNotLeader, "No cluster leader"));
    return;
  }
  // Without a leader, wait for one. With one we could not reach, wait for another, but try
  // the same one again every kRetryUnreachable meanwhile: it may be back.
  const auto wait = unreachable == raft::kNoNode ? left : std::min(left, kRetryUnreachable);
  raft_.when_leader(
      unreachable, wait,
      [this, method, payload, deadline, local = std::move(local), remote = std::move(remote),
       unreachable](bool found) mutable {
        // A stopping log answers every wait at once: trying again would
        // spin until the deadline.
        if (!found &&
            (unreachable == raft::kNoNode || Clock::now() >= deadline || raft_.stopping())) {
          remote(core::make_error(core::Code::kNotLeader, "No cluster leader"));
          return;
        }
        forward(method, std::move(payload), deadline, std::move(local), std::move(remote));
      });
}

}  // namespace pc::consensus
