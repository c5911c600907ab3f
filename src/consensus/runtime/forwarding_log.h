#pragma once
// ForwardingLog: the Log a server's endpoints write to. On the leader a proposal goes to the
// local ReplicatedLog; on a follower it is sent to the leader over rpc (kRpcRaftApply), the
// leader proposes it and answers with the outcome once applied, and the follower hands that
// outcome to the writer only after it has applied the same entry itself, so the writer then
// reads its own write from this server (Consul forwards writes to the leader the same way).
//
// Outcomes cross the network as bytes: a ResultCodec turns the Fsm's std::any into bytes on
// the leader and back on the follower.
//
// Thread-safety: propose() and the accessors from any thread. serve() once, before the rpc
// server starts.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "consensus/runtime/replicated_log.h"
#include "rpc/transport.h"

namespace pc::consensus {

struct ResultCodec {
  std::function<std::string(const std::any&)> encode;
  std::function<core::Result<std::any>(std::string_view)> decode;
};

class ForwardingLog final : public Log {
 public:
  // `hold`: how long a write waits for a leader when there is none, or when the leader it
  // was sent to cannot be reached (Consul's rpc_hold_timeout, 7 s), before it fails with
  // "No cluster leader".
  ForwardingLog(ReplicatedLog& raft, rpc::RpcClient& client, ResultCodec codec,
                std::chrono::milliseconds timeout = std::chrono::seconds(10),
                std::chrono::milliseconds hold = std::chrono::seconds(7));

  // Registers the kRpcRaftApply handler (handle_apply): proposals forwarded by other servers.
  void serve(rpc::RpcServer& server);
  void handle_apply(rpc::Request request, rpc::Responder responder);

 private:
  using Clock = std::chrono::steady_clock;
  // How often a held request tries a leader it could not reach, in case that one is back.
  static constexpr std::chrono::milliseconds kRetryUnreachable{200};
  using RemoteDone = std::function<void(core::Result<std::string>)>;
  // Runs `local` when this server leads; otherwise sends `payload` to the leader as `method`
  // and hands its reply to `remote`. While there is no leader, or the leader cannot be
  // reached before the request leaves, it waits and tries again until `deadline` (Consul's
  // rpc_hold_timeout), then fails "No cluster leader"; a request that may have reached the
  // leader is never sent twice. Either callback runs once, on any thread.
  void forward(rpc::Method method, std::shared_ptr<const std::string> payload,
               Clock::time_point deadline, std::function<void()> local, RemoteDone remote);
  void hold(rpc::Method method, std::shared_ptr<const std::string> payload,
            Clock::time_point deadline, std::function<void()> local, RemoteDone remote,
            raft::NodeId unreachable);
  // Runs `action` here on the leader, or sends "<verb>\n<address>" to the leader.
  void operate(const std::string& verb, std::string address, OperatorDone done);

 public:
  void propose(std::string command, ProposeDone done) override;
  LeaderInfo leader() const override { return raft_.leader(); }
  std::uint64_t last_index() const override { return raft_.last_index(); }
  std::uint64_t applied_index() const override { return raft_.applied_index(); }
  std::vector<std::string> voters() const override { return raft_.voters(); }
  RaftConfiguration configuration() const override { return raft_.configuration(); }
  void leader_configuration(ConfigurationDone done) override;
  void read_barrier(OperatorDone done) override { raft_.read_barrier(std::move(done)); }
  bool lease_valid() const override { return raft_.lease_valid(); }
  void remove_server(std::string address, OperatorDone done) override;
  void transfer_leadership(std::string address, OperatorDone done) override;
  // The kRpcRaftOperator handler: an operator action forwarded by another server.
  void handle_operator(rpc::Request request, rpc::Responder responder);

 private:
  ReplicatedLog& raft_;
  rpc::RpcClient& client_;
  ResultCodec codec_;
  std::chrono::milliseconds timeout_;
  std::chrono::milliseconds hold_;
};

}  // namespace pc::consensus
