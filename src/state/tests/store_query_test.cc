// The prepared-query table (state/query_commands.cc, query_reads.cc): unique names ignoring
// case, one template per prefix, names that may not alias IDs, session binding, lookups by
// ID, name and longest template prefix, watches, and the snapshot round trip.
#include <gtest/gtest.h>

#include "state/snapshot_io.h"
#include "state/tests/store_test_util.h"

namespace pc::state {
namespace {

using testing::query_delete;
using testing::query_set;

constexpr const char* kId1 = "11111111-1111-1111-1111-111111111111";
constexpr const char* kId2 = "22222222-2222-2222-2222-222222222222";
constexpr const char* kId3 = "33333333-3333-3333-3333-333333333333";

class StoreQueryTest : public testing::StoreTest {
 protected:
  std::string error_of(std::uint64_t index, const proto::Command& c) {
    ApplyResult r = apply(index, c);
    return r.status ? "" : r.status.error().message;
  }
};

TEST_F(StoreQueryTest, CreateUpdateDeleteKeepIndexes) {
  ASSERT_EQ(error_of(5, query_set(kId1, "web", "web")), "");
  auto q = snap().prepared_query(kId1);
  ASSERT_TRUE(q);
  EXPECT_EQ(q->create_index, 5u);
  EXPECT_EQ(q->modify_index, 5u);
  EXPECT_EQ(snap().table_index(Table::kPreparedQueries), 5u);
  ASSERT_EQ(error_of(6, query_set(kId1, "web-renamed", "web2")), "");
  q = snap().prepared_query(kId1);
  EXPECT_EQ(q->create_index, 5u);
  EXPECT_EQ(q->modify_index, 6u);
  EXPECT_EQ(q->service.service, "web2");
  EXPECT_FALSE(snap().prepared_query_by_name("web"));  // the old name is free again
  EXPECT_EQ(snap().prepared_query_by_name("WEB-Renamed")->id, kId1);
  ASSERT_EQ(error_of(7, query_delete(kId1)), "");
  EXPECT_FALSE(snap().prepared_query(kId1));
  EXPECT_EQ(snap().table_index(Table::kPreparedQueries), 7u);
  // Deleting what is gone changes nothing.
  ASSERT_EQ(error_of(8, query_delete(kId1)), "");
  EXPECT_EQ(snap().table_index(Table::kPreparedQueries), 7u);
}

TEST_F(StoreQueryTest, RefusesWhatConsulRefuses) {
  EXPECT_EQ(error_of(1, query_set("", "x", "web")), "Missing query ID");
  ASSERT_EQ(error_of(2, query_set(kId1, "web", "web")), "");
  EXPECT_EQ(error_of(3, query_set(kId2, "Web", "web")),
            "name 'Web' aliases an existing query name");
  EXPECT_EQ(error_of(4, query_set(kId2, kId1, "web")),
            std::string("name '") + kId1 + "' aliases an existing query ID");
  ASSERT_EQ(error_of(5, query_set(kId2, "", "${name.full}", kQueryTemplateNamePrefixMatch)), "");
  EXPECT_EQ(error_of(6, query_set(kId3, "", "x", kQueryTemplateNamePrefixMatch)),
            "a query template with an empty name already exists");
  EXPECT_EQ(error_of(7, query_set(kId3, "q", "x", "", "no-such-session")),
            "invalid session \"no-such-session\"");
  EXPECT_FALSE(snap().prepared_query(kId3));
  EXPECT_EQ(snap().table_index(Table::kPreparedQueries), 5u);  // refusals move nothing
}

TEST_F(StoreQueryTest, TemplatesMatchTheLongestPrefix) {
  ASSERT_EQ(error_of(1, query_set(kId1, "", "catch-all", kQueryTemplateNamePrefixMatch)), "");
  ASSERT_EQ(error_of(2, query_set(kId2, "geo-", "geo", kQueryTemplateNamePrefixMatch)), "");
  ASSERT_EQ(error_of(3, query_set(kId3, "geo-db-", "geo-db", kQueryTemplateNamePrefixMatch)), "");
  EXPECT_EQ(snap().prepared_query_template_for("geo-db-west")->id, kId3);
  EXPECT_EQ(snap().prepared_query_template_for("GEO-web")->id, kId2);
  EXPECT_EQ(snap().prepared_query_template_for("other")->id, kId1);
  ASSERT_EQ(error_of(4, query_delete(kId1)), "");
  EXPECT_FALSE(snap().prepared_query_template_for("other"));
  // A plain query's name is no template prefix.
  ASSERT_EQ(error_of(5, query_set(kId1, "plain", "web")), "");
  EXPECT_FALSE(snap().prepared_query_template_for("plain-x"));
}

TEST_F(StoreQueryTest, SessionBoundQueriesGoWithTheSession) {
  ASSERT_TRUE(apply(1, testing::node_register("n1")).status);
  ASSERT_TRUE(apply(2, testing::session_create("s1", "n1", "release", 0)).status);
  ASSERT_EQ(error_of(3, query_set(kId1, "", "web", "", "s1")), "");
  ASSERT_EQ(error_of(4, query_set(kId2, "kept", "web")), "");
  WatchSet ws;
  store_.watch_table(ws, Table::kPreparedQueries);
  ASSERT_TRUE(apply(5, testing::session_destroy("s1")).status);
  EXPECT_FALSE(snap().prepared_query(kId1));
  EXPECT_TRUE(snap().prepared_query(kId2));
  EXPECT_EQ(snap().table_index(Table::kPreparedQueries), 5u);
  EXPECT_TRUE(ws.fired());
}

TEST_F(StoreQueryTest, SnapshotRoundTrip) {
  ASSERT_TRUE(apply(1, testing::node_register("n1")).status);
  ASSERT_TRUE(apply(2, testing::session_create("s1", "n1", "release", 0)).status);
  proto::Command c = query_set(kId1, "geo-", "${name.suffix}", kQueryTemplateNamePrefixMatch);
  auto* q = c.mutable_prepared_query_set()->mutable_query();
  q->mutable_template_()->set_regexp("^geo-(.*)$");
  q->mutable_template_()->set_remove_empty_tags(true);
  q->set_token("secret");
  q->set_dns_ttl("10s");
  auto* s = q->mutable_service();
  s->mutable_failover()->set_nearest_n(2);
  s->mutable_failover()->add_datacenters("dc2");
  s->set_only_passing(true);
  s->add_ignore_check_ids("serfHealth");
  s->set_near("_agent");
  s->add_tags("v1");
  s->add_tags("!canary");
  auto* m = s->add_node_meta();
  m->set_key("rack");
  m->set_value("r1");
  m = s->add_service_meta();
  m->set_key("version");
  m->set_value("2");
  ASSERT_EQ(error_of(3, c), "");
  ASSERT_EQ(error_of(4, query_set(kId2, "bound", "web", "", "s1")), "");
  std::string bytes;
  ASSERT_TRUE(write_snapshot(snap(), [&](std::string_view b) {
    bytes.append(b);
    return core::ok();
  }));
  auto restored = read_snapshot(bytes);
  ASSERT_TRUE(restored) << restored.error().message;
  EXPECT_EQ(restored->prepared_queries(), snap().prepared_queries());
  EXPECT_EQ(restored->prepared_query_template_for("geo-x")->id, kId1);
  EXPECT_EQ(restored->prepared_query_by_name("BOUND")->id, kId2);
  EXPECT_EQ(restored->table_index(Table::kPreparedQueries), 4u);
  EXPECT_EQ(restored->dump(), snap().dump());
}

}  // namespace
}  // namespace pc::state
