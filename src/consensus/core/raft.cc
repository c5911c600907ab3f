#include "consensus/core/raft.h"

#include <algorithm>
#include <functional>
#include <limits>

#include "core/assert.h"

namespace pc::consensus::raft {

using core::Code;
using core::make_error;
using MT = MessageType;

std::string_view role_name(Role role) {
  switch (role) {
    case Role::kFollower: return "follower";
    case Role::kPreCandidate: return "pre-candidate";
    case Role::kCandidate: return "candidate";
    case Role::kLeader: return "leader";
  }
  return "unknown";
}

core::Status Config::validate() const {
  auto bad = [](const char* why) { return core::Status(make_error(Code::kInvalidArgument, why)); };
  if (id == kNoNode) return bad("raft config: id must not be 0");
  if (heartbeat_tick <= 0) return bad("raft config: heartbeat_tick must be > 0");
  if (election_tick <= heartbeat_tick)
    return bad("raft config: election_tick must exceed heartbeat_tick");
  if (max_inflight_msgs == 0) return bad("raft config: max_inflight_msgs must be > 0");
  if (max_size_per_msg == 0) return bad("raft config: max_size_per_msg must be > 0");
  if (max_committed_size_per_ready == 0)
    return bad("raft config: max_committed_size_per_ready must be > 0");
  if (storage == nullptr) return bad("raft config: storage is required");
  if (read_only == ReadOnlyOption::kLeaseBased && !check_quorum) {
    return bad("raft config: lease-based reads need check_quorum (the lease is what it keeps)");
  }
  return core::ok();
}

Raft::Raft(const Config& config)
    : id_(config.id),
      log_(config.storage, config.max_committed_size_per_ready),
      tracker_(config.max_inflight_msgs),
      read_only_(config.read_only),
      max_pending_read_index_msgs_(config.max_pending_read_index_msgs),
      max_inflight_(config.max_inflight_msgs),
      election_timeout_(config.election_tick),
      heartbeat_timeout_(config.heartbeat_tick),
      check_quorum_(config.check_quorum),
      pre_vote_(config.pre_vote),
      forward_proposals_(config.forward_proposals),
      max_msg_size_(config.max_size_per_msg),
      // Mix the id in so nodes sharing a seed still draw different timeouts.
      rng_(config.seed ^ (config.id * 0x9e3779b97f4a7c15ULL)) {
  auto valid = config.validate();
  PC_ASSERT(valid.has_value(), "{}", valid.has_value() ? "" : valid.error().message);
  auto initial = config.storage->initial_state();
  restarted_ = !initial.hard_state.empty();
  switch_to_conf(initial.conf_state);
  const HardState& hs = initial.hard_state;
  if (!hs.empty()) {
    PC_ASSERT(hs.commit <= log_.last_index(), "hard state commit {} beyond last index {}",
              hs.commit, log_.last_index());
    log_.commit_to(hs.commit);
    term_ = hs.term;
    vote_ = hs.vote;
  }
  if (config.applied > 0) log_.applied_to(config.applied);
  become_follower(term_, kNoNode);
  check_invariants();
}

NodeStatus Raft::status() const {
  NodeStatus s;
  s.id = id_;
  s.hard_state = hard_state();
  s.soft_state = soft_state();
  s.applied = log_.applied();
  s.last_index = log_.last_index();
  s.lead_transferee = lead_transferee_;
  s.conf = tracker_.conf();
  if (role_ == Role::kLeader) s.progress = tracker_.all();
  return s;
}

// --- sending ---

void Raft::send(Message m) {
  if (m.from == kNoNode) m.from = id_;
  if (m.type == MT::kVote || m.type == MT::kPreVote || m.type == MT::kVoteResp ||
      m.type == MT::kPreVoteResp) {
    // Votes carry the term they are for (a PreVote the term the candidate would take).
    PC_ASSERT(m.term != 0, "{} without a term", message_type_name(m.type));
  } else {
    PC_ASSERT(m.term == 0, "{} with a preset term", message_type_name(m.type));
    // Proposals and read requests forwarded to the leader are local to it: no term, so a
    // term change between sending and receiving cannot make it drop them.
    if (m.type != MT::kProp && m.type != MT::kReadIndex) m.term = term_;
  }
  msgs_.push_back(std::move(m));
}

void Raft::bcast_append() {
  for (auto& [id, pr] : tracker_.all()) {
    if (id != id_) send_append(id);
  }
}

bool Raft::maybe_send_append(NodeId to, bool send_if_empty) {
  Progress* pr = tracker_.get(to);
  PC_ASSERT(pr != nullptr, "no progress for {}", to);
  if (pr->is_paused()) return false;
  // Invariant: next <= last_index + 1 (the leader never promises what it does not have).
  PC_ASSERT(pr->next <= log_.last_index() + 1, "next {} for {} beyond last {}", pr->next, to,
            log_.last_index());
  auto prev_term = log_.term(pr->next - 1);
  auto ents = log_.entries(pr->next, max_msg_size_);
  if (prev_term && ents && ents->empty() && !send_if_empty) return false;
  if (!prev_term || !ents) {
    // What the follower needs was compacted away: it gets the snapshot instead. Not to a
    // follower we have not heard from lately: it may be down, and snapshots are large.
    if (!pr->recent_active) return false;
    auto snap = log_.snapshot();
    if (!snap) return false;  // temporarily unavailable; a later heartbeat retries
    PC_ASSERT(!snap->empty(), "entries before {} compacted but no snapshot", pr->next);
    Message m;
    m.type = MT::kSnap;
    m.to = to;
    m.snapshot = *snap;
    pr->become_snapshot(snap->meta.index);
    send(std::move(m));
    return true;
  }
  Message m;
  m.type = MT::kApp;
  m.to = to;
  m.index = pr->next - 1;
  m.log_term = *prev_term;
  m.entries = std::move(ents).value();
  m.commit = log_.committed();
  std::size_t count = m.entries.size();
  std::uint64_t last = count > 0 ? m.entries.back().index : 0;
  send(std::move(m));
  pr->sent_entries(count, last);
  return true;
}

void Raft::bcast_heartbeat() {
  // Re-send the newest pending read's context, so a lost acknowledgement is retried.
  std::string ctx = read_requests_.empty() ? std::string() : read_requests_.back().req.context;
  bcast_heartbeat_with_context(ctx);
}

void Raft::bcast_heartbeat_with_context(const std::string& context) {
  for (auto& [id, pr] : tracker_.all()) {
    if (id != id_) send_heartbeat(id, context);
  }
}

void Raft::send_heartbeat(NodeId to, const std::string& context) {
  const Progress* pr = tracker_.get(to);
  Message m;
  m.type = MT::kHeartbeat;
  m.to = to;
  // Our clock at sending, echoed in the response: a lower bound of when the follower's
  // lease (its refusal to vote) started, which is what the leader lease rests on.
  m.index = ticks_;
  // Never beyond what the follower is known to hold: it could not commit entries it lacks.
  m.commit = std::min(pr->match, log_.committed());
  m.context = context;
  send(std::move(m));
}

void Raft::send_timeout_now(NodeId to) {
  // The transferee's votes bypass the followers' leases: ours is void from now on.
  lease_revoked_ = true;
  Message m;
  m.type = MT::kTimeoutNow;
  m.to = to;
  send(std::move(m));
}

// --- role changes ---

void Raft::reset(std::uint64_t term) {
  // Invariant: the term never goes back.
  PC_ASSERT(term >= term_, "term {} < current {}", term, term_);
  if (term_ != term) {
    term_ = term;
    vote_ = kNoNode;
  }
  lead_ = kNoNode;
  election_elapsed_ = 0;
  heartbeat_elapsed_ = 0;
  reset_randomized_election_timeout();
  abort_leader_transfer();
  tracker_.reset_votes();
  std::uint64_t last = log_.last_index();
  for (auto& [id, pr] : tracker_.all()) {
    bool learner = pr.is_learner;
    pr = Progress(max_inflight_);
    pr.is_learner = learner;
    pr.next = last + 1;
    if (id == id_) pr.match = log_.last_stable_index();
  }
  pending_conf_index_ = 0;
  lease_revoked_ = false;
  read_requests_.clear();
  pending_read_index_messages_.clear();
}

void Raft::reset_randomized_election_timeout() {
  randomized_election_timeout_ =
      election_timeout_ +
      static_cast<int>(rng_.below(static_cast<std::uint64_t>(election_timeout_)));
}

void Raft::become_follower(std::uint64_t term, NodeId lead) {
  reset(term);
  lead_ = lead;
  role_ = Role::kFollower;
}

void Raft::become_pre_candidate() {
  PC_ASSERT(role_ != Role::kLeader, "leader cannot become pre-candidate");
  // PreVote changes neither term nor vote: a node that cannot win disturbs no one (§9.6).
  role_ = Role::kPreCandidate;
  tracker_.reset_votes();
  lead_ = kNoNode;
}

void Raft::become_candidate() {
  PC_ASSERT(role_ != Role::kLeader, "leader cannot become candidate");
  reset(term_ + 1);
  vote_ = id_;
  role_ = Role::kCandidate;
}

void Raft::become_leader() {
  PC_ASSERT(role_ == Role::kCandidate, "only a candidate becomes leader (was {})",
            role_name(role_));
  reset(term_);
  lead_ = id_;
  role_ = Role::kLeader;
  tracker_.get(id_)->become_replicate();
  // An unapplied conf change may hide in the uncommitted tail: hold new ones until the
  // whole tail is applied.
  pending_conf_index_ = log_.last_index();
  // The no-op of the new term: committing it commits every earlier entry (§5.4.2, §8), and
  // until it commits the leader does not know its commit index (ReadIndex waits for it).
  append_entries({Entry{}});
}

bool Raft::promotable() const {
  return tracker_.is_voter(id_) && !log_.has_pending_snapshot();
}

bool Raft::has_unapplied_conf_changes() const {
  if (log_.applied() >= log_.committed()) return false;
  auto ents = log_.slice(log_.applied() + 1, log_.committed() + 1,
                         std::numeric_limits<std::uint64_t>::max());
  if (!ents) return true;  // cannot tell: be conservative
  return std::any_of(ents->begin(), ents->end(),
                     [](const Entry& e) { return e.type == EntryType::kConfChange; });
}

void Raft::hup(CampaignType type) {
  if (role_ == Role::kLeader) return;
  if (!promotable()) return;
  // Campaigning with a committed but unapplied conf change would count votes under a
  // configuration that is already outdated.
  if (has_unapplied_conf_changes()) return;
  campaign(type);
}

void Raft::campaign(CampaignType type) {
  std::uint64_t term;
  MessageType vote_type;
  if (type == CampaignType::kPreElection) {
    become_pre_candidate();
    vote_type = MT::kPreVote;
    term = term_ + 1;  // the term we would campaign in; ours does not change yet
  } else {
    become_candidate();
    vote_type = MT::kVote;
    term = term_;
  }
  tracker_.record_vote(id_, true);
  if (tracker_.tally(nullptr, nullptr) == VoteResult::kWon) {
    // A single voter wins at once.
    if (type == CampaignType::kPreElection) {
      campaign(CampaignType::kElection);
    } else {
      become_leader();
    }
    return;
  }
  for (NodeId voter : tracker_.conf().voters) {
    if (voter == id_) continue;
    Message m;
    m.type = vote_type;
    m.to = voter;
    m.term = term;
    m.index = log_.last_index();
    m.log_term = log_.last_term();
    if (type == CampaignType::kTransfer) m.context = std::string(kCampaignTransfer);
    send(std::move(m));
  }
}

// --- time ---

void Raft::tick() {
  ++ticks_;
  if (role_ == Role::kLeader) {
    ++heartbeat_elapsed_;
    ++election_elapsed_;
    if (election_elapsed_ >= election_timeout_) {
      election_elapsed_ = 0;
      if (check_quorum_) {
        Message m;
        m.type = MT::kCheckQuorum;
        m.from = id_;
        (void)step(m);
      }
      // A transfer that did not finish within an election timeout is abandoned, so the
      // leader accepts proposals again (thesis §3.10). A leader that is no longer a voter
      // tries again, with whichever voter is now the best placed.
      if (role_ == Role::kLeader) {
        abort_leader_transfer();
        if (!tracker_.is_voter(id_)) hand_off_leadership();
      }
    }
    if (role_ != Role::kLeader) return;
    if (heartbeat_elapsed_ >= heartbeat_timeout_) {
      heartbeat_elapsed_ = 0;
      Message m;
      m.type = MT::kBeat;
      m.from = id_;
      (void)step(m);
    }
  } else {
    ++election_elapsed_;
    if (promotable() && past_election_timeout()) {
      election_elapsed_ = 0;
      Message m;
      m.type = MT::kHup;
      m.from = id_;
      (void)step(m);
    }
  }
  check_invariants();
}

// --- step ---

core::Status Raft::step(const Message& m) {
  if (m.term == 0) {
    // Local message, or a forwarded proposal/read: no term to compare.
  } else if (m.term > term_) {
    if (m.type == MT::kVote || m.type == MT::kPreVote) {
      bool forced = m.context == kCampaignTransfer;
      // Thesis §4.2.3: while a follower hears from a leader (or a leader from its quorum),
      // it ignores vote requests, so a node that rejoins with a high term cannot depose a
      // working leader.
      if (!forced && in_lease()) return core::ok();
    }
    if (m.type == MT::kPreVote) {
      // A PreVote never changes our term.
    } else if (m.type == MT::kPreVoteResp && !m.reject) {
      // A granted PreVote carries the future term; we take it only when we win.
    } else if (m.type == MT::kApp || m.type == MT::kHeartbeat || m.type == MT::kSnap) {
      become_follower(m.term, m.from);
    } else {
      become_follower(m.term, kNoNode);
    }
  } else if (m.term < term_) {
    if ((check_quorum_ || pre_vote_) && (m.type == MT::kHeartbeat || m.type == MT::kApp)) {
      // A stale leader (e.g. one healed from a partition) would otherwise never learn the
      // new term: with PreVote or CheckQuorum we do not bump terms on its behalf.
      Message resp;
      resp.type = MT::kAppResp;
      resp.to = m.from;
      send(std::move(resp));
    } else if (m.type == MT::kPreVote) {
      Message resp;
      resp.type = MT::kPreVoteResp;
      resp.to = m.from;
      resp.term = term_;
      resp.reject = true;
      send(std::move(resp));
    }
    return core::ok();  // everything else from an old term is ignored
  }

  core::Status result;
  switch (m.type) {
    case MT::kHup: hup(pre_vote_ ? CampaignType::kPreElection : CampaignType::kElection); break;
    case MT::kVote:
    case MT::kPreVote: handle_vote_request(m); break;
    default:
      switch (role_) {
        case Role::kLeader: result = step_leader(m); break;
        case Role::kCandidate:
        case Role::kPreCandidate: result = step_candidate(m); break;
        case Role::kFollower: result = step_follower(m); break;
      }
  }
  check_invariants();
  return result;
}

void Raft::handle_vote_request(const Message& m) {
  MessageType resp_type = m.type == MT::kVote ? MT::kVoteResp : MT::kPreVoteResp;
  // We can vote for the candidate we already voted for (a retry), for anyone if we have
  // neither voted nor know a leader in this term, and in a PreVote for a future term.
  bool can_vote = vote_ == m.from || (vote_ == kNoNode && lead_ == kNoNode) ||
                  (m.type == MT::kPreVote && m.term > term_);
  Message resp;
  resp.type = resp_type;
  resp.to = m.from;
  // §5.4.1: only for a candidate whose log is at least as up to date as ours.
  if (can_vote && log_.is_up_to_date(m.index, m.log_term)) {
    resp.term = m.term;
    if (m.type == MT::kVote) {
      election_elapsed_ = 0;
      // Invariant: at most one vote per term (vote_ was empty or already m.from).
      vote_ = m.from;
    }
  } else {
    resp.term = term_;
    resp.reject = true;
  }
  send(std::move(resp));
}

core::Status Raft::step_leader(const Message& m) {
  switch (m.type) {
    case MT::kBeat: bcast_heartbeat(); return core::ok();
    case MT::kCheckQuorum:
      // Thesis §6.2: a leader that cannot reach a quorum steps down, so clients go find
      // the real leader and lease reads stay safe.
      if (!tracker_.quorum_active(id_)) {
        become_follower(term_, kNoNode);
        return core::ok();
      }
      for (auto& [id, pr] : tracker_.all()) {
        if (id != id_) pr.recent_active = false;
      }
      return core::ok();
    case MT::kProp: return append_proposal(m);
    case MT::kReadIndex: handle_read_index(m); return core::ok();
    default: break;
  }
  Progress* pr = tracker_.get(m.from);
  if (pr == nullptr) return core::ok();  // not (or no longer) a member
  switch (m.type) {
    case MT::kAppResp: handle_append_response(m, *pr); break;
    case MT::kHeartbeatResp: handle_heartbeat_response(m, *pr); break;
    case MT::kSnapStatus:
      if (pr->state != ProgressState::kSnapshot) break;
      if (m.reject) pr->pending_snapshot = 0;  // failed: probe from match again
      pr->become_probe();
      // Wait for a heartbeat response before probing: the follower may still be applying.
      pr->probe_sent = true;
      break;
    case MT::kUnreachable:
      // Optimistic pipelining to an unreachable node only loses messages: probe instead.
      if (pr->state == ProgressState::kReplicate) pr->become_probe();
      break;
    case MT::kTransferLeader: handle_transfer_leader(m, *pr); break;
    default: break;
  }
  return core::ok();
}

core::Status Raft::append_proposal(const Message& m) {
  PC_ASSERT(!m.entries.empty(), "empty proposal");
  if (!tracker_.is_voter(id_)) {
    return make_error(Code::kNotLeader, "this leader was removed or demoted; handing off");
  }
  if (lead_transferee_ != kNoNode) {
    return make_error(Code::kUnavailable, "leadership transfer in progress");
  }
  std::vector<Entry> entries = m.entries;
  bool seen_conf_change = false;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    if (entries[i].type != EntryType::kConfChange) continue;
    auto cc = decode_conf_change(entries[i].data);
    if (!cc) return cc.error().with_context("proposed conf change");
    if (seen_conf_change || pending_conf_index_ > log_.applied()) {
      return make_error(Code::kUnavailable, "a conf change is pending; one at a time");
    }
    if (apply_to(tracker_.conf(), *cc).voters.empty()) {
      return make_error(Code::kInvalidArgument, "conf change would remove every voter");
    }
    seen_conf_change = true;
    pending_conf_index_ = log_.last_index() + i + 1;
  }
  append_entries(std::move(entries));
  bcast_append();
  return core::ok();
}

void Raft::append_entries(std::vector<Entry> entries) {
  std::uint64_t last = log_.last_index();
  for (std::size_t i = 0; i < entries.size(); ++i) {
    entries[i].term = term_;
    entries[i].index = last + 1 + i;
  }
  log_.append(entries);
  // The leader's own copy counts toward the quorum only once it is durable (on_persisted):
  // so the owner may send these entries to followers while it writes them (thesis §10.2.1),
  // and a commit never rests on a copy a crash could still take back.
}

void Raft::on_persisted() {
  if (role_ != Role::kLeader) return;
  Progress* self = tracker_.get(id_);
  if (self == nullptr) return;
  if (self->maybe_update(log_.last_stable_index()) && maybe_commit()) bcast_append();
}

bool Raft::maybe_commit() {
  // §5.4.2: only an entry of the current term is committed by counting replicas.
  if (!log_.maybe_commit(tracker_.committed(), term_)) return false;
  if (role_ == Role::kLeader) release_pending_read_index_messages();
  return true;
}

void Raft::handle_append_response(const Message& m, Progress& pr) {
  pr.recent_active = true;
  if (m.reject) {
    // Fast backtracking: skip every index the follower's hint proves cannot match, rather
    // than one index per round trip (§5.3, "the leader can decrement nextIndex ... ").
    std::uint64_t next_probe = m.reject_hint;
    if (m.log_term > 0) next_probe = log_.find_conflict_by_term(m.reject_hint, m.log_term).first;
    if (pr.maybe_decr_to(m.index, next_probe)) {
      if (pr.state == ProgressState::kReplicate) pr.become_probe();
      send_append(m.from);
    }
    return;
  }
  bool was_paused = pr.is_paused();
  bool probe_acked = pr.match == m.index && pr.state == ProgressState::kProbe;
  if (!pr.maybe_update(m.index) && !probe_acked) return;
  switch (pr.state) {
    case ProgressState::kProbe: pr.become_replicate(); break;
    case ProgressState::kSnapshot:
      // Caught up to what our log still holds: replicate from there.
      if (pr.match + 1 >= log_.first_index()) {
        pr.become_probe();
        pr.become_replicate();
      }
      break;
    case ProgressState::kReplicate: pr.inflights.free_le(m.index); break;
  }
  if (maybe_commit()) {
    bcast_append();  // followers learn the new commit index
  } else if (was_paused) {
    send_append(m.from);
  }
  // Pipelining: keep the window full while there is something to send.
  while (maybe_send_append(m.from, false)) {
  }
  if (m.from == lead_transferee_ && pr.match == log_.last_index()) send_timeout_now(m.from);
}

void Raft::handle_heartbeat_response(const Message& m, Progress& pr) {
  pr.recent_active = true;
  pr.lease_ack_tick = std::max(pr.lease_ack_tick, m.index);
  pr.probe_sent = false;
  // A full window whose acknowledgements were lost would block forever: free one slot so
  // the next MsgApp can find out where the follower stands.
  if (pr.state == ProgressState::kReplicate && pr.inflights.full()) pr.inflights.free_first();
  if (pr.match < log_.last_index()) send_append(m.from);
  // Repeat MsgTimeoutNow while a caught-up transferee has not campaigned (it may have been
  // lost, or the transferee could not campaign yet with a conf change unapplied).
  if (m.from == lead_transferee_ && pr.match == log_.last_index()) send_timeout_now(m.from);

  // Heartbeat acknowledgements confirm pending reads (kSafe, or kLeaseBased whose lease had
  // lapsed when the read came in).
  if (m.context.empty() || read_requests_.empty()) return;
  auto it = std::find_if(read_requests_.begin(), read_requests_.end(),
                         [&](const ReadRequest& r) { return r.req.context == m.context; });
  if (it == read_requests_.end()) return;
  if (std::find(it->acks.begin(), it->acks.end(), m.from) == it->acks.end()) {
    it->acks.push_back(m.from);
  }
  if (!tracker_.has_quorum(it->acks)) return;
  // A quorum confirmed our leadership after every earlier request was registered, so they
  // are all answered with their own (lower or equal) read index.
  std::size_t done = static_cast<std::size_t>(it - read_requests_.begin()) + 1;
  std::vector<ReadRequest> ready(read_requests_.begin(),
                                 read_requests_.begin() + static_cast<std::ptrdiff_t>(done));
  read_requests_.erase(read_requests_.begin(),
                       read_requests_.begin() + static_cast<std::ptrdiff_t>(done));
  for (const ReadRequest& r : ready) respond_read(r.req, r.index);
}

void Raft::handle_transfer_leader(const Message& m, Progress& pr) {
  if (pr.is_learner) return;  // a learner cannot lead
  NodeId transferee = m.from;
  if (lead_transferee_ != kNoNode) {
    if (lead_transferee_ == transferee) return;  // already under way
    abort_leader_transfer();
  }
  if (transferee == id_) return;  // already leader
  // The transfer must complete within one election timeout (tick() aborts it).
  election_elapsed_ = 0;
  lead_transferee_ = transferee;
  if (pr.match == log_.last_index()) {
    send_timeout_now(transferee);
  } else {
    send_append(transferee);  // catch it up first; the AppResp path sends MsgTimeoutNow
  }
}

core::Status Raft::step_candidate(const Message& m) {
  MessageType my_resp = role_ == Role::kPreCandidate ? MT::kPreVoteResp : MT::kVoteResp;
  switch (m.type) {
    case MT::kProp: return make_error(Code::kNotLeader, "no leader: election in progress");
    case MT::kReadIndex: return make_error(Code::kNotLeader, "no leader: election in progress");
    case MT::kApp:
      become_follower(m.term, m.from);  // a leader of our term exists (§5.2)
      handle_append(m);
      break;
    case MT::kHeartbeat:
      become_follower(m.term, m.from);
      handle_heartbeat(m);
      break;
    case MT::kSnap:
      become_follower(m.term, m.from);
      handle_snapshot(m);
      break;
    case MT::kVoteResp:
    case MT::kPreVoteResp: {
      if (m.type != my_resp) break;  // an answer to an earlier phase
      tracker_.record_vote(m.from, !m.reject);
      switch (tracker_.tally(nullptr, nullptr)) {
        case VoteResult::kWon:
          if (role_ == Role::kPreCandidate) {
            campaign(CampaignType::kElection);
          } else {
            become_leader();
            bcast_append();
          }
          break;
        case VoteResult::kLost:
          // PreVote lost: stay at our term. Vote lost: wait for a leader or the next timeout.
          become_follower(term_, kNoNode);
          break;
        case VoteResult::kPending: break;
      }
      break;
    }
    default: break;  // kTimeoutNow and others: not for candidates
  }
  return core::ok();
}

core::Status Raft::step_follower(const Message& m) {
  switch (m.type) {
    case MT::kProp:
      if (lead_ == kNoNode) return make_error(Code::kNotLeader, "no leader");
      if (!forward_proposals_) return make_error(Code::kNotLeader, "not the leader");
      if (m.from != kNoNode && m.from != id_) {
        // Forwarded to us by a node that thought we lead: forwarding again could loop.
        return make_error(Code::kNotLeader, "not the leader");
      } else {
        Message fwd = m;
        fwd.to = lead_;
        send(std::move(fwd));
      }
      break;
    case MT::kApp:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_append(m);
      break;
    case MT::kHeartbeat:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_heartbeat(m);
      break;
    case MT::kSnap:
      election_elapsed_ = 0;
      lead_ = m.from;
      handle_snapshot(m);
      break;
    case MT::kTransferLeader:
      if (lead_ == kNoNode) return make_error(Code::kNotLeader, "no leader to transfer from");
      {
        // It may have come from a peer that took us for the leader: re-forward it under our
        // own term (send() sets it), which a newer leader ignores and an older one obeys
        // only after catching up to our term.
        Message fwd = m;
        fwd.to = lead_;
        fwd.term = 0;
        send(std::move(fwd));
      }
      break;
    case MT::kTimeoutNow:
      // Our leader asked us to take over: campaign at once, without PreVote (the leader is
      // alive and agrees) and past other followers' leases.
      hup(CampaignType::kTransfer);
      break;
    case MT::kReadIndex:
      if (lead_ == kNoNode) return make_error(Code::kNotLeader, "no leader");
      if (m.from != kNoNode && m.from != id_) return make_error(Code::kNotLeader, "not leader");
      {
        Message fwd = m;
        fwd.to = lead_;
        send(std::move(fwd));
      }
      break;
    case MT::kReadIndexResp: read_states_.push_back(ReadState{m.index, m.context}); break;
    case MT::kForgetLeader:
      // The owner learned that our leader's process is gone (its port refuses connections).
      // Leaderless, we grant other followers' PreVotes and votes at once instead of guarding
      // a dead leader's lease for a whole election timeout; we keep our term and do not
      // campaign (the owner decides when). Lease-based reads rest on that guard being kept
      // even when the owner is wrong, so with them the hint is ignored.
      if (read_only_ == ReadOnlyOption::kLeaseBased) break;
      if (lead_ != kNoNode && lead_ == m.from) lead_ = kNoNode;
      break;
    default: break;
  }
  return core::ok();
}

void Raft::handle_append(const Message& m) {
  Message resp;
  resp.type = MT::kAppResp;
  resp.to = m.from;
  if (m.index < log_.committed()) {
    // Everything up to our commit matches any leader's log: say so and skip ahead.
    resp.index = log_.committed();
    send(std::move(resp));
    return;
  }
  if (auto last = log_.maybe_append(m.index, m.log_term, m.commit, m.entries)) {
    resp.index = *last;
    send(std::move(resp));
    return;
  }
  // Reject with a hint: the largest index at which our term is <= the leader's log_term.
  // Every entry of ours between it and m.index has a larger term, so cannot match.
  std::uint64_t hint = std::min(m.index, log_.last_index());
  auto [hint_index, hint_term] = log_.find_conflict_by_term(hint, m.log_term);
  resp.index = m.index;
  resp.reject = true;
  resp.reject_hint = hint_index;
  resp.log_term = hint_term;
  send(std::move(resp));
}

void Raft::handle_heartbeat(const Message& m) {
  log_.commit_to(m.commit);
  Message resp;
  resp.type = MT::kHeartbeatResp;
  resp.to = m.from;
  resp.index = m.index;  // the leader's send time, for its lease
  resp.context = m.context;
  send(std::move(resp));
}

void Raft::handle_snapshot(const Message& m) {
  Message resp;
  resp.type = MT::kAppResp;
  resp.to = m.from;
  resp.index = restore(m.snapshot) ? log_.last_index() : log_.committed();
  send(std::move(resp));
}

bool Raft::restore(const Snapshot& s) {
  if (s.meta.index <= log_.committed()) return false;  // old news
  PC_ASSERT(role_ == Role::kFollower, "restoring a snapshot as {}", role_name(role_));
  // The snapshot's configuration may not hold us yet: a node added after the leader's last
  // snapshot gets that snapshot and then the entries that add it. We accept it anyway (etcd
  // refuses, because its snapshots are made fresh for each send): until the log adds us we
  // are a non-member follower, which never campaigns and counts for nothing.
  const ConfState& conf = s.meta.conf;
  if (log_.match_term(s.meta.index, s.meta.term)) {
    // We have that entry already: only the commit index moves.
    log_.commit_to(s.meta.index);
    return false;
  }
  log_.restore(s);
  tracker_ = ProgressTracker(max_inflight_);
  switch_to_conf(conf);
  return true;
}

// --- reads ---

bool Raft::in_lease() const {
  if (!check_quorum_) return false;
  // Thesis §4.2.3: we heard from a leader less than an election timeout ago.
  if (lead_ != kNoNode && election_elapsed_ < election_timeout_) return true;
  // After a restart we cannot know whether we acknowledged a leader just before the crash;
  // with lease reads on, a leader may be counting on that, so wait out an election timeout.
  return restarted_ && read_only_ == ReadOnlyOption::kLeaseBased &&
         ticks_ < static_cast<std::uint64_t>(election_timeout_);
}

bool Raft::lease_valid() const {
  if (lease_revoked_ || !check_quorum_) return false;
  std::vector<std::uint64_t> acks;
  for (NodeId id : tracker_.conf().voters) {
    acks.push_back(id == id_ ? ticks_ : tracker_.get(id)->lease_ack_tick);
  }
  if (acks.empty()) return false;
  std::sort(acks.begin(), acks.end(), std::greater<>());
  std::uint64_t quorum_since = acks[tracker_.quorum() - 1];
  // Every voter in that quorum received a heartbeat sent at or after `quorum_since`, and
  // refuses votes for an election timeout after receiving it; no other leader can be
  // elected before then. One tick of margin covers the phase between our ticks and theirs
  // (clock rates are assumed equal: the lease is only as good as that assumption).
  return quorum_since != 0 &&
         ticks_ + 1 < quorum_since + static_cast<std::uint64_t>(election_timeout_);
}

bool Raft::committed_entry_in_current_term() const {
  return log_.term_or_zero(log_.committed()) == term_;
}

void Raft::handle_read_index(const Message& m) {
  if (tracker_.conf().voters.size() == 1 && tracker_.is_voter(id_)) {
    respond_read(m, log_.committed());  // a single voter is its own quorum
    return;
  }
  if (!committed_entry_in_current_term()) {
    // Until its no-op commits, a new leader does not know the commit index (thesis §6.4).
    if (pending_read_index_messages_.size() < max_pending_read_index_msgs_) {
      pending_read_index_messages_.push_back(m);
    }
    return;
  }
  if (read_only_ == ReadOnlyOption::kLeaseBased && lease_valid()) {
    respond_read(m, log_.committed());
    return;
  }
  // kSafe, or a lease that lapsed: confirm leadership with a heartbeat round.
  for (const ReadRequest& r : read_requests_) {
    if (r.req.context == m.context) return;  // a retry of a request in progress
  }
  if (read_requests_.size() >= max_pending_read_index_msgs_) return;  // the caller retries
  read_requests_.push_back(ReadRequest{m, log_.committed(), {id_}});
  bcast_heartbeat_with_context(m.context);
}

void Raft::respond_read(const Message& req, std::uint64_t index) {
  if (req.from == kNoNode || req.from == id_) {
    read_states_.push_back(ReadState{index, req.context});
    return;
  }
  Message resp;
  resp.type = MT::kReadIndexResp;
  resp.to = req.from;
  resp.index = index;
  resp.context = req.context;
  send(std::move(resp));
}

void Raft::release_pending_read_index_messages() {
  if (pending_read_index_messages_.empty() || !committed_entry_in_current_term()) return;
  auto pending = std::exchange(pending_read_index_messages_, {});
  for (const Message& m : pending) handle_read_index(m);
}

// --- membership ---

ConfState Raft::apply_conf_change(const ConfChange& change) {
  ConfState next = apply_to(tracker_.conf(), change);
  switch_to_conf(next);
  check_invariants();
  return next;
}

void Raft::switch_to_conf(const ConfState& conf) {
  tracker_.set_conf(conf, log_.last_index() + 1);
  const Progress* self = tracker_.get(id_);
  is_learner_ = self != nullptr && self->is_learner;
  if (role_ != Role::kLeader || conf.voters.empty()) return;
  if (self == nullptr || is_learner_) {
    // Removed or demoted: the quorum no longer counts us, so we take no more proposals and
    // hand leadership to a voter. We keep leading until then, because the voters may not
    // know yet that this change is committed: stepping down at once could leave them to
    // elect under the old configuration, which would need our vote (two voters) or wait
    // out an election timeout.
    hand_off_leadership();
  }
  // A smaller quorum may commit at once; new members start probing.
  if (maybe_commit()) {
    bcast_append();
  } else {
    for (auto& [id, pr] : tracker_.all()) {
      if (id != id_) maybe_send_append(id, false);
    }
  }
  if (lead_transferee_ != kNoNode && !tracker_.is_voter(lead_transferee_)) abort_leader_transfer();
}

void Raft::hand_off_leadership() {
  if (lead_transferee_ != kNoNode && tracker_.is_voter(lead_transferee_)) return;
  NodeId best = kNoNode;
  std::uint64_t best_match = 0;
  for (NodeId id : tracker_.conf().voters) {
    const Progress* pr = tracker_.get(id);
    if (id == id_ || pr == nullptr) continue;
    if (best == kNoNode || pr->match > best_match) {
      best = id;
      best_match = pr->match;
    }
  }
  if (best == kNoNode) {
    become_follower(term_, kNoNode);
    return;
  }
  Message m;
  m.type = MT::kTransferLeader;
  m.from = best;
  handle_transfer_leader(m, *tracker_.get(best));
}

void Raft::check_invariants() const {
  PC_ASSERT(log_.applied() <= log_.committed() && log_.committed() <= log_.last_index(),
            "node {}: applied {} commit {} last {}", id_, log_.applied(), log_.committed(),
            log_.last_index());
  if (role_ == Role::kLeader) {
    PC_ASSERT(lead_ == id_ && vote_ == id_, "node {}: leader with lead {} vote {}", id_, lead_,
              vote_);
    if (const Progress* self = tracker_.get(id_)) {
      PC_ASSERT(self->match <= log_.last_stable_index(),
                "node {}: leader self match {} beyond its durable log {}", id_, self->match,
                log_.last_stable_index());
    }
    for (const auto& [id, pr] : tracker_.all()) pr.check_invariants();
  } else {
    PC_ASSERT(lead_transferee_ == kNoNode, "node {}: transfer as {}", id_, role_name(role_));
  }
  if (role_ == Role::kCandidate) PC_ASSERT(vote_ == id_, "candidate {} voted {}", id_, vote_);
}

}  // namespace pc::consensus::raft
