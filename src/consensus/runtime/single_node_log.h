#pragma once
// SingleNodeLog: the log of a one-server cluster (-dev). Proposals are queued, given the next
// index, applied in batches on a dedicated apply thread, published once per batch, and then
// acknowledged. Batching is what lets many concurrent writers share one apply round (and, with
// Raft, one fdatasync and one replication round trip).
//
// Lifecycle: construct, start(), propose() from any thread, stop() (drains what is queued,
// then joins). The Fsm must outlive the log. Entries are kept in memory only as long as they
// wait to be applied: -dev mode keeps no log on disk, like Consul's -dev.
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "consensus/log.h"

namespace pc::consensus {

class SingleNodeLog final : public Log {
 public:
  SingleNodeLog(Fsm& fsm, std::string self_address);
  ~SingleNodeLog() override;

  void start();
  void stop();

  void propose(std::string command, ProposeDone done) override;
  LeaderInfo leader() const override;
  std::uint64_t last_index() const override;
  std::uint64_t applied_index() const override;
  std::vector<std::string> voters() const override { return {self_address_}; }
  // One server, always the leader: nothing to remove or hand over.
  RaftConfiguration configuration() const override;
  // Every acknowledged write is applied and published before its acknowledgement.
  void read_barrier(OperatorDone done) override { done(core::ok()); }
  // The only server is its own quorum: no other leader can exist, so the lease always holds.
  bool lease_valid() const override { return true; }
  void remove_server(std::string address, OperatorDone done) override;
  void transfer_leadership(std::string address, OperatorDone done) override;

 private:
  struct Proposal {
    std::string command;
    ProposeDone done;
  };

  void run();

  Fsm& fsm_;
  const std::string self_address_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Proposal> queue_;  // Invariant: size <= limits::log_proposals_queued_max.
  bool stopping_ = false;
  bool started_ = false;
  std::uint64_t last_index_ = 0;     // guarded by mu_
  std::uint64_t applied_index_ = 0;  // guarded by mu_
  std::thread thread_;
};

}  // namespace pc::consensus
