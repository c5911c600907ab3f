#include "consensus/runtime/replicated_log.h"

#include <algorithm>
#include <cstdlib>
#include <random>
#include <utility>

#include "consensus/core/conf_change.h"
#include "core/assert.h"
#include "core/limits.h"
#include "core/log.h"
#include "core/strings.h"

namespace pc::consensus {
namespace {

constexpr std::string_view kModule = "raft";
using Clock = std::chrono::steady_clock;

// A storage failure leaves the log in an unknown state: continuing could acknowledge a write
// that is not durable or vote twice in a term. Stop the process, as Consul does.
[[noreturn]] void fatal(const std::string& what, const core::Error& error) {
  core::log::error(kModule, "{}: {}; stopping", what, error.message);
  std::abort();
}

// The runtime's snapshot bytes: the servers' addresses (which otherwise live only in the conf
// change entries a snapshot replaces), then the state machine's own bytes.
//   u32 count, count x (u64 id, u32 length, address bytes), state machine bytes
std::string wrap_snapshot(const std::map<raft::NodeId, std::string>& addresses,
                          std::string_view fsm_data) {
  std::string out;
  auto put = [&out](std::uint64_t v, int bytes) {
    for (int i = 0; i < bytes; ++i) out += static_cast<char>((v >> (8 * i)) & 0xff);
  };
  put(addresses.size(), 4);
  for (const auto& [id, address] : addresses) {
    put(id, 8);
    put(address.size(), 4);
    out += address;
  }
  out += fsm_data;
  return out;
}

struct Unwrapped {
  std::map<raft::NodeId, std::string> addresses;
  std::string_view fsm_data;
};

core::Result<Unwrapped> unwrap_snapshot(std::string_view data) {
  auto corrupt = [] {
    return core::make_error(core::Code::kCorruption, "raft snapshot: malformed address table");
  };
  auto take = [&data](int bytes, std::uint64_t& v) {
    if (data.size() < static_cast<std::size_t>(bytes)) return false;
    v = 0;
    for (int i = 0; i < bytes; ++i) {
      v |= static_cast<std::uint64_t>(static_cast<unsigned char>(data[i])) << (8 * i);
    }
    data.remove_prefix(static_cast<std::size_t>(bytes));
    return true;
  };
  Unwrapped out;
  std::uint64_t count = 0;
  if (!take(4, count) || count > raft::kConfChangeContextSizeMax) return corrupt();
  for (std::uint64_t i = 0; i < count; ++i) {
    std::uint64_t id = 0;
    std::uint64_t length = 0;
    if (!take(8, id) || !take(4, length) || length > data.size() ||
        length > raft::kConfChangeContextSizeMax) {
      return corrupt();
    }
    out.addresses[id] = std::string(data.substr(0, length));
    data.remove_prefix(length);
  }
  out.fsm_data = data;
  return out;
}

std::uint64_t random_seed() {
  std::random_device rd;
  return (static_cast<std::uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace

ReplicatedLog::ReplicatedLog(ReplicatedLogOptions options, Fsm& fsm, RaftTransport& transport)
    : options_(std::move(options)),
      fsm_(fsm),
      transport_(transport),
      snapshots_(options_.dir + "/snapshots", options_.snapshots_retained),
      lease_duration_(LeaderLease::duration_for(options_.tick, options_.election_tick)),
      lease_(lease_duration_) {}

ReplicatedLog::~ReplicatedLog() {
  stop();
}

core::Status ReplicatedLog::recover() {
  wal::Env& env = options_.env != nullptr ? *options_.env : wal::posix_env();
  if (auto s = snapshots_.open(); !s) return s;
  auto newest = snapshots_.load_newest();
  if (!newest) return newest.error();
  auto opened = wal::Wal::open(env, options_.dir + "/wal", options_.wal_options);
  if (!opened) return opened.error();
  wal_ = std::move(opened->wal);
  wal::Recovered& rec = opened->recovered;

  std::uint64_t snapshot_index = 0;
  if (newest->has_value()) snapshot_index = (*newest)->meta.index;
  if (rec.snapshot.index > snapshot_index) {
    return core::make_error(core::Code::kCorruption,
                            "the Raft log was compacted up to index " +
                                std::to_string(rec.snapshot.index) + " but " + options_.dir +
                                "/snapshots holds no snapshot that covers it");
  }
  if (newest->has_value()) {
    raft::Snapshot& snap = **newest;
    auto unwrapped = unwrap_snapshot(snap.data);
    if (!unwrapped) return unwrapped.error();
    if (auto s = fsm_.restore(snap.meta.index, unwrapped->fsm_data); !s) {
      return s.error().with_context("restoring snapshot " + std::to_string(snap.meta.index));
    }
    addresses_ = unwrapped->addresses;
    conf_ = snap.meta.conf;
    applied_ = snapshot_index_ = snap.meta.index;
    if (auto s = storage_.apply_snapshot(snap); !s) return s;
  }
  std::vector<raft::Entry> entries;
  for (auto& e : rec.entries) {
    if (e.index > snapshot_index) entries.push_back(std::move(e));
  }
  if (!entries.empty() && entries.front().index != snapshot_index + 1) {
    return core::make_error(core::Code::kCorruption, "the Raft log resumes at index " +
                                                         std::to_string(entries.front().index) +
                                                         " after a snapshot at " +
                                                         std::to_string(snapshot_index));
  }
  raft::HardState hs = rec.hard_state;
  if (hs.commit < snapshot_index) hs.commit = snapshot_index;
  if (newest->has_value() && hs.term < (*newest)->meta.term) hs.term = (*newest)->meta.term;
  storage_.append(entries);
  storage_.set_hard_state(hs);

  const bool fresh = !newest->has_value() && entries.empty() && rec.hard_state.empty();
  recovered_state_ = !fresh;
  if (fresh && !options_.bootstrap_voters.empty()) {
    // Every server of a new cluster writes these same entries (ordered by id), all committed:
    // one configuration to start from, no election needed to agree on it.
    std::vector<raft::Entry> boot;
    for (const auto& [id, address] : options_.bootstrap_voters) {
      raft::ConfChange cc{raft::ConfChangeType::kAddVoter, id, address};
      boot.push_back(raft::Entry{1, boot.size() + 1, raft::EntryType::kConfChange,
                                 raft::encode_conf_change(cc)});
    }
    raft::HardState boot_hs{1, raft::kNoNode, boot.size()};
    if (auto s = wal_->save(boot_hs, boot); !s) return s;
    storage_.append(boot);
    storage_.set_hard_state(boot_hs);
    core::log::info(kModule, "bootstrapped a new cluster with {} voters",
                    options_.bootstrap_voters.size());
  }
  last_index_ = storage_.last_index();
  applied_index_ = applied_;
  return core::ok();
}

core::Status ReplicatedLog::start() {
  {
    std::lock_guard lock(mu_);
    PC_ASSERT(!started_, "ReplicatedLog started twice");
  }
  if (auto s = recover(); !s) return s;
  raft::Config c;
  c.id = options_.id;
  c.election_tick = options_.election_tick;
  c.heartbeat_tick = options_.heartbeat_tick;
  c.pre_vote = true;
  c.check_quorum = true;
  c.forward_proposals = false;  // the layer above forwards, so it can answer the writer
  c.read_only = raft::ReadOnlyOption::kSafe;
  c.applied = applied_;
  c.seed = options_.seed != 0 ? options_.seed : random_seed();
  jitter_ = raft::SplitMix64(c.seed ^ 0x9e3779b97f4a7c15ULL);
  c.storage = &storage_;
  if (auto s = c.validate(); !s) return s;
  node_ = std::make_unique<raft::RawNode>(c);
  last_leader_contact_ = Clock::now();
  if (recovered_state_) {
    // A whole election timeout, not just the followers' minimum lease window: a restart
    // says nothing of how long ago we acknowledged a leader.
    refuse_votes_until_ = last_leader_contact_ + options_.tick * options_.election_tick;
  }
  publish_status();
  {
    std::lock_guard lock(mu_);
    started_ = true;
  }
  thread_ = std::thread([this] {
    core::set_thread_name("pc-raft");
    run();
  });
  return core::ok();
}

void ReplicatedLog::stop() {
  lease_off_ = true;  // a log that stops answers nothing from its lease, even while it drains
  {
    std::lock_guard lock(mu_);
    if (stopping_) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (snapshot_thread_.joinable()) snapshot_thread_.join();
  // Anything still queued never reached the core.
  std::deque<std::pair<std::string, ProposeDone>> proposals;
  std::deque<PendingConf> confs;
  std::deque<std::function<void(core::Status)>> reads;
  std::deque<std::pair<std::uint64_t, std::function<void()>>> applied;
  std::deque<std::pair<std::string, OperatorDone>> transfers;
  std::deque<LeaderWaiter> leaders;
  {
    std::lock_guard lock(mu_);
    proposals.swap(proposals_);
    confs.swap(conf_requests_);
    reads.swap(read_requests_);
    applied.swap(applied_requests_);
    transfers.swap(transfer_requests_);
    leaders.swap(leader_requests_);
  }
  const auto stopped = core::make_error(core::Code::kUnavailable, "raft is shutting down");
  for (auto& [command, done] : proposals) done(stopped);
  for (auto& c : confs) c.done(stopped);
  for (auto& r : reads) r(stopped);
  for (auto& [index, fn] : applied) fn();
  for (auto& [address, done] : transfers) done(stopped);
  for (auto& w : leaders) w.fn(false);
}

bool ReplicatedLog::stopping() const {
  std::lock_guard lock(mu_);
  return stopping_;
}

void ReplicatedLog::receive(raft::Message message) {
  {
    std::lock_guard lock(mu_);
    if (stopping_ || inbox_.size() >= core::limits::log_proposals_queued_max) return;
    inbox_.push_back(std::move(message));
  }
  cv_.notify_one();
}

void ReplicatedLog::report(raft::MessageType type, raft::NodeId id, bool reject) {
  raft::Message m;
  m.type = type;
  m.from = id;
  m.to = options_.id;
  m.reject = reject;
  receive(std::move(m));
}

void ReplicatedLog::report_unreachable(raft::NodeId id) {
  report(raft::MessageType::kUnreachable, id, false);
}

void ReplicatedLog::report_peer_gone(raft::NodeId id) {
  report(raft::MessageType::kForgetLeader, id, false);
}

void ReplicatedLog::report_snapshot(raft::NodeId id, bool ok) {
  report(raft::MessageType::kSnapStatus, id, !ok);
}

void ReplicatedLog::propose(std::string command, ProposeDone done) {
  const char* refusal = nullptr;
  {
    std::lock_guard lock(mu_);
    if (stopping_ || !started_) {
      refusal = "raft is not running";
    } else if (proposals_.size() >= core::limits::log_proposals_queued_max) {
      refusal = "too many writes waiting for the log";
    } else {
      proposals_.emplace_back(std::move(command), std::move(done));
    }
  }
  if (refusal != nullptr) {
    done(core::make_error(core::Code::kUnavailable, refusal));
    return;
  }
  cv_.notify_one();
}

void ReplicatedLog::add_voter(raft::NodeId id, std::string address,
                              std::function<void(core::Status)> done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && started_) {
      conf_requests_.push_back(
          PendingConf{raft::ConfChange{raft::ConfChangeType::kAddVoter, id, std::move(address)},
                      std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done(core::make_error(core::Code::kUnavailable, "raft is not running"));
}

void ReplicatedLog::remove_server(raft::NodeId id, std::function<void(core::Status)> done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && started_) {
      conf_requests_.push_back(PendingConf{
          raft::ConfChange{raft::ConfChangeType::kRemoveNode, id, ""}, std::move(done)});
      cv_.notify_one();
      return;
    }
  }
  done(core::make_error(core::Code::kUnavailable, "raft is not running"));
}

RaftConfiguration ReplicatedLog::configuration() const {
  std::lock_guard lock(mu_);
  RaftConfiguration out;
  out.last_index = status_.last_index;
  out.term = status_.term;
  auto add = [&](raft::NodeId id, bool voter) {
    RaftServerInfo info;
    if (auto it = status_.addresses.find(id); it != status_.addresses.end()) {
      info.address = it->second;
    }
    info.voter = voter;
    info.leader = id == status_.leader;
    if (auto it = status_.progress.find(id); it != status_.progress.end()) {
      info.match_index = it->second.first;
      info.recently_active = it->second.second;
    }
    if (id == options_.id) {
      info.match_index = status_.last_index;
      info.recently_active = true;
    }
    out.servers.push_back(std::move(info));
  };
  for (raft::NodeId id : status_.conf.voters) add(id, true);
  for (raft::NodeId id : status_.conf.learners) add(id, false);
  std::sort(out.servers.begin(), out.servers.end(),
            [](const RaftServerInfo& a, const RaftServerInfo& b) { return a.address < b.address; });
  return out;
}

void ReplicatedLog::remove_server(std::string address, OperatorDone done) {
  raft::NodeId id = raft::kNoNode;
  std::size_t voters = 0;
  {
    std::lock_guard lock(mu_);
    for (const auto& [node, a] : status_.addresses) {
      if (a == address) id = node;
    }
    voters = status_.conf.voters.size();
  }
  if (id == raft::kNoNode) {
    done(core::make_error(core::Code::kNotFound,
                          "address \"" + address + "\" was not found in the Raft configuration"));
    return;
  }
  if (voters <= 1) {
    done(core::make_error(core::Code::kInvalidArgument,
                          "cannot remove the only server of the cluster"));
    return;
  }
  remove_server(id, std::move(done));
}

void ReplicatedLog::transfer_leadership(std::string address, OperatorDone done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && started_) {
      transfer_requests_.emplace_back(std::move(address), std::move(done));
      cv_.notify_one();
      return;
    }
  }
  done(core::make_error(core::Code::kUnavailable, "raft is not running"));
}

void ReplicatedLog::when_applied(std::uint64_t index, std::function<void()> fn) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_) {
      applied_requests_.emplace_back(index, std::move(fn));
      cv_.notify_one();
      return;
    }
  }
  // Stopping: the caller's wait ends here; what it waited for may not have happened.
  fn();
}

void ReplicatedLog::when_leader(raft::NodeId not_this, std::chrono::milliseconds within,
                                std::function<void(bool)> fn) {
  const std::int64_t ticks = std::max<std::int64_t>(1, within / options_.tick);
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && started_) {
      leader_requests_.push_back(LeaderWaiter{not_this, ticks, std::move(fn)});
      cv_.notify_one();
      return;
    }
  }
  fn(false);
}

void ReplicatedLog::fire_leader_waiters(bool tick) {
  const raft::NodeId lead = node_->raft().lead();
  std::vector<std::function<void()>> ready;
  for (auto it = leader_waiters_.begin(); it != leader_waiters_.end();) {
    const bool found = lead != raft::kNoNode && lead != it->not_this;
    if (tick && !found) --it->ticks_left;
    if (found || it->ticks_left <= 0) {
      ready.push_back([fn = std::move(it->fn), found] { fn(found); });
      it = leader_waiters_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& r : ready) r();
}

void ReplicatedLog::read_barrier(OperatorDone done) {
  {
    std::lock_guard lock(mu_);
    if (!stopping_ && started_) {
      read_requests_.push_back(std::move(done));
      cv_.notify_one();
      return;
    }
  }
  done(core::make_error(core::Code::kUnavailable, "raft is not running"));
}

bool ReplicatedLog::lease_valid() const {
  if (lease_off_.load()) return false;
  return Clock::now().time_since_epoch().count() < lease_expiry_.load();
}

LeaderInfo ReplicatedLog::leader() const {
  std::lock_guard lock(mu_);
  LeaderInfo info;
  info.known_leader = status_.leader != raft::kNoNode;
  if (auto it = status_.addresses.find(status_.leader); it != status_.addresses.end()) {
    info.leader_address = it->second;
  }
  if (status_.role == raft::Role::kLeader) {
    info.leader_address = options_.self_address;
    info.last_contact_ms = 0;
  } else {
    info.last_contact_ms = static_cast<std::uint64_t>(std::max<std::int64_t>(
        1,
        std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - last_leader_contact_)
            .count()));
  }
  return info;
}

std::uint64_t ReplicatedLog::last_index() const {
  return last_index_.load();
}

std::uint64_t ReplicatedLog::applied_index() const {
  return applied_index_.load();
}

std::vector<std::string> ReplicatedLog::voters() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (raft::NodeId id : status_.conf.voters) {
    if (auto it = status_.addresses.find(id); it != status_.addresses.end()) {
      out.push_back(it->second);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string ReplicatedLog::address_of(raft::NodeId id) const {
  std::lock_guard lock(mu_);
  auto it = status_.addresses.find(id);
  return it == status_.addresses.end() ? std::string() : it->second;
}

ReplicatedLog::Status ReplicatedLog::status() const {
  std::lock_guard lock(mu_);
  return status_;
}

void ReplicatedLog::publish_status() {
  const raft::NodeStatus s = node_->status();
  std::lock_guard lock(mu_);
  status_.id = options_.id;
  status_.leader = s.soft_state.lead;
  status_.role = s.soft_state.role;
  status_.term = s.hard_state.term;
  status_.commit = s.hard_state.commit;
  status_.applied = applied_;
  status_.last_index = storage_.last_index();
  status_.snapshot_index = snapshot_index_;
  status_.conf = conf_;
  status_.addresses = addresses_;
  status_.progress.clear();
  for (const auto& [id, pr] : s.progress) status_.progress[id] = {pr.match, pr.recent_active};
}

// Two survivors of a dead leader both plan a campaign; they must not collide (both PreVotes
// granted, both candidates, a split vote), so each draws its delay from a window far wider
// than a vote round trip (a few ms with the vote's fsync). The floor lets the other survivor
// take in the same refusal first, or it would still guard the dead leader's lease.
constexpr auto kQuickCampaignFloor = std::chrono::milliseconds(10);
constexpr std::uint64_t kQuickCampaignWindowMs = 250;
constexpr int kQuickCampaignsMax = 3;

void ReplicatedLog::peer_gone(raft::NodeId id) {
  const raft::Raft& r = node_->raft();
  if (id == options_.id || r.lead() != id || r.role() != raft::Role::kFollower) return;
  node_->forget_leader(id);
  if (node_->raft().lead() != raft::kNoNode) return;  // lease-based reads keep the leader
  core::log::info(kModule, "leader {} is gone (its server port refuses connections); campaigning",
                  id);
  quick_campaigns_left_ = kQuickCampaignsMax;
  quick_campaign_at_ = Clock::now() + kQuickCampaignFloor +
                       std::chrono::milliseconds(jitter_.next() % kQuickCampaignWindowMs);
}

void ReplicatedLog::maybe_quick_campaign(Clock::time_point now) {
  if (!quick_campaign_at_ || now < *quick_campaign_at_) return;
  quick_campaign_at_.reset();
  const raft::Raft& r = node_->raft();
  if (r.lead() != raft::kNoNode || r.role() == raft::Role::kLeader) {
    quick_campaigns_left_ = 0;  // someone won
    return;
  }
  if (quick_campaigns_left_-- <= 0) return;
  node_->campaign();
  // Should this one fail (a lost PreVote, a split vote), try again unless a leader emerges.
  quick_campaign_at_ = now + kQuickCampaignFloor +
                       std::chrono::milliseconds(jitter_.next() % kQuickCampaignWindowMs);
}

void ReplicatedLog::lease_follow_term() {
  const raft::Raft& r = node_->raft();
  const std::uint64_t term = r.role() == raft::Role::kLeader ? r.term() : 0;
  if (term == lease_term_) return;
  lease_.reset();
  lease_term_ = term;
}

void ReplicatedLog::lease_note_sent(const std::vector<raft::Message>& messages) {
  lease_follow_term();
  if (lease_term_ == 0) return;
  // Read before the send: the time a stamp is credited with is no later than its receipt.
  const auto now = Clock::now();
  for (const raft::Message& m : messages) {
    if (m.type == raft::MessageType::kHeartbeat) lease_.sent(m.index, now);
    if (m.type == raft::MessageType::kTimeoutNow) {
      // The transferee may win within a round trip: withdraw the lease before it can.
      lease_.revoke();
      lease_expiry_ = Clock::time_point::min().time_since_epoch().count();
    }
  }
}

void ReplicatedLog::refresh_lease() {
  lease_follow_term();
  auto expiry = Clock::time_point::min();
  const raft::Raft& r = node_->raft();
  // Until it applied an entry of its own term, a new leader may lack writes an earlier
  // leader acknowledged (committed, but not yet known to it as committed).
  if (lease_term_ != 0 && r.log().term_or_zero(applied_) == lease_term_) {
    expiry = lease_.expiry(r.tracker().conf().voters, options_.id, Clock::now());
  }
  lease_expiry_ = expiry.time_since_epoch().count();
}

void ReplicatedLog::run() {
  auto next_tick = Clock::now() + options_.tick;
  while (true) {
    {
      std::unique_lock lock(mu_);
      const auto wake = quick_campaign_at_ ? std::min(next_tick, *quick_campaign_at_) : next_tick;
      cv_.wait_until(lock, wake, [this] {
        return stopping_ || !inbox_.empty() || !proposals_.empty() || !conf_requests_.empty() ||
               !read_requests_.empty() || !transfer_requests_.empty() ||
               !applied_requests_.empty() || !leader_requests_.empty() ||
               snapshot_result_.has_value();
      });
      if (stopping_) break;
    }
    const auto now = Clock::now();
    if (now >= next_tick) {
      node_->tick();
      fire_leader_waiters(true);
      for (auto it = reads_waiting_index_.begin(); it != reads_waiting_index_.end();) {
        if (--it->second.ticks_left > 0) {
          ++it;
          continue;
        }
        auto done = std::move(it->second.done);
        it = reads_waiting_index_.erase(it);
        done(core::make_error(core::Code::kTimeout, "timed out waiting for a read point"));
      }
      if (transfer_done_ && --transfer_ticks_left_ <= 0) {
        end_transfer(core::make_error(core::Code::kTimeout, "leadership transfer timed out"));
      }
      next_tick += options_.tick;
      if (next_tick < now) next_tick = now + options_.tick;  // fell behind: do not burst
    }
    drain_inputs();
    maybe_quick_campaign(Clock::now());
    while (node_->has_ready()) handle_ready();
    refresh_lease();
    if (!leader_waiters_.empty()) fire_leader_waiters(false);
    maybe_snapshot();
  }
  fail_pending(core::Code::kUnavailable, "raft is shutting down");
  end_transfer(core::make_error(core::Code::kUnavailable, "raft is shutting down"));
  for (auto& [index, fn] : applied_waiters_) fn();
  applied_waiters_.clear();
  for (auto& w : leader_waiters_) w.fn(false);
  leader_waiters_.clear();
}

void ReplicatedLog::drain_inputs() {
  std::deque<raft::Message> inbox;
  std::deque<std::pair<std::string, ProposeDone>> proposals;
  std::deque<PendingConf> confs;
  std::deque<std::function<void(core::Status)>> reads;
  std::deque<std::pair<std::string, OperatorDone>> transfers;
  std::deque<std::pair<std::uint64_t, std::function<void()>>> applied_requests;
  std::deque<LeaderWaiter> leader_requests;
  std::optional<SnapshotDone> snapshot;
  {
    std::lock_guard lock(mu_);
    inbox.swap(inbox_);
    proposals.swap(proposals_);
    confs.swap(conf_requests_);
    reads.swap(read_requests_);
    transfers.swap(transfer_requests_);
    applied_requests.swap(applied_requests_);
    leader_requests.swap(leader_requests_);
    snapshot.swap(snapshot_result_);
  }
  const raft::NodeId lead = node_->raft().lead();
  for (auto& m : inbox) {
    // Transport feedback travels in the inbox to keep its order with the peer's messages;
    // the core takes it through its own calls, not step() (which refuses local types).
    switch (m.type) {
      case raft::MessageType::kUnreachable: node_->report_unreachable(m.from); continue;
      case raft::MessageType::kSnapStatus: node_->report_snapshot(m.from, !m.reject); continue;
      case raft::MessageType::kForgetLeader: peer_gone(m.from); continue;
      default: break;
    }
    if ((m.type == raft::MessageType::kVote || m.type == raft::MessageType::kPreVote) &&
        m.context != raft::kCampaignTransfer && refuse_votes_until_) {
      if (Clock::now() < *refuse_votes_until_) continue;  // unanswered: not granted
      refuse_votes_until_.reset();
    }
    if (m.type == raft::MessageType::kHeartbeatResp) {
      // Echoes the stamp of the heartbeat it answers; only answers in our term as leader
      // say the sender accepted us (and so refuses votes for a while).
      lease_follow_term();
      if (lease_term_ != 0 && m.term == lease_term_) lease_.acked(m.from, m.index);
    }
    if (m.from == lead && lead != raft::kNoNode) last_leader_contact_ = Clock::now();
    if (auto s = node_->step(m); !s) {
      core::log::debug(kModule, "dropped {} from {}: {}", raft::message_type_name(m.type), m.from,
                       s.error().message);
    }
  }
  const bool leading = node_->raft().role() == raft::Role::kLeader;
  auto not_leader = [this] {
    return core::make_error(core::Code::kNotLeader, node_->raft().lead() == raft::kNoNode
                                                        ? "No cluster leader"
                                                        : "not the leader");
  };
  for (auto& [command, done] : proposals) {
    if (!leading) {
      done(not_leader());
      continue;
    }
    if (auto s = node_->propose(std::move(command)); !s) {
      done(s.error());
      continue;
    }
    pending_[node_->raft().log().last_index()] = Pending{node_->raft().term(), std::move(done)};
  }
  for (auto& c : confs) {
    if (!leading) {
      c.done(not_leader());
      continue;
    }
    if (auto s = node_->propose_conf_change(c.change); !s) {
      c.done(s);
      continue;
    }
    pending_conf_[node_->raft().log().last_index()] = std::move(c.done);
  }
  for (auto& [address, done] : transfers) start_transfer(address, std::move(done));
  for (auto& done : reads) {
    // A follower's ReadIndex goes to the leader, which confirms its leadership with a
    // quorum and answers with its commit index; without a leader there is no read point.
    if (node_->raft().lead() == raft::kNoNode) {
      done(not_leader());
      continue;
    }
    std::string context = "read-" + std::to_string(++read_counter_);
    if (auto s = node_->read_index(context); !s) {
      done(s);
      continue;
    }
    reads_waiting_index_[context] = WaitingRead{2 * options_.election_tick, std::move(done)};
  }
  for (auto& [index, fn] : applied_requests) {
    if (index <= applied_) {
      fn();
    } else {
      applied_waiters_.emplace(index, std::move(fn));
    }
  }
  for (auto& w : leader_requests) leader_waiters_.push_back(std::move(w));
  fire_leader_waiters(false);
  if (snapshot) finish_snapshot(std::move(*snapshot));
}

void ReplicatedLog::start_transfer(const std::string& address, OperatorDone done) {
  if (node_->raft().role() != raft::Role::kLeader) {
    done(core::make_error(core::Code::kNotLeader, "No cluster leader"));
    return;
  }
  if (transfer_done_) {
    done(core::make_error(core::Code::kUnavailable, "a leadership transfer is already running"));
    return;
  }
  const raft::NodeStatus st = node_->status();
  raft::NodeId target = raft::kNoNode;
  if (!address.empty()) {
    for (const auto& [id, a] : addresses_) {
      if (a == address) target = id;
    }
    if (target == raft::kNoNode) {
      done(core::make_error(core::Code::kNotFound, "cannot find peer " + address));
      return;
    }
  } else {
    // The voter whose log is most up to date takes over fastest.
    std::uint64_t best = 0;
    for (raft::NodeId id : conf_.voters) {
      auto it = st.progress.find(id);
      if (id == options_.id || it == st.progress.end()) continue;
      if (target == raft::kNoNode || it->second.match > best) {
        target = id;
        best = it->second.match;
      }
    }
    if (target == raft::kNoNode) {
      done(core::make_error(core::Code::kInvalidArgument,
                            "cannot find a peer to transfer leadership to"));
      return;
    }
  }
  if (target == options_.id) {
    done(core::make_error(core::Code::kInvalidArgument, "cannot transfer leadership to itself"));
    return;
  }
  if (auto s = node_->transfer_leadership(target); !s) {
    done(s);
    return;
  }
  transfer_target_ = target;
  transfer_done_ = std::move(done);
  transfer_ticks_left_ = 2 * options_.election_tick;
}

void ReplicatedLog::end_transfer(core::Status outcome) {
  if (!transfer_done_) return;
  OperatorDone done = std::move(transfer_done_);
  transfer_done_ = nullptr;
  transfer_target_ = raft::kNoNode;
  done(std::move(outcome));
}

void ReplicatedLog::handle_ready() {
  raft::Ready rd = node_->ready();
  if (rd.soft_state) {
    if (rd.soft_state->role != raft::Role::kLeader) {
      fail_pending(core::Code::kNotLeader, "leadership lost while committing log");
    }
    if (rd.soft_state->lead != raft::kNoNode) last_leader_contact_ = Clock::now();
    if (transfer_done_ && rd.soft_state->lead != raft::kNoNode &&
        rd.soft_state->lead != options_.id) {
      end_transfer(rd.soft_state->lead == transfer_target_
                       ? core::ok()
                       : core::Status(core::make_error(core::Code::kInternal,
                                                       "leadership went to another server")));
    }
    core::log::info(kModule, "node {}: {} in term {}, leader {}", options_.id,
                    raft::role_name(rd.soft_state->role), node_->raft().term(),
                    rd.soft_state->lead);
  }
  // A leader's appends go out before its own fsync, so followers write while it does.
  if (rd.messages_may_precede_persist && !rd.messages.empty()) {
    lease_note_sent(rd.messages);
    transport_.send(std::move(rd.messages));
    rd.messages.clear();
  }
  std::vector<std::pair<ProposeDone, std::any>> acks;
  // Committed entries already on our disk need not wait for this Ready's fsync: applying
  // and acknowledging them first takes one fsync off every write's latency (etcd applies on
  // its own goroutine for the same reason).
  const bool apply_first = committed_entries_are_durable(rd);
  if (apply_first) {
    apply(rd, acks);
    publish_status();  // a writer told its change is done reads it in status(), too
    for (auto& [done, result] : acks) done(std::move(result));
    acks.clear();
  }
  if (auto s = persist(rd); !s) fatal("writing the Raft log", s.error());
  if (!rd.messages.empty()) {
    lease_note_sent(rd.messages);
    transport_.send(std::move(rd.messages));
  }
  if (!apply_first) apply(rd, acks);
  for (const auto& rs : rd.read_states) {
    auto it = reads_waiting_index_.find(rs.context);
    if (it == reads_waiting_index_.end()) continue;
    reads_waiting_apply_.emplace(rs.index, std::move(it->second.done));
    reads_waiting_index_.erase(it);
  }
  std::vector<std::function<void()>> applied_ready;
  while (!applied_waiters_.empty() && applied_waiters_.begin()->first <= applied_) {
    applied_ready.push_back(std::move(applied_waiters_.begin()->second));
    applied_waiters_.erase(applied_waiters_.begin());
  }
  std::vector<std::function<void(core::Status)>> reads_ready;
  while (!reads_waiting_apply_.empty() && reads_waiting_apply_.begin()->first <= applied_) {
    reads_ready.push_back(std::move(reads_waiting_apply_.begin()->second));
    reads_waiting_apply_.erase(reads_waiting_apply_.begin());
  }
  node_->advance(rd);
  publish_status();
  // After publish(): a writer reads its own write, a reader sees everything before its read.
  for (auto& [done, result] : acks) done(std::move(result));
  for (auto& done : reads_ready) done(core::ok());
  for (auto& fn : applied_ready) fn();
}

bool ReplicatedLog::committed_entries_are_durable(const raft::Ready& rd) const {
  if (rd.snapshot || rd.committed_entries.empty()) return false;
  // Entries this Ready persists come from the leader's log; a follower's may replace an
  // uncommitted suffix, never a committed entry, so everything below them stays as it is.
  const std::uint64_t last_committed = rd.committed_entries.back().index;
  if (!rd.entries.empty() && last_committed >= rd.entries.front().index) return false;
  return last_committed <= storage_.last_index();
}

core::Status ReplicatedLog::persist(const raft::Ready& rd) {
  if (rd.snapshot) {
    // A leader's snapshot replaces our log (the core restored it): file first, then the WAL
    // marker that makes the log start after it.
    if (auto s = snapshots_.save(*rd.snapshot); !s) return s;
    if (auto s = wal_->save_snapshot(rd.snapshot->meta, /*discard_log=*/true); !s) return s;
    if (auto s = storage_.apply_snapshot(*rd.snapshot); !s) return s;
  }
  if (!rd.entries.empty() || rd.hard_state) {
    const raft::HardState previous = storage_.hard_state();
    const raft::HardState hs = rd.hard_state ? *rd.hard_state : previous;
    core::Status s =
        rd.must_sync(previous) ? wal_->save(hs, rd.entries) : wal_->append(rd.entries, hs);
    if (!s) return s;
    storage_.append(rd.entries);
    storage_.set_hard_state(hs);
  }
  last_index_ = storage_.last_index();
  return core::ok();
}

void ReplicatedLog::apply(const raft::Ready& rd,
                          std::vector<std::pair<ProposeDone, std::any>>& acks) {
  if (rd.snapshot) {
    auto unwrapped = unwrap_snapshot(rd.snapshot->data);
    if (!unwrapped) fatal("a snapshot from the leader", unwrapped.error());
    if (auto s = fsm_.restore(rd.snapshot->meta.index, unwrapped->fsm_data); !s) {
      fatal("restoring a snapshot from the leader", s.error());
    }
    addresses_ = unwrapped->addresses;
    conf_ = rd.snapshot->meta.conf;
    applied_ = snapshot_index_ = rd.snapshot->meta.index;
    core::log::info(kModule, "restored a snapshot at index {} from the leader", applied_);
  }
  bool applied_any = false;
  for (const raft::Entry& e : rd.committed_entries) {
    if (e.index <= applied_) continue;
    if (e.type == raft::EntryType::kConfChange) {
      auto cc = raft::decode_conf_change(e.data);
      if (!cc) fatal("a committed membership change", cc.error());
      conf_ = node_->apply_conf_change(*cc);
      if (cc->type == raft::ConfChangeType::kRemoveNode) {
        addresses_.erase(cc->node_id);
      } else if (!cc->context.empty()) {
        addresses_[cc->node_id] = cc->context;
      }
      if (auto it = pending_conf_.find(e.index); it != pending_conf_.end()) {
        auto done = std::move(it->second);
        pending_conf_.erase(it);
        acks.emplace_back([done = std::move(done)](core::Result<std::any>) { done(core::ok()); },
                          std::any{});
      }
    } else if (!e.data.empty()) {
      std::any result = fsm_.apply(e.index, e.data);
      applied_any = true;
      if (auto it = pending_.find(e.index); it != pending_.end()) {
        Pending p = std::move(it->second);
        pending_.erase(it);
        if (p.term == e.term) {
          acks.emplace_back(std::move(p.done), std::move(result));
        } else {
          p.done(core::make_error(core::Code::kNotLeader, "leadership lost while committing log"));
        }
      }
    }
    applied_ = e.index;
  }
  if (applied_any) fsm_.publish();
  applied_index_ = applied_;
}

void ReplicatedLog::fail_pending(core::Code code, const std::string& why) {
  const auto error = core::make_error(code, why);
  for (auto& [index, p] : pending_) p.done(error);
  pending_.clear();
  for (auto& [index, done] : pending_conf_) done(error);
  pending_conf_.clear();
  for (auto& [context, read] : reads_waiting_index_) read.done(error);
  reads_waiting_index_.clear();
  for (auto& [index, done] : reads_waiting_apply_) done(error);
  reads_waiting_apply_.clear();
}

void ReplicatedLog::maybe_snapshot() {
  if (snapshot_running_ || applied_ < snapshot_index_ + options_.snapshot_threshold) return;
  auto writer = fsm_.snapshot();
  if (!writer) {
    // Do not ask again on every loop; the next threshold's worth of entries will.
    core::log::warn(kModule, "cannot snapshot the state machine: {}", writer.error().message);
    snapshot_index_ = applied_;
    return;
  }
  auto term = storage_.term(applied_);
  if (!term) return;
  if (snapshot_thread_.joinable()) snapshot_thread_.join();
  snapshot_running_ = true;
  SnapshotDone job{applied_, *term, conf_, std::string()};
  snapshot_thread_ = std::thread(
      [this, writer = std::move(*writer), job = std::move(job), addresses = addresses_]() mutable {
        core::set_thread_name("pc-snapshot");
        auto data = writer();
        if (data) {
          job.data = wrap_snapshot(addresses, *data);
        } else {
          job.data = data.error();
        }
        {
          std::lock_guard lock(mu_);
          snapshot_result_ = std::move(job);
        }
        cv_.notify_one();
      });
}

void ReplicatedLog::finish_snapshot(SnapshotDone done) {
  snapshot_running_ = false;
  if (!done.data) {
    core::log::error(kModule, "snapshot at index {} failed: {}", done.index,
                     done.data.error().message);
    return;
  }
  if (done.index <= storage_.first_index() - 1) return;  // a newer one (the leader's) won
  auto snap = storage_.create_snapshot(done.index, done.conf, std::move(*done.data));
  if (!snap) {
    core::log::warn(kModule, "snapshot at index {}: {}", done.index, snap.error().message);
    return;
  }
  if (auto s = snapshots_.save(*snap); !s) {
    core::log::error(kModule, "saving snapshot at index {}: {}", done.index, s.error().message);
    return;
  }
  if (auto s = wal_->save_snapshot(snap->meta); !s) fatal("recording a snapshot", s.error());
  snapshot_index_ = done.index;
  // Keep trailing_logs entries so a follower a little behind catches up from the log.
  if (done.index > options_.trailing_logs) {
    const std::uint64_t compact_to = done.index - options_.trailing_logs;
    if (compact_to > storage_.first_index()) {
      storage_.compact(compact_to);
      if (auto s = wal_->release_to(compact_to); !s)
        fatal("releasing Raft log segments", s.error());
    }
  }
  core::log::info(kModule, "snapshot at index {} saved ({} bytes)", done.index, snap->data.size());
}

}  // namespace pc::consensus
