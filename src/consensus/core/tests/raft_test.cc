// Unit tests of the Raft core, each named after the sentence of the Raft paper (Ongaro &
// Ousterhout, extended version) or of Ongaro's thesis it checks.
#include "consensus/core/raft.h"

#include <gtest/gtest.h>

#include <memory>

#include "consensus/core/raw_node.h"
#include "consensus/core/tests/test_cluster.h"

namespace pc::consensus::raft {
namespace {

using test_support::Cluster;
using MT = MessageType;

std::vector<NodeId> sorted(std::vector<NodeId> ids) {
  std::sort(ids.begin(), ids.end());
  return ids;
}

// A bare Raft over `storage` for message-level tests.
std::unique_ptr<Raft> new_raft(NodeId id, std::vector<NodeId> voters, MemoryStorage& storage,
                               const Cluster::Tweak& tweak = {}) {
  if (storage.initial_state().conf_state.voters.empty()) {
    storage.set_conf_state(ConfState{std::move(voters), {}, {}});
  }
  Config c;
  c.id = id;
  c.storage = &storage;
  c.seed = id;
  if (tweak) tweak(c);
  return std::make_unique<Raft>(c);
}

Message msg(MT type, NodeId from, NodeId to, std::uint64_t term) {
  Message m;
  m.type = type;
  m.from = from;
  m.to = to;
  m.term = term;
  return m;
}

void no_pre_vote(Config& c) {
  c.pre_vote = false;
}

NodeId leader_of(Cluster& cluster) {
  NodeId leader = kNoNode;
  std::uint64_t term = 0;
  for (NodeId id : cluster.ids()) {
    Raft& r = cluster.raft(id);
    if (r.role() == Role::kLeader && r.term() >= term) {
      leader = id;
      term = r.term();
    }
  }
  return leader;
}

// ---------------------------------------------------------------------------------------
// §5.2 Leader election

// "If a follower receives no communication over a period of time called the election
// timeout, then it assumes there is no viable leader and begins an election to choose a new
// leader. To begin an election, a follower increments its current term and transitions to
// candidate state. It then votes for itself and issues RequestVote RPCs in parallel."
TEST(RaftElection, FollowerStartsElectionAfterElectionTimeout) {
  MemoryStorage s;
  auto r = new_raft(1, {1, 2, 3}, s, no_pre_vote);
  for (int i = 0; i < 2 * 10; ++i) r->tick();
  EXPECT_EQ(r->role(), Role::kCandidate);
  EXPECT_EQ(r->term(), 1u);
  EXPECT_EQ(r->vote(), 1u);
  auto msgs = r->take_messages();
  ASSERT_EQ(msgs.size(), 2u);
  for (const Message& m : msgs) {
    EXPECT_EQ(m.type, MT::kVote);
    EXPECT_EQ(m.term, 1u);
  }
}

// "Raft uses randomized election timeouts ... chosen randomly from a fixed interval".
TEST(RaftElection, RandomizedElectionTimeoutInRange) {
  std::set<int> seen;
  for (std::uint64_t seed = 0; seed < 200; ++seed) {
    MemoryStorage s;
    auto r = new_raft(1, {1, 2, 3}, s, [&](Config& c) { c.seed = seed; });
    int t = r->randomized_election_timeout();
    EXPECT_GE(t, 10);
    EXPECT_LT(t, 20);
    seen.insert(t);
  }
  EXPECT_GT(seen.size(), 5u) << "timeouts should spread over the interval";
}

// "A candidate wins an election if it receives votes from a majority of the servers in the
// full cluster for the same term."
TEST(RaftElection, CandidateWinsWithMajority) {
  Cluster c({1, 2, 3});
  c.elect(1);
  EXPECT_EQ(c.raft(1).role(), Role::kLeader);
  EXPECT_EQ(c.raft(1).term(), 1u);
  EXPECT_EQ(c.raft(2).lead(), 1u);
  EXPECT_EQ(c.raft(3).lead(), 1u);
}

TEST(RaftElection, CandidateWithoutMajorityDoesNotWin) {
  Cluster c({1, 2, 3, 4, 5});
  c.isolate(3);
  c.isolate(4);
  c.isolate(5);
  c.elect(1);
  EXPECT_NE(c.raft(1).role(), Role::kLeader);
}

// "Each server will vote for at most one candidate in a given term, on a first-come-first-
// served basis."
TEST(RaftElection, VotesAtMostOncePerTerm) {
  MemoryStorage s;
  auto r = new_raft(1, {1, 2, 3}, s, no_pre_vote);
  ASSERT_TRUE(r->step(msg(MT::kVote, 2, 1, 1)).has_value());
  ASSERT_TRUE(r->step(msg(MT::kVote, 3, 1, 1)).has_value());
  auto msgs = r->take_messages();
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_FALSE(msgs[0].reject);
  EXPECT_EQ(msgs[0].to, 2u);
  EXPECT_TRUE(msgs[1].reject);
  EXPECT_EQ(r->vote(), 2u);
  // A retry from the candidate we voted for is granted again.
  ASSERT_TRUE(r->step(msg(MT::kVote, 2, 1, 1)).has_value());
  EXPECT_FALSE(r->take_messages().at(0).reject);
}

// §5.4.1: "the voter denies its vote if its own log is more up-to-date than that of the
// candidate."
TEST(RaftElection, VoteDeniedToCandidateWithStaleLog) {
  MemoryStorage s;
  s.append({Entry{1, 1}, Entry{2, 2}});
  s.set_hard_state(HardState{2, kNoNode, 0});
  auto r = new_raft(1, {1, 2, 3}, s, no_pre_vote);
  Message older_term = msg(MT::kVote, 2, 1, 3);
  older_term.index = 5;
  older_term.log_term = 1;  // longer but older last term
  ASSERT_TRUE(r->step(older_term).has_value());
  Message shorter = msg(MT::kVote, 3, 1, 3);
  shorter.index = 1;
  shorter.log_term = 2;  // same last term, shorter log
  ASSERT_TRUE(r->step(shorter).has_value());
  auto msgs = r->take_messages();
  ASSERT_EQ(msgs.size(), 2u);
  EXPECT_TRUE(msgs[0].reject);
  EXPECT_TRUE(msgs[1].reject);
  EXPECT_EQ(r->vote(), kNoNode);
}

// §5.1: "If a candidate or leader discovers that its term is out of date, it immediately
// reverts to follower state."
TEST(RaftElection, LeaderStepsDownOnHigherTerm) {
  Cluster c({1, 2, 3});
  c.elect(1);
  Message app = msg(MT::kApp, 2, 1, 5);
  ASSERT_TRUE(c.node(1).step(app).has_value());
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  EXPECT_EQ(c.raft(1).term(), 5u);
  EXPECT_EQ(c.raft(1).lead(), 2u);
}

// §5.1: "If a server receives a request with a stale term number, it rejects the request."
TEST(RaftElection, StaleTermMessagesIgnored) {
  Cluster c({1, 2, 3});
  c.elect(1);
  ASSERT_TRUE(c.node(1).transfer_leadership(2).has_value());
  c.stabilize();
  ASSERT_EQ(c.raft(2).role(), Role::kLeader);
  std::uint64_t term = c.raft(3).term();
  Message old = msg(MT::kApp, 1, 3, 1);
  old.entries = {Entry{1, 2, EntryType::kNormal, "stale"}};
  old.index = 1;
  old.log_term = 1;
  ASSERT_TRUE(c.node(3).step(old).has_value());
  EXPECT_EQ(c.raft(3).term(), term);
  EXPECT_EQ(c.raft(3).lead(), 2u);
  EXPECT_EQ(c.raft(3).log().term_or_zero(2), term) << "the stale entry must not land";
}

// §8 / thesis §6.4: "a leader must have the latest information on which entries are
// committed ... each leader commit a blank no-op entry into the log at the start of its
// term."
TEST(RaftElection, LeaderAppendsNoopOnElection) {
  Cluster c({1, 2, 3});
  c.elect(1);
  for (NodeId id : c.ids()) {
    const auto& applied = c.peer(id).applied;
    ASSERT_EQ(applied.size(), 1u);
    EXPECT_EQ(applied[0].term, 1u);
    EXPECT_TRUE(applied[0].data.empty());
  }
}

// Thesis §9.6: "the Pre-Vote algorithm ... a candidate only increments its term if it first
// learns from a majority of the cluster that they would be willing to grant it their votes."
TEST(RaftPreVote, PartitionedNodeDoesNotInflateTerm) {
  Cluster c({1, 2, 3});
  c.elect(1);
  c.isolate(3);
  c.tick_all(100);
  EXPECT_EQ(c.raft(3).term(), 1u);
  EXPECT_EQ(c.raft(3).role(), Role::kPreCandidate);
  c.heal();
  c.tick_all(5);
  EXPECT_EQ(c.raft(1).role(), Role::kLeader);
  EXPECT_EQ(c.raft(1).term(), 1u);
  EXPECT_EQ(c.raft(3).lead(), 1u);
}

// The contrast: without PreVote or CheckQuorum the partitioned node's term grows and it
// deposes the leader when it comes back (thesis §9.6 "disruptive servers").
TEST(RaftPreVote, WithoutPreVoteRejoiningNodeDisrupts) {
  Cluster c({1, 2, 3}, [](Config& cfg) {
    cfg.pre_vote = false;
    cfg.check_quorum = false;
  });
  c.elect(1);
  c.isolate(3);
  c.tick_all(100);
  EXPECT_GT(c.raft(3).term(), 1u);
  c.heal();
  c.tick_all(30);
  EXPECT_GT(c.raft(1).term(), 1u) << "the old leader had to move to a newer term";
}

// Thesis §6.2: "a leader steps down if an election timeout elapses without a successful
// round of heartbeats to a majority of its cluster".
TEST(RaftCheckQuorum, IsolatedLeaderStepsDown) {
  Cluster c({1, 2, 3});
  c.elect(1);
  c.isolate(1);
  c.tick(1, 2 * 10);
  c.stabilize();
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  EXPECT_EQ(c.raft(1).lead(), kNoNode);
}

TEST(RaftCheckQuorum, ConnectedLeaderStays) {
  Cluster c({1, 2, 3});
  c.elect(1);
  c.tick_all(100);
  EXPECT_EQ(c.raft(1).role(), Role::kLeader);
  EXPECT_EQ(c.raft(1).term(), 1u);
}

// Thesis §4.2.3: "if a server receives a RequestVote request within the minimum election
// timeout of hearing from a current leader, it does not update its term or grant its vote."
TEST(RaftCheckQuorum, FollowerInLeaseIgnoresVotes) {
  Cluster c({1, 2, 3});
  c.elect(1);
  Message vote = msg(MT::kVote, 3, 2, 7);
  vote.index = 100;
  vote.log_term = 100;
  ASSERT_TRUE(c.node(2).step(vote).has_value());
  EXPECT_EQ(c.raft(2).term(), 1u);
  EXPECT_EQ(c.raft(2).vote(), 1u);
  // Once the lease ran out (no leader contact for an election timeout) the vote counts.
  c.isolate(2);
  c.tick(2, 10);
  c.stabilize();
  ASSERT_TRUE(c.node(2).step(vote).has_value());
  EXPECT_EQ(c.raft(2).term(), 7u);
  EXPECT_EQ(c.raft(2).vote(), 3u);
}

// A leader whose process is known to be dead (its port refuses connections) need not be
// waited out: followers that forget it grant each other's PreVotes at once, so a campaign
// succeeds without any election timeout passing.
TEST(RaftForgetLeader, SurvivorsElectAtOnceWhenAllForget) {
  Cluster c({1, 2, 3});
  c.elect(1);
  c.isolate(1);
  c.node(2).forget_leader(1);
  c.node(3).forget_leader(1);
  EXPECT_EQ(c.raft(2).lead(), kNoNode);
  EXPECT_EQ(c.raft(2).term(), 1u) << "forgetting does not campaign or change the term";
  EXPECT_EQ(c.raft(2).role(), Role::kFollower);
  c.elect(2);
  EXPECT_EQ(c.raft(2).role(), Role::kLeader);
  EXPECT_EQ(c.raft(3).lead(), 2u);
}

// The contrast, and the safety of a wrong hint: a follower that still hears its leader (or
// never got the hint) refuses the PreVote while in lease, so the campaign fails.
TEST(RaftForgetLeader, FollowerStillInLeaseRefuses) {
  Cluster c({1, 2, 3});
  c.elect(1);
  c.isolate(1);
  c.node(2).forget_leader(1);
  c.elect(2);
  EXPECT_EQ(c.raft(2).role(), Role::kPreCandidate);
  EXPECT_EQ(c.raft(2).term(), 1u);
  EXPECT_EQ(c.raft(3).lead(), 1u);
}

TEST(RaftForgetLeader, OnlyTheCurrentLeaderIsForgotten) {
  Cluster c({1, 2, 3});
  c.elect(1);
  c.node(2).forget_leader(3);
  EXPECT_EQ(c.raft(2).lead(), 1u);
  c.node(1).forget_leader(1);  // a leader has no leader to forget
  EXPECT_EQ(c.raft(1).role(), Role::kLeader);
  // A live leader's next heartbeat makes it the leader again.
  c.node(2).forget_leader(1);
  EXPECT_EQ(c.raft(2).lead(), kNoNode);
  c.tick(1, 1);
  c.stabilize();
  EXPECT_EQ(c.raft(2).lead(), 1u);
  EXPECT_EQ(c.raft(1).role(), Role::kLeader);
  EXPECT_EQ(c.raft(1).term(), 1u);
}

// Lease-based reads count on followers refusing votes for an election timeout after they
// last heard the leader, whatever anyone tells them.
TEST(RaftForgetLeader, IgnoredUnderLeaseBasedReads) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.read_only = ReadOnlyOption::kLeaseBased; });
  c.elect(1);
  c.node(2).forget_leader(1);
  EXPECT_EQ(c.raft(2).lead(), 1u);
}

TEST(RaftForgetLeader, NotAcceptedFromTheNetwork) {
  Cluster c({1, 2, 3});
  c.elect(1);
  Message m = msg(MT::kForgetLeader, 1, 2, 0);
  EXPECT_FALSE(c.node(2).step(m).has_value());
  EXPECT_EQ(c.raft(2).lead(), 1u);
}

// ---------------------------------------------------------------------------------------
// §5.3 Log replication

// "Once a leader has been elected, it begins servicing client requests ... appends the
// command to its log ... issues AppendEntries RPCs in parallel ... When the entry has been
// safely replicated, the leader applies the entry to its state machine".
TEST(RaftReplication, ProposalsCommitAndApplyEverywhereInOrder) {
  Cluster c({1, 2, 3});
  c.elect(1);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.node(1).propose("v" + std::to_string(i)).has_value());
  c.stabilize();
  auto want = c.applied_data(1);
  ASSERT_EQ(want.size(), 10u);
  EXPECT_EQ(want.front(), "v0");
  EXPECT_EQ(c.applied_data(2), want);
  EXPECT_EQ(c.applied_data(3), want);
}

TEST(RaftReplication, FollowerForwardsProposals) {
  Cluster c({1, 2, 3});
  c.elect(1);
  ASSERT_TRUE(c.node(2).propose("from-2").has_value());
  c.stabilize();
  EXPECT_EQ(c.applied_data(1), std::vector<std::string>{"from-2"});
  EXPECT_EQ(c.applied_data(3), std::vector<std::string>{"from-2"});
}

TEST(RaftReplication, ProposalWithoutLeaderFails) {
  Cluster c({1, 2, 3});
  auto st = c.node(1).propose("x");
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, core::Code::kNotLeader);
}

// §5.4.2: "Raft never commits log entries from previous terms by counting replicas. Only log
// entries from the leader's current term are committed by counting replicas" (Figure 8).
TEST(RaftReplication, CommitsOnlyEntriesOfCurrentTermByCounting) {
  MemoryStorage s;
  s.append({Entry{1, 1}});
  s.set_hard_state(HardState{2, kNoNode, 0});
  auto r = new_raft(1, {1, 2, 3}, s, no_pre_vote);
  Message hup;
  hup.type = MT::kHup;
  ASSERT_TRUE(r->step(hup).has_value());
  ASSERT_TRUE(r->step(msg(MT::kVoteResp, 2, 1, 3)).has_value());
  ASSERT_EQ(r->role(), Role::kLeader);
  ASSERT_EQ(r->log().last_index(), 2u);   // the term-3 no-op
  s.append(r->log().unstable_entries());  // the leader's own copy goes to disk
  r->log().stable_to(2, 3);
  r->on_persisted();
  Message ack1 = msg(MT::kAppResp, 2, 1, 3);
  ack1.index = 1;  // the old-term entry is now on a majority...
  ASSERT_TRUE(r->step(ack1).has_value());
  EXPECT_EQ(r->log().committed(), 0u) << "...but must not be committed by counting";
  Message ack2 = msg(MT::kAppResp, 2, 1, 3);
  ack2.index = 2;
  ASSERT_TRUE(r->step(ack2).has_value());
  EXPECT_EQ(r->log().committed(), 2u) << "committing the current-term entry commits both";
}

// Thesis §10.2.1: the leader may write its log in parallel with replicating it, so its own
// copy counts toward a commit only once persisted; until then only followers' copies do.
TEST(RaftReplication, LeaderCountsItsOwnCopyOnlyOncePersisted) {
  MemoryStorage s;
  auto r = new_raft(1, {1, 2, 3}, s, no_pre_vote);
  Message hup;
  hup.type = MT::kHup;
  ASSERT_TRUE(r->step(hup).has_value());
  ASSERT_TRUE(r->step(msg(MT::kVoteResp, 2, 1, 1)).has_value());
  ASSERT_EQ(r->role(), Role::kLeader);
  ASSERT_EQ(r->log().last_index(), 1u);  // the no-op, not yet persisted
  Message ack = msg(MT::kAppResp, 2, 1, 1);
  ack.index = 1;
  ASSERT_TRUE(r->step(ack).has_value());
  EXPECT_EQ(r->log().committed(), 0u) << "one durable copy of three is no quorum";
  s.append(r->log().unstable_entries());
  r->log().stable_to(1, 1);
  r->on_persisted();
  EXPECT_EQ(r->log().committed(), 1u) << "the leader's persisted copy makes two";

  Message prop;
  prop.type = MT::kProp;
  prop.entries.push_back(Entry{0, 0, EntryType::kNormal, "x"});
  ASSERT_TRUE(r->step(prop).has_value());
  ASSERT_EQ(r->log().last_index(), 2u);
  ack.index = 2;
  ASSERT_TRUE(r->step(ack).has_value());
  EXPECT_EQ(r->log().committed(), 1u);
  Message ack3 = msg(MT::kAppResp, 3, 1, 1);
  ack3.index = 2;
  ASSERT_TRUE(r->step(ack3).has_value());
  EXPECT_EQ(r->log().committed(), 2u) << "two followers make a quorum without the leader's copy";
}

// A leader's Ready says its messages may go before its entries are written; not while it
// campaigns (its vote must be durable before MsgVote leaves) nor in the Ready that made it
// leader.
TEST(RaftReady, LeaderMessagesMayPrecedePersist) {
  MemoryStorage s;
  s.set_conf_state(ConfState{{1, 2, 3}, {}, {}});
  Config cfg;
  cfg.id = 1;
  cfg.storage = &s;
  cfg.pre_vote = false;
  cfg.seed = 1;
  RawNode n(cfg);
  auto carry_out = [&](const Ready& rd) {
    if (rd.hard_state) s.set_hard_state(*rd.hard_state);
    s.append(rd.entries);
    n.advance(rd);
  };
  n.campaign();
  Ready vote = n.ready();
  EXPECT_FALSE(vote.messages.empty());
  EXPECT_FALSE(vote.messages_may_precede_persist);
  carry_out(vote);
  ASSERT_TRUE(n.step(msg(MT::kVoteResp, 2, 1, 1)).has_value());
  ASSERT_EQ(n.raft().role(), Role::kLeader);
  Ready elected = n.ready();
  EXPECT_FALSE(elected.messages_may_precede_persist);
  carry_out(elected);
  Message ack = msg(MT::kAppResp, 2, 1, 1);
  ack.index = 1;
  ASSERT_TRUE(n.step(ack).has_value());
  ASSERT_TRUE(n.propose("x").has_value());
  Ready leading = n.ready();
  EXPECT_FALSE(leading.entries.empty());
  EXPECT_FALSE(leading.messages.empty());
  EXPECT_TRUE(leading.messages_may_precede_persist);
  carry_out(leading);
}

// Figure 8 itself, with five servers: an entry of term 2 reaches a majority under the term-4
// leader, is not committed (no entry of term 4 is), and is then rightly overwritten by a
// leader holding a term-3 entry at that index.
TEST(RaftReplication, Figure8OldTermEntryOnMajorityCanBeOverwritten) {
  Cluster c({1, 2, 3, 4, 5}, [](Config& cfg) {
    cfg.max_size_per_msg = 1;  // one entry per MsgApp
    cfg.pre_vote = false;      // so S5 can be made to campaign on cue below
    cfg.check_quorum = false;
  });
  auto setup = [&](NodeId id, std::vector<Entry> log) {
    c.storage(id).append(log);
    c.storage(id).set_hard_state(HardState{3, kNoNode, 1});
    c.restart(id);
  };
  setup(1, {Entry{1, 1}, Entry{2, 2, EntryType::kNormal, "old"}});
  setup(2, {Entry{1, 1}, Entry{2, 2, EntryType::kNormal, "old"}});
  setup(3, {Entry{1, 1}});
  setup(4, {Entry{1, 1}});
  setup(5, {Entry{1, 1}, Entry{3, 2, EntryType::kNormal, "s5"}});
  c.isolate(5);
  // The term-4 leader's own entries never land anywhere (a probe that will be rejected may
  // pass: it lands nothing, and it lets the leader find where the logs match).
  c.drop_if([&c](const Message& m) {
    bool carries_term4 =
        std::any_of(m.entries.begin(), m.entries.end(), [](const Entry& e) { return e.term == 4; });
    bool would_accept = c.raft(m.to).log().match_term(m.index, m.log_term);
    return m.type == MT::kApp && carries_term4 && would_accept;
  });
  c.elect(1);
  ASSERT_EQ(c.raft(1).role(), Role::kLeader);
  ASSERT_EQ(c.raft(1).term(), 4u);
  ASSERT_EQ(c.raft(3).log().term_or_zero(2), 2u) << "the term-2 entry is on S1, S2, S3";
  EXPECT_EQ(c.raft(1).log().committed(), 1u) << "...and must not count as committed";
  // S1 crashes; S5 (last term 3) wins and replaces index 2 everywhere.
  c.heal();
  c.isolate(1);
  c.elect(5);  // term 4: refused (they voted for S1 in term 4), but S5 learns term 4
  c.elect(5);  // term 5: S5's last term 3 beats their last term 2
  ASSERT_EQ(leader_of(c), 5u);
  for (NodeId id : {2, 3, 4}) {
    EXPECT_EQ(c.raft(id).log().term_or_zero(2), 3u) << "node " << id;
    for (const Entry& e : c.peer(id).applied) EXPECT_NE(e.data, "old");
  }
}

// §5.3: "the leader handles inconsistencies by forcing the followers' logs to duplicate its
// own. This means that conflicting entries in follower logs will be overwritten".
// Log Matching: "If two logs contain an entry with the same index and term, then the logs are
// identical in all entries up through the given index."
TEST(RaftReplication, ConflictingFollowerEntriesAreOverwritten) {
  Cluster c({1, 2, 3});
  c.storage(1).append({Entry{1, 1}, Entry{2, 2}});
  c.storage(1).set_hard_state(HardState{2, kNoNode, 1});
  c.storage(2).append({Entry{1, 1}, Entry{1, 2, EntryType::kNormal, "x"},
                       Entry{1, 3, EntryType::kNormal, "y"}, Entry{1, 4, EntryType::kNormal, "z"}});
  c.storage(2).set_hard_state(HardState{2, kNoNode, 1});
  c.storage(3).append({Entry{1, 1}});
  c.storage(3).set_hard_state(HardState{2, kNoNode, 1});
  for (NodeId id : {1, 2, 3}) c.restart(id);
  c.elect(1);
  ASSERT_EQ(c.raft(1).role(), Role::kLeader);
  auto leader_log = c.storage(1).entries(1, c.storage(1).last_index() + 1, UINT64_MAX);
  for (NodeId id : {2, 3}) {
    auto log = c.storage(id).entries(1, c.storage(id).last_index() + 1, UINT64_MAX);
    ASSERT_TRUE(log.has_value());
    EXPECT_EQ(*log, *leader_log) << "node " << id;
  }
}

// §5.3: "the follower can include the term of the conflicting entry and the first index it
// stores for that term. With this information, the leader can decrement nextIndex to bypass
// all of the conflicting entries in that term".
TEST(RaftReplication, FastRejectionSkipsDivergentTermsInFewRoundTrips) {
  Cluster c({1, 2, 3});
  std::vector<Entry> leader{Entry{1, 1}};
  for (std::uint64_t i = 2; i <= 6; ++i) leader.push_back(Entry{3, i});
  std::vector<Entry> follower{Entry{1, 1}};
  for (std::uint64_t i = 2; i <= 60; ++i) follower.push_back(Entry{2, i});
  c.storage(1).append(leader);
  c.storage(1).set_hard_state(HardState{3, kNoNode, 1});
  c.storage(2).append(follower);
  c.storage(2).set_hard_state(HardState{3, kNoNode, 1});
  c.storage(3).append(leader);
  c.storage(3).set_hard_state(HardState{3, kNoNode, 1});
  for (NodeId id : {1, 2, 3}) c.restart(id);
  c.elect(1);
  ASSERT_EQ(c.raft(1).role(), Role::kLeader);
  std::size_t rejects = 0;
  for (const Message& m : c.delivered) {
    if (m.type == MT::kAppResp && m.from == 2 && m.reject) ++rejects;
  }
  EXPECT_LE(rejects, 2u);
  EXPECT_EQ(c.raft(2).log().last_index(), c.raft(1).log().last_index());
  EXPECT_EQ(c.raft(2).log().last_term(), c.raft(1).log().last_term());
}

TEST(RaftReplication, BatchesRespectMaxSizePerMsg) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.max_size_per_msg = 150; });
  c.elect(1);
  c.isolate(2);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(c.node(1).propose(std::string(40, 'a' + i)).has_value());
  c.stabilize();
  c.heal();
  c.tick_all(30);
  EXPECT_EQ(c.applied_data(2).size(), 10u);
  std::size_t two = 0;
  for (const auto* list : {&c.delivered, &c.dropped}) {
    for (const Message& m : *list) {
      if (m.type != MT::kApp || m.to != 2) continue;
      EXPECT_LE(m.entries.size(), 2u);  // 2 * (40 + 24) <= 150 < 3 * 64
      if (m.entries.size() == 2) ++two;
    }
  }
  EXPECT_GT(two, 0u);
}

// Flow control: at most max_inflight_msgs unacknowledged MsgApps to a replicating follower.
TEST(RaftReplication, InflightWindowBoundsUnacknowledgedAppends) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.max_inflight_msgs = 2; });
  c.elect(1);
  ASSERT_EQ(c.raft(1).tracker().get(2)->state, ProgressState::kReplicate);
  c.delivered.clear();
  c.drop_if([](const Message& m) { return m.type == MT::kAppResp && m.from == 2; });
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(c.node(1).propose("p").has_value());
    c.stabilize();
  }
  std::size_t to2 = 0;
  std::size_t to3 = 0;
  for (const Message& m : c.delivered) {
    if (m.type == MT::kApp && !m.entries.empty()) (m.to == 2 ? to2 : to3)++;
  }
  EXPECT_EQ(to2, 2u);
  EXPECT_GE(to3, 6u);
  EXPECT_TRUE(c.raft(1).tracker().get(2)->inflights.full());
  // Acknowledgements reopen the window and the follower catches up.
  c.heal();
  c.tick_all(5);
  EXPECT_EQ(c.applied_data(2).size(), 6u);
}

// Pipelining: in Replicate state the leader sends the next MsgApp without waiting for the
// previous one to be acknowledged.
TEST(RaftReplication, ReplicateStatePipelines) {
  Cluster c({1, 2, 3});
  c.elect(1);
  c.set_hold(true);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.node(1).propose("p" + std::to_string(i)).has_value());
  c.process_ready(c.peer(1));
  std::vector<std::uint64_t> prev_indexes;
  for (const Message& m : c.held()) {
    if (m.type == MT::kApp && m.to == 2) prev_indexes.push_back(m.index);
  }
  EXPECT_EQ(prev_indexes, (std::vector<std::uint64_t>{1, 2, 3}));
}

// Probe state: one MsgApp at a time until the follower answers.
TEST(RaftReplication, ProbeStateSendsOneAppendAtATime) {
  Cluster c({1, 2, 3});
  c.elect(1);
  c.isolate(2);
  c.node(1).report_unreachable(2);
  ASSERT_EQ(c.raft(1).tracker().get(2)->state, ProgressState::kProbe);
  c.dropped.clear();
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.node(1).propose("p").has_value());
  c.stabilize();
  std::size_t to2 = 0;
  for (const Message& m : c.dropped) to2 += m.type == MT::kApp && m.to == 2;
  EXPECT_EQ(to2, 1u);
}

// A restarted node keeps its term, vote and log (§5.1 Figure 2: "Persistent state on all
// servers ... Updated on stable storage before responding to RPCs") and re-applies its
// committed entries.
TEST(RaftReplication, RestartRecoversPersistentState) {
  Cluster c({1, 2, 3});
  c.elect(1);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(c.node(1).propose("r" + std::to_string(i)).has_value());
  c.stabilize();
  c.restart(2);
  EXPECT_EQ(c.raft(2).term(), 1u);
  EXPECT_EQ(c.raft(2).vote(), 1u);
  EXPECT_EQ(c.raft(2).log().last_index(), c.raft(1).log().last_index());
  c.tick_all(2);
  EXPECT_EQ(c.applied_data(2), c.applied_data(1));
}

// ---------------------------------------------------------------------------------------
// §7 Log compaction: "the leader must occasionally send snapshots to followers that lag
// behind ... InstallSnapshot".

TEST(RaftSnapshot, LaggingFollowerGetsSnapshotThenEntries) {
  Cluster c({1, 2, 3});
  c.elect(1);
  c.isolate(3);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(c.node(1).propose("s" + std::to_string(i)).has_value());
  c.stabilize();
  std::uint64_t applied = c.raft(1).log().applied();
  ASSERT_TRUE(c.storage(1)
                  .create_snapshot(applied, c.peer(1).conf, "state@" + std::to_string(applied))
                  .has_value());
  c.storage(1).compact(applied);
  ASSERT_TRUE(c.node(1).propose("after").has_value());
  c.stabilize();
  c.heal();
  c.tick_all(10);
  EXPECT_EQ(c.count(MT::kSnap, 3), 1u);
  EXPECT_EQ(c.peer(3).snapshot_index, applied);
  EXPECT_EQ(c.storage(3).snapshot()->data, "state@" + std::to_string(applied));
  EXPECT_EQ(c.applied_data(3), std::vector<std::string>{"after"});
  EXPECT_EQ(c.raft(3).log().last_index(), c.raft(1).log().last_index());
  EXPECT_EQ(c.raft(1).tracker().get(3)->state, ProgressState::kReplicate);
}

TEST(RaftSnapshot, FailedSnapshotIsRetriedAfterReport) {
  Cluster c({1, 2, 3});
  c.elect(1);
  c.isolate(3);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.node(1).propose("s").has_value());
  c.stabilize();
  std::uint64_t applied = c.raft(1).log().applied();
  ASSERT_TRUE(c.storage(1).create_snapshot(applied, c.peer(1).conf, "snap").has_value());
  c.storage(1).compact(applied);
  c.heal();
  c.drop_if([](const Message& m) { return m.type == MT::kSnap; });
  c.tick_all(3);
  ASSERT_EQ(c.raft(1).tracker().get(3)->state, ProgressState::kSnapshot);
  c.node(1).report_snapshot(3, false);
  EXPECT_EQ(c.raft(1).tracker().get(3)->state, ProgressState::kProbe);
  c.heal();
  c.tick_all(5);
  EXPECT_EQ(c.peer(3).snapshot_index, applied);
  EXPECT_EQ(c.raft(3).log().last_index(), c.raft(1).log().last_index());
}

TEST(RaftSnapshot, SnapshotStatusOkMovesToProbe) {
  Cluster c({1, 2, 3});
  c.elect(1);
  c.isolate(3);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.node(1).propose("s").has_value());
  c.stabilize();
  std::uint64_t applied = c.raft(1).log().applied();
  ASSERT_TRUE(c.storage(1).create_snapshot(applied, c.peer(1).conf, "snap").has_value());
  c.storage(1).compact(applied);
  c.heal();
  // The runtime sends the snapshot on its own; here it is "still in transit" when reported.
  c.drop_if([](const Message& m) { return m.type == MT::kSnap; });
  c.tick_all(3);
  ASSERT_EQ(c.raft(1).tracker().get(3)->state, ProgressState::kSnapshot);
  c.node(1).report_snapshot(3, true);
  const Progress* pr = c.raft(1).tracker().get(3);
  EXPECT_EQ(pr->state, ProgressState::kProbe);
  EXPECT_EQ(pr->next, applied + 1);
}

// ---------------------------------------------------------------------------------------
// Thesis §4.1 membership changes, one server at a time.

TEST(RaftMembership, AddVoterReplicatesAndCountsForQuorum) {
  Cluster c({1, 2, 3});
  c.elect(1);
  // A joining node starts with the membership it joins (the runtime learns it from the
  // leader): replaying the conf changes in the log on top of it is idempotent.
  c.add_peer(4, c.raft(1).tracker().conf());
  ASSERT_TRUE(
      c.node(1).propose_conf_change(ConfChange{ConfChangeType::kAddVoter, 4, "addr4"}).has_value());
  c.stabilize();
  c.tick_all(3);
  EXPECT_EQ(sorted(c.raft(1).tracker().conf().voters), (std::vector<NodeId>{1, 2, 3, 4}));
  EXPECT_EQ(sorted(c.peer(4).conf.voters), (std::vector<NodeId>{1, 2, 3, 4}));
  ASSERT_TRUE(c.node(1).propose("x").has_value());
  c.stabilize();
  EXPECT_EQ(c.applied_data(4), std::vector<std::string>{"x"});
  // Quorum is now 3 of 4: the leader and the new node alone cannot commit.
  c.isolate(2);
  c.isolate(3);
  std::uint64_t commit = c.raft(1).log().committed();
  ASSERT_TRUE(c.node(1).propose("y").has_value());
  c.stabilize();
  EXPECT_EQ(c.raft(1).log().committed(), commit);
}

// Thesis §4.1: "Raft restricts the types of changes that are allowed: only one server can be
// added or removed from the cluster at a time ... a leader ... does not start a new change
// until the previous one has been committed" (here: applied).
TEST(RaftMembership, PendingConfChangeBlocksAnother) {
  Cluster c({1, 2, 3});
  c.elect(1);
  ASSERT_TRUE(
      c.node(1).propose_conf_change(ConfChange{ConfChangeType::kAddLearner, 4, ""}).has_value());
  auto second = c.node(1).propose_conf_change(ConfChange{ConfChangeType::kAddLearner, 5, ""});
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code, core::Code::kUnavailable);
  c.stabilize();
  EXPECT_TRUE(
      c.node(1).propose_conf_change(ConfChange{ConfChangeType::kAddLearner, 5, ""}).has_value());
}

TEST(RaftMembership, CannotRemoveLastVoter) {
  Cluster c({1});
  c.elect(1);
  ASSERT_EQ(c.raft(1).role(), Role::kLeader);
  auto st = c.node(1).propose_conf_change(ConfChange{ConfChangeType::kRemoveNode, 1, ""});
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, core::Code::kInvalidArgument);
}

// Learners receive the log but neither vote nor count toward commitment.
TEST(RaftMembership, LearnerReceivesLogButDoesNotCount) {
  Cluster c({1, 2, 3}, {}, {4});
  c.elect(1);
  ASSERT_TRUE(c.node(1).propose("a").has_value());
  c.stabilize();
  EXPECT_EQ(c.applied_data(4), std::vector<std::string>{"a"});
  EXPECT_TRUE(c.raft(4).is_learner());
  c.isolate(2);
  c.isolate(3);
  std::uint64_t commit = c.raft(1).log().committed();
  ASSERT_TRUE(c.node(1).propose("b").has_value());
  c.stabilize();
  EXPECT_EQ(c.raft(1).log().committed(), commit) << "a learner's ack does not commit";
  c.heal();
  c.isolate(1);
  c.tick_all(50);
  EXPECT_EQ(c.raft(4).role(), Role::kFollower) << "a learner never campaigns";
}

TEST(RaftMembership, DemotedLeaderRefusesProposalsAndHandsOff) {
  Cluster c({1, 2, 3});
  c.elect(1);
  c.drop_if([](const Message& m) { return m.type == MT::kTimeoutNow; });
  ASSERT_TRUE(
      c.node(1).propose_conf_change(ConfChange{ConfChangeType::kAddLearner, 1, ""}).has_value());
  c.stabilize();
  ASSERT_EQ(c.raft(1).role(), Role::kLeader);  // the hand-off message was lost
  EXPECT_TRUE(c.raft(1).is_learner());
  EXPECT_NE(c.raft(1).lead_transferee(), kNoNode);
  auto st = c.node(1).propose("x");
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, core::Code::kNotLeader);
  c.heal();
  c.tick_all(3);  // heartbeat responses repeat MsgTimeoutNow
  NodeId leader = leader_of(c);
  EXPECT_TRUE(leader == 2 || leader == 3) << leader;
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
}

TEST(RaftMembership, PromoteLearner) {
  Cluster c({1, 2, 3}, {}, {4});
  c.elect(1);
  ASSERT_TRUE(
      c.node(1).propose_conf_change(ConfChange{ConfChangeType::kAddVoter, 4, ""}).has_value());
  c.stabilize();
  EXPECT_FALSE(c.raft(4).is_learner());
  EXPECT_EQ(sorted(c.raft(4).tracker().conf().voters), (std::vector<NodeId>{1, 2, 3, 4}));
}

TEST(RaftMembership, RemovedFollowerNoLongerCounts) {
  Cluster c({1, 2, 3});
  c.elect(1);
  ASSERT_TRUE(
      c.node(1).propose_conf_change(ConfChange{ConfChangeType::kRemoveNode, 3, ""}).has_value());
  c.stabilize();
  EXPECT_EQ(sorted(c.raft(1).tracker().conf().voters), (std::vector<NodeId>{1, 2}));
  c.isolate(3);
  ASSERT_TRUE(c.node(1).propose("after-remove").has_value());
  c.stabilize();
  EXPECT_EQ(c.applied_data(2), std::vector<std::string>{"after-remove"});
}

// Thesis §4.2.2: a leader removed from the configuration steps down once the change is
// committed. Ours hands leadership to the best-placed voter first (MsgTimeoutNow), so no
// one waits out an election timeout and the voters surely learn the commit.
TEST(RaftMembership, RemovedLeaderHandsOffAndStepsDown) {
  Cluster c({1, 2, 3});
  c.elect(1);
  ASSERT_TRUE(
      c.node(1).propose_conf_change(ConfChange{ConfChangeType::kRemoveNode, 1, ""}).has_value());
  c.stabilize();
  EXPECT_GE(c.count(MT::kTimeoutNow), 1u);
  // The first MsgTimeoutNow can arrive before the transferee applied the change (it then
  // may not campaign); the next heartbeat response repeats it.
  c.tick_all(2);
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  NodeId leader = leader_of(c);
  ASSERT_TRUE(leader == 2 || leader == 3) << leader;
  ASSERT_TRUE(c.node(leader).propose("new-era").has_value());
  c.stabilize();
  EXPECT_EQ(c.applied_data(2), std::vector<std::string>{"new-era"});
  EXPECT_EQ(c.applied_data(3), std::vector<std::string>{"new-era"});
}

// ---------------------------------------------------------------------------------------
// Thesis §3.10 leadership transfer.

TEST(RaftTransfer, TransferToUpToDateFollower) {
  Cluster c({1, 2, 3});
  c.elect(1);
  ASSERT_TRUE(c.node(1).transfer_leadership(2).has_value());
  c.stabilize();
  EXPECT_EQ(c.raft(2).role(), Role::kLeader);
  EXPECT_EQ(c.raft(1).role(), Role::kFollower);
  EXPECT_EQ(c.raft(1).lead(), 2u);
  EXPECT_EQ(c.count(MT::kTimeoutNow, 2), 1u);
}

// "the prior leader sends its log entries to the target server" before MsgTimeoutNow.
TEST(RaftTransfer, LaggingTransfereeCatchesUpFirst) {
  Cluster c({1, 2, 3});
  c.elect(1);
  c.isolate(2);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(c.node(1).propose("t").has_value());
  c.stabilize();
  c.heal();
  ASSERT_TRUE(c.node(1).transfer_leadership(2).has_value());
  c.stabilize();
  EXPECT_EQ(c.raft(2).role(), Role::kLeader);
  EXPECT_EQ(c.applied_data(2).size(), 5u);
}

// "the prior leader stops accepting client requests" during a transfer, and "If the transfer
// does not complete within an election timeout, the prior leader aborts the transfer and
// resumes accepting client requests."
TEST(RaftTransfer, ProposalsRefusedDuringTransferAndTransferAborts) {
  Cluster c({1, 2, 3});
  c.elect(1);
  c.isolate(2);
  ASSERT_TRUE(c.node(1).transfer_leadership(2).has_value());
  c.stabilize();
  EXPECT_EQ(c.raft(1).lead_transferee(), 2u);
  auto st = c.node(1).propose("during");
  ASSERT_FALSE(st.has_value());
  EXPECT_EQ(st.error().code, core::Code::kUnavailable);
  c.tick(1, 10);
  c.stabilize();
  EXPECT_EQ(c.raft(1).role(), Role::kLeader);
  EXPECT_EQ(c.raft(1).lead_transferee(), kNoNode);
  EXPECT_TRUE(c.node(1).propose("after").has_value());
}

// A transfer request forwarded to a node that is no longer the leader is passed on to the
// current one (it arrives with the old leader's term set).
TEST(RaftTransfer, ForwardedTransferReachingFollowerIsPassedOn) {
  Cluster c({1, 2, 3});
  c.elect(1);
  Message fwd = msg(MT::kTransferLeader, 3, 2, 1);  // "make 3 leader", sent to follower 2
  ASSERT_TRUE(c.node(2).step(fwd).has_value());
  c.stabilize();
  EXPECT_EQ(c.raft(3).role(), Role::kLeader);
}

TEST(RaftTransfer, TransferToLearnerIgnored) {
  Cluster c({1, 2, 3}, {}, {4});
  c.elect(1);
  ASSERT_TRUE(c.node(1).transfer_leadership(4).has_value());
  EXPECT_EQ(c.raft(1).lead_transferee(), kNoNode);
}

// ---------------------------------------------------------------------------------------
// Thesis §6.4 linearizable reads with ReadIndex.

TEST(RaftReadIndex, LeaderConfirmsWithHeartbeatQuorum) {
  Cluster c({1, 2, 3});
  c.elect(1);
  ASSERT_TRUE(c.node(1).propose("w").has_value());
  c.stabilize();
  c.delivered.clear();
  ASSERT_TRUE(c.node(1).read_index("r1").has_value());
  c.stabilize();
  ASSERT_EQ(c.peer(1).read_states.size(), 1u);
  EXPECT_EQ(c.peer(1).read_states[0], (ReadState{c.raft(1).log().committed(), "r1"}));
  EXPECT_GE(c.count(MT::kHeartbeat), 2u);
}

TEST(RaftReadIndex, NoAnswerWithoutQuorum) {
  Cluster c({1, 2, 3});
  c.elect(1);
  c.isolate(2);
  c.isolate(3);
  ASSERT_TRUE(c.node(1).read_index("r").has_value());
  c.stabilize();
  EXPECT_TRUE(c.peer(1).read_states.empty());
  // The heartbeats that re-carry the pending context complete it once the quorum is back.
  c.heal();
  c.tick_all(2);
  ASSERT_EQ(c.peer(1).read_states.size(), 1u);
}

TEST(RaftReadIndex, FollowerForwardsToLeader) {
  Cluster c({1, 2, 3});
  c.elect(1);
  ASSERT_TRUE(c.node(1).propose("w").has_value());
  c.stabilize();
  ASSERT_TRUE(c.node(2).read_index("f").has_value());
  c.stabilize();
  ASSERT_EQ(c.peer(2).read_states.size(), 1u);
  EXPECT_EQ(c.peer(2).read_states[0], (ReadState{c.raft(1).log().committed(), "f"}));
}

// Thesis §6.4 step 1: "If the leader has not yet marked an entry from its current term
// committed, it waits until it has done so."
TEST(RaftReadIndex, NewLeaderWaitsForItsFirstCommit) {
  Cluster c({1, 2, 3});
  c.drop_if([](const Message& m) { return m.type == MT::kAppResp; });
  c.elect(1);
  ASSERT_EQ(c.raft(1).role(), Role::kLeader);
  ASSERT_EQ(c.raft(1).log().committed(), 0u);
  ASSERT_TRUE(c.node(1).read_index("early").has_value());
  c.stabilize();
  EXPECT_TRUE(c.peer(1).read_states.empty());
  c.heal();
  c.tick_all(3);
  ASSERT_EQ(c.peer(1).read_states.size(), 1u);
  EXPECT_EQ(c.peer(1).read_states[0].index, 1u);
}

// Thesis §6.4.1: lease-based reads skip the heartbeat round while the lease holds.
TEST(RaftReadIndex, LeaseBasedAnswersWithoutHeartbeats) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.read_only = ReadOnlyOption::kLeaseBased; });
  c.elect(1);
  c.tick_all(1);  // a heartbeat round acknowledged by a quorum starts the lease
  c.isolate(2);
  c.isolate(3);
  c.delivered.clear();
  ASSERT_TRUE(c.node(1).read_index("lease").has_value());
  c.stabilize();
  ASSERT_EQ(c.peer(1).read_states.size(), 1u);
  EXPECT_EQ(c.count(MT::kHeartbeat), 0u);
}

// The lease ends an election timeout (minus a tick) after the last acknowledged heartbeat:
// after that the followers may elect someone else, so reads need a heartbeat round again.
TEST(RaftReadIndex, LeaseLapsesWithoutAcknowledgements) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.read_only = ReadOnlyOption::kLeaseBased; });
  c.elect(1);
  c.tick_all(1);
  c.isolate(2);
  c.isolate(3);
  c.tick(1, 9);
  c.stabilize();
  ASSERT_EQ(c.raft(1).role(), Role::kLeader);
  ASSERT_TRUE(c.node(1).read_index("late").has_value());
  c.stabilize();
  EXPECT_TRUE(c.peer(1).read_states.empty());
  c.heal();
  c.tick_all(1);
  EXPECT_EQ(c.peer(1).read_states.size(), 1u) << "answered once a quorum confirmed";
}

// MsgTimeoutNow lets the transferee's election bypass the followers' leases, so the old
// leader's lease is void from then on.
TEST(RaftReadIndex, TransferVoidsLease) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.read_only = ReadOnlyOption::kLeaseBased; });
  c.elect(1);
  c.tick_all(1);
  c.drop_if([](const Message& m) { return m.type == MT::kTimeoutNow; });
  ASSERT_TRUE(c.node(1).transfer_leadership(2).has_value());
  c.stabilize();
  c.isolate(2);
  c.isolate(3);
  ASSERT_TRUE(c.node(1).read_index("after-transfer").has_value());
  c.stabilize();
  EXPECT_TRUE(c.peer(1).read_states.empty());
}

// A restarted node may have acknowledged a leader just before it crashed; with lease reads
// on it refuses votes for an election timeout after starting.
TEST(RaftReadIndex, RestartedNodeHonoursLeaseItMayHaveGiven) {
  Cluster c({1, 2, 3}, [](Config& cfg) { cfg.read_only = ReadOnlyOption::kLeaseBased; });
  c.elect(1);
  c.restart(2);
  Message vote = msg(MT::kPreVote, 3, 2, 2);
  vote.index = 100;
  vote.log_term = 100;
  ASSERT_TRUE(c.node(2).step(vote).has_value());
  EXPECT_TRUE(c.raft(2).take_messages().empty()) << "ignored inside the lease";
  for (int i = 0; i < 10; ++i) c.raft(2).tick();
  (void)c.raft(2).take_messages();
  ASSERT_TRUE(c.node(2).step(vote).has_value());
  auto msgs = c.raft(2).take_messages();
  ASSERT_EQ(msgs.size(), 1u);
  EXPECT_FALSE(msgs[0].reject);
}

TEST(RaftReadIndex, EmptyContextRejected) {
  Cluster c({1});
  EXPECT_FALSE(c.node(1).read_index("").has_value());
}

TEST(RaftReadIndex, SingleNodeAnswersAtOnce) {
  Cluster c({1});
  c.elect(1);
  ASSERT_TRUE(c.node(1).read_index("solo").has_value());
  c.stabilize();
  ASSERT_EQ(c.peer(1).read_states.size(), 1u);
}

// ---------------------------------------------------------------------------------------
// The Ready contract and input validation.

TEST(RaftReady, VoteChangeMustBeSynced) {
  MemoryStorage s;
  s.set_conf_state(ConfState{{1, 2, 3}, {}, {}});
  Config cfg;
  cfg.id = 1;
  cfg.storage = &s;
  cfg.pre_vote = false;
  RawNode n(cfg);
  n.campaign();
  ASSERT_TRUE(n.has_ready());
  Ready rd = n.ready();
  ASSERT_TRUE(rd.hard_state.has_value());
  EXPECT_EQ(rd.hard_state->vote, 1u);
  EXPECT_TRUE(rd.must_sync(HardState{}));
  EXPECT_EQ(rd.messages.size(), 2u);
  n.advance(rd);
  EXPECT_FALSE(n.has_ready());
}

TEST(RaftReady, RejectsLocalMessagesAndStrangers) {
  Cluster c({1, 2, 3});
  Message hup;
  hup.type = MT::kHup;
  hup.from = 2;
  EXPECT_FALSE(c.node(1).step(hup).has_value());
  Message resp = msg(MT::kAppResp, 9, 1, 1);
  EXPECT_FALSE(c.node(1).step(resp).has_value());
  Message empty_prop = msg(MT::kProp, 2, 1, 0);
  EXPECT_FALSE(c.node(1).step(empty_prop).has_value());
}

TEST(RaftConfig, Validate) {
  MemoryStorage s;
  Config c;
  c.storage = &s;
  EXPECT_FALSE(c.validate().has_value());  // id 0
  c.id = 1;
  EXPECT_TRUE(c.validate().has_value());
  c.check_quorum = false;
  c.read_only = ReadOnlyOption::kLeaseBased;
  EXPECT_FALSE(c.validate().has_value());
}

// Invariants are asserted in production code too (assertions stay on).
TEST(RaftInvariantDeathTest, ProgressMatchBelowNext) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Progress pr(4);
  pr.match = 5;
  pr.next = 5;
  EXPECT_DEATH(pr.check_invariants(), "match 5 >= next 5");
}

TEST(RaftInvariantDeathTest, CommitBeyondLog) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  MemoryStorage s;
  RaftLog log(&s, 1024);
  EXPECT_DEATH(log.commit_to(3), "beyond last index");
}

}  // namespace
}  // namespace pc::consensus::raft
