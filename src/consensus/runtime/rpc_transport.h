#pragma once
// RaftTransport over rpc/: Raft messages leave as one-way rpc messages (method
// kRaftMessages), one encoded batch per destination and Ready, and arrive through
// RpcServer::on_message into ReplicatedLog::receive(). A destination the rpc client cannot
// reach is reported to Raft (report_unreachable), which slows replication to it to probing.
//
// Thread-safety: send() from the Raft thread; deliver() from rpc I/O threads.
#include <functional>
#include <string>
#include <vector>

#include "consensus/runtime/replicated_log.h"
#include "rpc/transport.h"

namespace pc::consensus {

// The rpc method numbers of server-to-server traffic (one list, so they never collide).
enum RpcMethod : rpc::Method {
  kRpcRaftMessages = 1,  // one-way: an encoded batch of Raft messages
  kRpcRaftApply = 2,     // request: a command for the leader to propose; reply: its outcome
  kRpcServerInfo = 3,    // request: empty; reply: the server's id, name and addresses
  // request: "remove|transfer\n<address>" or "join\n<raft id>\n<address>"; reply: empty
  kRpcRaftOperator = 4,
};

class RpcRaftTransport final : public RaftTransport {
 public:
  // `address_of` maps a node id to its rpc address ("" when unknown); it is called on the
  // Raft thread. (RpcClient::Options::on_unreachable, which knows only an address, is the
  // daemon's to map back to an id.)
  RpcRaftTransport(rpc::RpcClient& client, std::function<std::string(raft::NodeId)> address_of);

  // Where incoming batches go; set before the server starts delivering.
  void set_log(ReplicatedLog* log) { log_ = log; }

  void send(std::vector<raft::Message> messages) override;
  // An inbound rpc message of method kRpcRaftMessages; a batch that does not decode is
  // logged and dropped.
  void deliver(const rpc::Message& message);

 private:
  rpc::RpcClient& client_;
  std::function<std::string(raft::NodeId)> address_of_;
  ReplicatedLog* log_ = nullptr;
};

}  // namespace pc::consensus
