#include "consensus/core/storage.h"

#include <gtest/gtest.h>

namespace pc::consensus::raft {
namespace {

std::vector<Entry> ents(std::uint64_t from, std::uint64_t to, std::uint64_t term) {
  std::vector<Entry> out;
  for (std::uint64_t i = from; i <= to; ++i) out.push_back(Entry{term, i, EntryType::kNormal, "d"});
  return out;
}

TEST(MemoryStorage, AppendTermAndEntries) {
  MemoryStorage s;
  EXPECT_EQ(s.first_index(), 1u);
  EXPECT_EQ(s.last_index(), 0u);
  s.append(ents(1, 5, 1));
  EXPECT_EQ(s.last_index(), 5u);
  EXPECT_EQ(*s.term(3), 1u);
  EXPECT_EQ(*s.term(0), 0u);
  EXPECT_FALSE(s.term(6).has_value());
  EXPECT_EQ(s.entries(2, 5, UINT64_MAX)->size(), 3u);
  // Size limit: each entry counts 1 + 24 bytes; at least one entry always comes back.
  EXPECT_EQ(s.entries(1, 6, 0)->size(), 1u);
  EXPECT_EQ(s.entries(1, 6, 50)->size(), 2u);
  EXPECT_FALSE(s.entries(1, 7, UINT64_MAX).has_value());
  // A conflicting append replaces the suffix.
  s.append(ents(3, 4, 2));
  EXPECT_EQ(s.last_index(), 4u);
  EXPECT_EQ(*s.term(3), 2u);
}

TEST(MemoryStorage, CompactAndSnapshot) {
  MemoryStorage s;
  s.append(ents(1, 10, 1));
  ASSERT_TRUE(s.create_snapshot(6, ConfState{{1, 2, 3}, {}, {}}, "data").has_value());
  s.compact(6);
  EXPECT_EQ(s.first_index(), 7u);
  EXPECT_EQ(*s.term(6), 1u);
  auto compacted = s.entries(5, 8, UINT64_MAX);
  ASSERT_FALSE(compacted.has_value());
  EXPECT_EQ(compacted.error().code, core::Code::kNotFound);
  EXPECT_EQ(s.term(5).error().code, core::Code::kNotFound);
  EXPECT_EQ(s.snapshot()->meta.index, 6u);
  EXPECT_EQ(s.initial_state().conf_state.voters, (std::vector<NodeId>{1, 2, 3}));
  EXPECT_FALSE(s.create_snapshot(5, ConfState{}, "old").has_value());
  // Appending entries partly inside the snapshot keeps only the new part.
  s.append(ents(5, 12, 1));
  EXPECT_EQ(s.first_index(), 7u);
  EXPECT_EQ(s.last_index(), 12u);
}

TEST(MemoryStorage, ApplySnapshotReplacesLog) {
  MemoryStorage s;
  s.append(ents(1, 3, 1));
  Snapshot snap;
  snap.meta.index = 20;
  snap.meta.term = 4;
  snap.meta.conf.voters = {1};
  ASSERT_TRUE(s.apply_snapshot(snap).has_value());
  EXPECT_EQ(s.first_index(), 21u);
  EXPECT_EQ(s.last_index(), 20u);
  EXPECT_EQ(*s.term(20), 4u);
  snap.meta.index = 10;
  EXPECT_FALSE(s.apply_snapshot(snap).has_value());
}

}  // namespace
}  // namespace pc::consensus::raft
