#include "consensus/core/raft_log.h"

#include <gtest/gtest.h>

namespace pc::consensus::raft {
namespace {

std::vector<Entry> terms(std::uint64_t first_index, std::vector<std::uint64_t> ts) {
  std::vector<Entry> out;
  for (std::uint64_t t : ts) out.push_back(Entry{t, first_index++});
  return out;
}

TEST(RaftLog, FindConflict) {
  MemoryStorage s;
  RaftLog log(&s, UINT64_MAX);
  log.append(terms(1, {1, 2, 3}));
  EXPECT_EQ(log.find_conflict(terms(1, {1, 2, 3})), 0u);
  EXPECT_EQ(log.find_conflict(terms(2, {2, 3, 4})), 4u);  // new entry
  EXPECT_EQ(log.find_conflict(terms(2, {4, 4})), 2u);     // term mismatch
}

TEST(RaftLog, FindConflictByTerm) {
  MemoryStorage s;
  RaftLog log(&s, UINT64_MAX);
  log.append(terms(1, {1, 1, 2, 2, 5, 5}));
  EXPECT_EQ(log.find_conflict_by_term(6, 4), (std::pair<std::uint64_t, std::uint64_t>{4, 2}));
  EXPECT_EQ(log.find_conflict_by_term(6, 5), (std::pair<std::uint64_t, std::uint64_t>{6, 5}));
  EXPECT_EQ(log.find_conflict_by_term(6, 0), (std::pair<std::uint64_t, std::uint64_t>{0, 0}));
}

TEST(RaftLog, MaybeAppendTruncatesConflictsAndCommits) {
  MemoryStorage s;
  RaftLog log(&s, UINT64_MAX);
  log.append(terms(1, {1, 1, 1}));
  EXPECT_FALSE(log.maybe_append(3, 2, 3, terms(4, {2})).has_value());  // prev term mismatch
  auto last = log.maybe_append(1, 1, 5, terms(2, {2, 2}));
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(*last, 3u);
  EXPECT_EQ(log.term_or_zero(2), 2u);
  EXPECT_EQ(log.last_index(), 3u);
  EXPECT_EQ(log.committed(), 3u);  // min(leader commit, last new index)
}

TEST(RaftLog, UnstableBecomesStableAndCommittedEntriesFlow) {
  MemoryStorage s;
  RaftLog log(&s, UINT64_MAX);
  log.append(terms(1, {1, 1, 1}));
  EXPECT_EQ(log.unstable_entries().size(), 3u);
  s.append(log.unstable_entries());
  log.stable_to(3, 1);
  EXPECT_FALSE(log.has_unstable_entries());
  log.commit_to(2);
  ASSERT_TRUE(log.has_next_committed_entries());
  EXPECT_EQ(log.next_committed_entries().size(), 2u);
  log.applied_to(2);
  EXPECT_FALSE(log.has_next_committed_entries());
  // A stale stable_to (term changed since) leaves the unstable entry alone.
  log.append(terms(4, {2}));
  log.stable_to(4, 1);
  EXPECT_TRUE(log.has_unstable_entries());
}

TEST(RaftLog, SliceAcrossStableAndUnstableHonoursSize) {
  MemoryStorage s;
  s.append(terms(1, {1, 1}));
  RaftLog log(&s, UINT64_MAX);
  log.append(terms(3, {2, 2}));
  auto all = log.slice(1, 5, UINT64_MAX);
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->size(), 4u);
  EXPECT_EQ(log.slice(1, 5, 24 * 3)->size(), 3u);
  EXPECT_EQ(log.slice(1, 5, 0)->size(), 1u);
}

TEST(RaftLog, RestoreSnapshot) {
  MemoryStorage s;
  RaftLog log(&s, UINT64_MAX);
  log.append(terms(1, {1}));
  Snapshot snap;
  snap.meta.index = 10;
  snap.meta.term = 3;
  log.restore(snap);
  EXPECT_EQ(log.committed(), 10u);
  EXPECT_EQ(log.last_index(), 10u);
  EXPECT_EQ(log.first_index(), 11u);
  EXPECT_EQ(log.term_or_zero(10), 3u);
  EXPECT_FALSE(log.has_next_committed_entries());
}

}  // namespace
}  // namespace pc::consensus::raft
