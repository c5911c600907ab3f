#include "consensus/runtime/rpc_transport.h"

#include <map>
#include <utility>

#include "consensus/runtime/message_codec.h"
#include "core/log.h"

namespace pc::consensus {

RpcRaftTransport::RpcRaftTransport(rpc::RpcClient& client,
                                   std::function<std::string(raft::NodeId)> address_of)
    : client_(client), address_of_(std::move(address_of)) {}

void RpcRaftTransport::send(std::vector<raft::Message> messages) {
  std::map<raft::NodeId, std::vector<raft::Message>> by_destination;
  for (auto& m : messages) by_destination[m.to].push_back(std::move(m));
  for (auto& [to, batch] : by_destination) {
    const std::string address = address_of_(to);
    bool snapshot = false;
    for (const auto& m : batch) snapshot = snapshot || m.type == raft::MessageType::kSnap;
    if (address.empty()) {
      if (log_ != nullptr) log_->report_unreachable(to);
      continue;
    }
    auto sent = client_.send(address, kRpcRaftMessages, encode_raft_batch(batch));
    if (!sent) {
      core::log::debug("raft", "sending to {} ({}): {}", to, address, sent.error().message);
      if (log_ != nullptr) log_->report_unreachable(to);
    }
    // One-way delivery gives no acknowledgement: a snapshot handed to the connection counts
    // as sent; if it is lost the follower's next rejection makes the leader send another.
    if (snapshot && log_ != nullptr) log_->report_snapshot(to, sent.has_value());
  }
}

void RpcRaftTransport::deliver(const rpc::Message& message) {
  auto batch = decode_raft_batch(message.payload);
  if (!batch) {
    core::log::warn("raft", "dropping a bad message batch from {}: {}", message.peer,
                    batch.error().message);
    return;
  }
  if (log_ == nullptr) return;
  for (auto& m : *batch) log_->receive(std::move(m));
}

}  // namespace pc::consensus
