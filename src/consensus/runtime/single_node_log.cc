#include "consensus/runtime/single_node_log.h"

#include <utility>
#include <vector>

#include "core/limits.h"
#include "core/log.h"
#include "core/strings.h"

namespace pc::consensus {

SingleNodeLog::SingleNodeLog(Fsm& fsm, std::string self_address)
    : fsm_(fsm), self_address_(std::move(self_address)) {}

SingleNodeLog::~SingleNodeLog() {
  stop();
}

void SingleNodeLog::start() {
  std::lock_guard lock(mu_);
  PC_ASSERT(!started_, "SingleNodeLog started twice");
  started_ = true;
  thread_ = std::thread([this] {
    core::set_thread_name("pc-apply");
    run();
  });
}

void SingleNodeLog::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  // Called by the owner's thread only (stop() and the destructor), so joinable() is stable.
  if (thread_.joinable()) thread_.join();
}

void SingleNodeLog::propose(std::string command, ProposeDone done) {
  const char* refusal = nullptr;
  {
    std::lock_guard lock(mu_);
    if (stopping_ || !started_) {
      refusal = "log is not running";
    } else if (queue_.size() >= core::limits::log_proposals_queued_max) {
      refusal = "too many writes waiting for the log";
    } else {
      queue_.push_back(Proposal{std::move(command), std::move(done)});
    }
  }
  // Refusals are answered outside the lock: the callback may call back into the log.
  if (refusal != nullptr) {
    done(core::make_error(core::Code::kUnavailable, refusal));
    return;
  }
  cv_.notify_one();
}

LeaderInfo SingleNodeLog::leader() const {
  return LeaderInfo{.known_leader = true, .leader_address = self_address_, .last_contact_ms = 0};
}

std::uint64_t SingleNodeLog::last_index() const {
  std::lock_guard lock(mu_);
  return last_index_;
}

std::uint64_t SingleNodeLog::applied_index() const {
  std::lock_guard lock(mu_);
  return applied_index_;
}

RaftConfiguration SingleNodeLog::configuration() const {
  RaftConfiguration out;
  out.last_index = last_index();
  out.term = 1;
  out.servers.push_back(RaftServerInfo{self_address_, true, true, out.last_index, true});
  return out;
}

void SingleNodeLog::remove_server(std::string address, OperatorDone done) {
  if (address != self_address_) {
    done(core::make_error(core::Code::kNotFound,
                          "address \"" + address + "\" was not found in the Raft configuration"));
    return;
  }
  done(core::make_error(core::Code::kInvalidArgument,
                        "cannot remove the only server of the cluster"));
}

void SingleNodeLog::transfer_leadership(std::string, OperatorDone done) {
  done(core::make_error(core::Code::kInvalidArgument,
                        "cannot find a peer to transfer leadership to"));
}

void SingleNodeLog::run() {
  std::vector<Proposal> batch;
  std::vector<std::any> results;
  batch.reserve(core::limits::log_apply_batch_max);
  while (true) {
    std::uint64_t first_index = 0;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything queued was applied
      while (!queue_.empty() && batch.size() < core::limits::log_apply_batch_max) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      first_index = last_index_ + 1;
      last_index_ += batch.size();
    }
    results.clear();
    for (std::size_t i = 0; i < batch.size(); ++i) {
      results.push_back(fsm_.apply(first_index + i, batch[i].command));
    }
    fsm_.publish();
    {
      std::lock_guard lock(mu_);
      applied_index_ = first_index + batch.size() - 1;
    }
    for (std::size_t i = 0; i < batch.size(); ++i) {
      batch[i].done(std::move(results[i]));
    }
    batch.clear();
  }
}

}  // namespace pc::consensus
