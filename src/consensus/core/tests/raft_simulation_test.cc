// Runs the deterministic simulation (simulation.h) over many seeds. A failure prints the seed;
// replay one with RAFT_SIM_SEED=<seed> (and RAFT_SIM_NODES=<n>), run more with
// RAFT_SIM_SEEDS=<count>. RAFT_SIM_VERBOSE=1 prints each seed's KV check size and effort;
// RAFT_SIM_HISTORY=<file> keeps the (last) seed's KV history for proconsul-lincheck.
#include <fmt/core.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <string>

#include "consensus/core/tests/simulation.h"

namespace pc::consensus::raft::sim {
namespace {

// A PC_ASSERT inside the core aborts the process: say which run it was, so it replays.
volatile std::sig_atomic_t g_seed_running = 0;
char g_abort_note[128];

void on_abort(int) {
  if (g_seed_running) {
    ssize_t unused =
        write(STDERR_FILENO, g_abort_note, std::char_traits<char>::length(g_abort_note));
    (void)unused;
  }
}

std::uint64_t env_u64(const char* name, std::uint64_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? std::strtoull(v, nullptr, 10) : fallback;
}

SimStats run_seeds(int nodes, std::uint64_t first_seed, std::uint64_t count,
                   const SimOptions& base) {
  std::signal(SIGABRT, on_abort);
  SimStats total;
  std::uint64_t only = env_u64("RAFT_SIM_SEED", 0);
  if (only != 0) {
    first_seed = only;
    count = 1;
    nodes = static_cast<int>(env_u64("RAFT_SIM_NODES", static_cast<std::uint64_t>(nodes)));
  }
  std::uint64_t ran = 0;
  for (std::uint64_t seed = first_seed; seed < first_seed + count; ++seed, ++ran) {
    SimOptions o = base;
    o.seed = seed;
    o.nodes = nodes;
    auto note = fmt::format(
        "\nreproduce: RAFT_SIM_SEED={} RAFT_SIM_NODES={} "
        "consensus_core_test --gtest_filter='RaftSimulation.{}'\n",
        seed, nodes, ::testing::UnitTest::GetInstance()->current_test_info()->name());
    note.copy(g_abort_note, sizeof(g_abort_note) - 1);
    g_abort_note[std::min(note.size(), sizeof(g_abort_note) - 1)] = '\0';
    g_seed_running = 1;
    Simulation sim(o);
    auto st = sim.run();
    g_seed_running = 0;
    if (!st) {
      ADD_FAILURE() << st.error().message << g_abort_note;
      break;
    }
    if (std::getenv("RAFT_SIM_VERBOSE") != nullptr) {
      std::printf("seed %llu: kv ops %llu unknown %llu check steps %llu\n",
                  static_cast<unsigned long long>(seed),
                  static_cast<unsigned long long>(sim.stats().kv_ops_checked),
                  static_cast<unsigned long long>(sim.stats().kv_ops_unknown),
                  static_cast<unsigned long long>(sim.stats().kv_check_steps));
    }
    total.add(sim.stats());
  }
  std::printf(
      "raft sim: nodes=%d seeds=%llu ticks=%llu msgs sent=%llu delivered=%llu dropped=%llu "
      "dup=%llu elections=%llu max_term=%llu commits=%llu proposals=%llu acked=%llu crashes=%llu "
      "partitions=%llu snapshots sent=%llu applied=%llu transfers=%llu conf_changes=%llu "
      "reads issued=%llu served=%llu kv ops checked=%llu unknown=%llu check steps=%llu "
      "undecided=%llu torn_tails=%llu msgs before persist=%llu\n",
      nodes, static_cast<unsigned long long>(ran), static_cast<unsigned long long>(total.ticks),
      static_cast<unsigned long long>(total.messages_sent),
      static_cast<unsigned long long>(total.messages_delivered),
      static_cast<unsigned long long>(total.messages_dropped),
      static_cast<unsigned long long>(total.messages_duplicated),
      static_cast<unsigned long long>(total.elections),
      static_cast<unsigned long long>(total.max_term),
      static_cast<unsigned long long>(total.commits),
      static_cast<unsigned long long>(total.proposals),
      static_cast<unsigned long long>(total.acknowledged),
      static_cast<unsigned long long>(total.crashes),
      static_cast<unsigned long long>(total.partitions),
      static_cast<unsigned long long>(total.snapshots_sent),
      static_cast<unsigned long long>(total.snapshots_applied),
      static_cast<unsigned long long>(total.transfers),
      static_cast<unsigned long long>(total.conf_changes),
      static_cast<unsigned long long>(total.reads_issued),
      static_cast<unsigned long long>(total.reads_served),
      static_cast<unsigned long long>(total.kv_ops_checked),
      static_cast<unsigned long long>(total.kv_ops_unknown),
      static_cast<unsigned long long>(total.kv_check_steps),
      static_cast<unsigned long long>(total.kv_check_timeouts),
      static_cast<unsigned long long>(total.torn_tails),
      static_cast<unsigned long long>(total.messages_before_persist));
  return total;
}

TEST(RaftSimulation, ThreeNodes) {
  SimStats s = run_seeds(3, 1, env_u64("RAFT_SIM_SEEDS", 300), SimOptions{});
  EXPECT_GT(s.acknowledged, 0u);
  EXPECT_GT(s.snapshots_applied, 0u);
  EXPECT_GT(s.reads_served, 0u);
  EXPECT_GT(s.kv_ops_checked, 0u);
  EXPECT_GT(s.kv_ops_unknown, 0u);
  EXPECT_GT(s.torn_tails, 0u);
  EXPECT_GT(s.messages_before_persist, 0u);
  // A history the step budget cannot decide checks nothing: raise the budget instead.
  EXPECT_EQ(s.kv_check_timeouts, 0u);
}

// The KV check must be able to fail: with reads served before their node applied up to the
// read index (a real bug class), some seed must produce a non-linearizable history.
TEST(RaftSimulation, KvCheckCatchesReadsServedBeforeApply) {
  SimOptions o;
  o.kv_read_before_apply_for_test = true;
  o.nodes = 3;
  int caught = 0;
  std::string example;
  for (std::uint64_t seed = 70001; seed < 70041 && caught == 0; ++seed) {
    o.seed = seed;
    Simulation sim(o);
    auto st = sim.run();
    if (!st && st.error().message.find("not linearizable") != std::string::npos) {
      ++caught;
      example = st.error().message;
    }
  }
  EXPECT_GT(caught, 0);
  std::printf("caught, e.g.: %s\n", example.c_str());
}

TEST(RaftSimulation, FiveNodes) {
  SimStats s = run_seeds(5, 10001, env_u64("RAFT_SIM_SEEDS", 200), SimOptions{});
  EXPECT_GT(s.acknowledged, 0u);
}

// Frequent crashes and short partitions: more leader changes with uncommitted tails, the
// ground where the §5.4.2 commit rule matters (Figure 8).
TEST(RaftSimulation, FiveNodesHighChurn) {
  SimOptions o;
  o.crash_permille = 40;
  o.restart_permille = 150;
  o.partition_permille = 40;
  o.heal_permille = 100;
  o.drop_permille = 100;
  o.propose_permille = 700;
  o.max_size_per_msg = 1;  // one entry per MsgApp: old-term entries travel apart from the no-op
  run_seeds(5, 30001, env_u64("RAFT_SIM_SEEDS", 100), o);
}

// Membership churn: two spare nodes, voters and learners added and removed (the leader
// included) while the faults go on.
TEST(RaftSimulation, MembershipChurn) {
  SimOptions o;
  o.nodes = 3;
  o.spare_nodes = 2;
  o.conf_change_permille = 60;
  SimStats s = run_seeds(3, 40001, env_u64("RAFT_SIM_SEEDS", 150), o);
  EXPECT_GT(s.conf_changes, 0u);
}

// Lease-based reads, checked for linearizability like ReadIndex ones.
TEST(RaftSimulation, ThreeNodesLeaseReads) {
  SimOptions o;
  o.read_only = ReadOnlyOption::kLeaseBased;
  SimStats s = run_seeds(3, 50001, env_u64("RAFT_SIM_SEEDS", 100), o);
  EXPECT_GT(s.reads_served, 0u);
}

TEST(RaftSimulation, MembershipChurnFiveNodes) {
  SimOptions o;
  o.spare_nodes = 2;
  o.conf_change_permille = 60;
  SimStats s = run_seeds(5, 60001, env_u64("RAFT_SIM_SEEDS", 60), o);
  EXPECT_GT(s.conf_changes, 0u);
}

// Without PreVote and CheckQuorum the terms churn far more; safety must hold all the same.
TEST(RaftSimulation, ThreeNodesWithoutPreVote) {
  SimOptions o;
  o.pre_vote = false;
  o.check_quorum = false;
  run_seeds(3, 20001, env_u64("RAFT_SIM_SEEDS", 100), o);
}

}  // namespace
}  // namespace pc::consensus::raft::sim
