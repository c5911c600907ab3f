// The coordinates table (agent/consul/state/coordinate_test.go in Consul): batch updates for
// registered nodes only, unusable coordinates skipped, rows gone with their node, the table
// index and its watch.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "state/tests/store_test_util.h"

namespace pc::state {
namespace {

using testing::catalog_deregister;
using testing::catalog_register;
using testing::coordinate_update;
using testing::StoreTest;

class CoordinateTest : public StoreTest {
 protected:
  void SetUp() override {
    ASSERT_TRUE(apply(1, catalog_register("node1")).status);
    ASSERT_TRUE(apply(2, catalog_register("node2")).status);
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& c : snap().coordinates()) out.push_back(c.node + "/" + c.segment);
    return out;
  }
};

TEST_F(CoordinateTest, BatchStoresKnownNodesAndSkipsUnknownOnes) {
  ASSERT_TRUE(apply(3, coordinate_update({{"node1", 0.1}, {"ghost", 0.2}, {"NODE2", 0.3}})).status);
  EXPECT_EQ(names(), (std::vector<std::string>{"node1/", "NODE2/"}));
  EXPECT_EQ(snap().table_index(Table::kCoordinates), 3u);
  const auto rows = snap().node_coordinates("Node1");
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].vec.size(), 8u);
  EXPECT_DOUBLE_EQ(rows[0].vec[1], 0.101);
  EXPECT_DOUBLE_EQ(rows[0].error, 0.5);
  EXPECT_DOUBLE_EQ(rows[0].adjustment, -0.0001);
  EXPECT_DOUBLE_EQ(rows[0].height, 0.00002);
  EXPECT_EQ(rows[0].modify_index, 3u);
}

TEST_F(CoordinateTest, SegmentsAreSeparateRowsAndUpdatesReplace) {
  ASSERT_TRUE(apply(3, coordinate_update({{"node1", 0.1}})).status);
  ASSERT_TRUE(apply(4, coordinate_update({{"node1", 0.2}}, "alpha")).status);
  ASSERT_TRUE(apply(5, coordinate_update({{"node1", 0.4}})).status);
  const auto rows = snap().node_coordinates("node1");
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].segment, "");
  EXPECT_DOUBLE_EQ(rows[0].vec[0], 0.4);
  EXPECT_EQ(rows[1].segment, "alpha");
  EXPECT_DOUBLE_EQ(rows[1].vec[0], 0.2);
}

TEST_F(CoordinateTest, IdenticalUpdateMovesNoIndexAndWakesNobody) {
  ASSERT_TRUE(apply(3, coordinate_update({{"node1", 0.1}})).status);
  WatchSet ws;
  store_.watch_table(ws, Table::kCoordinates);
  ASSERT_TRUE(apply(4, coordinate_update({{"node1", 0.1}})).status);
  EXPECT_EQ(snap().table_index(Table::kCoordinates), 3u);
  EXPECT_FALSE(ws.fired());
  ASSERT_TRUE(apply(5, coordinate_update({{"node1", 0.2}})).status);
  EXPECT_EQ(snap().table_index(Table::kCoordinates), 5u);
  EXPECT_TRUE(ws.fired());
}

TEST_F(CoordinateTest, UnusableCoordinatesAreSkipped) {
  proto::Command c = coordinate_update({{"node1", 0.1}, {"node2", 0.2}});
  auto* updates = c.mutable_coordinate_batch_update()->mutable_updates();
  updates->Mutable(0)->set_vec(3, std::numeric_limits<double>::quiet_NaN());
  updates->Mutable(1)->set_height(-1.0);
  ASSERT_TRUE(apply(3, c).status);
  proto::Command wide = coordinate_update({{"node1", 0.1}});
  wide.mutable_coordinate_batch_update()->mutable_updates(0)->add_vec(0.5);  // 9 dimensions
  ASSERT_TRUE(apply(4, wide).status);
  proto::Command none = coordinate_update({{"node1", 0.1}});
  none.mutable_coordinate_batch_update()->mutable_updates(0)->clear_vec();
  ASSERT_TRUE(apply(5, none).status);
  EXPECT_TRUE(snap().coordinates().empty());
  EXPECT_EQ(snap().table_index(Table::kCoordinates), 0u);
}

TEST_F(CoordinateTest, DeregisteringTheNodeDropsItsCoordinates) {
  ASSERT_TRUE(apply(3, coordinate_update({{"node1", 0.1}, {"node2", 0.2}})).status);
  ASSERT_TRUE(apply(4, coordinate_update({{"node1", 0.1}}, "alpha")).status);
  WatchSet ws;
  store_.watch_table(ws, Table::kCoordinates);
  ASSERT_TRUE(apply(5, catalog_deregister("node1", "web1")).status);  // a service: no effect
  EXPECT_FALSE(ws.fired());
  ASSERT_TRUE(apply(6, catalog_deregister("NODE1")).status);
  EXPECT_EQ(names(), (std::vector<std::string>{"node2/"}));
  EXPECT_EQ(snap().table_index(Table::kCoordinates), 6u);
  EXPECT_TRUE(ws.fired());
}

}  // namespace
}  // namespace pc::state
