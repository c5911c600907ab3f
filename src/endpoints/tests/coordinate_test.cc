// Coordinate endpoint logic over a real store and the -dev log: Consul's validation texts,
// the batcher (latest per node and segment, batch size, rate limit), reads with ?segment,
// the datacenters view and the ?near= sort with nodes that have no coordinate.
#include "endpoints/coordinate.h"

#include <gtest/gtest.h>

#include <future>

#include "consensus/runtime/single_node_log.h"
#include "proto/commands.pb.h"

namespace pc::endpoints {
namespace {

class StoreFsm : public consensus::Fsm {
 public:
  explicit StoreFsm(state::Store& s) : store(s) {}
  std::any apply(std::uint64_t index, std::string_view bytes) override {
    auto cmd = state::decode_command(bytes);
    EXPECT_TRUE(cmd.has_value());
    return store.apply(index, *cmd);
  }
  void publish() override { store.publish(); }
  state::Store& store;
};

proto::CoordinateUpdate update(std::string node, double x, std::string segment = "") {
  proto::CoordinateUpdate u;
  u.set_node(std::move(node));
  u.set_segment(std::move(segment));
  for (int i = 0; i < 8; ++i) u.add_vec(i == 0 ? x : 0.0);
  u.set_error(0.2);
  u.set_height(1e-5);
  return u;
}

class CoordinateEndpointTest : public ::testing::Test {
 protected:
  CoordinateEndpointTest()
      : fsm_(store_), log_(fsm_, "127.0.0.1:8300"), ctx_{store_, log_, clock_, rand_, {}} {
    log_.start();
    for (const char* n : {"a", "b", "c", "d"}) {
      proto::Command cmd;
      cmd.mutable_catalog_register()->set_node(n);
      cmd.mutable_catalog_register()->set_address("127.0.0.1");
      wait(std::move(cmd));
    }
  }
  ~CoordinateEndpointTest() override { log_.stop(); }

  void wait(proto::Command cmd) {
    std::promise<void> p;
    submit(ctx_, std::move(cmd), [&](core::Result<state::ApplyResult> r) {
      EXPECT_TRUE(r.has_value());
      p.set_value();
    });
    p.get_future().get();
  }
  core::Result<bool> put(const proto::CoordinateUpdate& u, CoordinateBatcher* batcher = nullptr) {
    std::promise<core::Result<bool>> p;
    coordinate_update(ctx_, batcher, u, 8, [&](core::Result<bool> r) { p.set_value(r); });
    return p.get_future().get();
  }
  // The single-node log applies on its own thread: wait until the table shows `n` rows.
  void wait_rows(std::size_t n) {
    for (int i = 0; i < 500 && store_.snapshot().coordinates().size() != n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(store_.snapshot().coordinates().size(), n);
  }

  const core::SystemClock& clock_ = core::SystemClock::instance();
  state::Store store_;
  StoreFsm fsm_;
  consensus::SingleNodeLog log_;
  core::SystemRand rand_{1};
  Context ctx_;
};

TEST_F(CoordinateEndpointTest, ValidationUsesConsulsTexts) {
  auto nan = update("a", std::numeric_limits<double>::quiet_NaN());
  EXPECT_EQ(put(nan).error().message, "invalid coordinate");
  auto negative = update("a", 0.1);
  negative.set_height(-1);
  EXPECT_EQ(put(negative).error().message, "invalid coordinate");
  auto short_vec = update("a", 0.1);
  short_vec.mutable_vec()->RemoveLast();
  const auto r = put(short_vec);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "rejected bad coordinate: &{[0.1 0 0 0 0 0 0] 0.2 0 1e-05}");
  EXPECT_EQ(put(update("", 0.1)).error().message, "Must provide node");
  EXPECT_TRUE(store_.snapshot().coordinates().empty());
}

TEST_F(CoordinateEndpointTest, DirectUpdateAndReadsWithSegments) {
  ASSERT_TRUE(put(update("a", 0.1)));
  ASSERT_TRUE(put(update("a", 0.2, "alpha")));
  ASSERT_TRUE(put(update("b", 0.3)));
  state::WatchSet ws;
  auto all = coordinate_nodes(ctx_, ws, nullptr);
  EXPECT_EQ(all.rows.size(), 3u);
  EXPECT_EQ(all.index, store_.snapshot().table_index(state::Table::kCoordinates));
  const std::string empty;
  EXPECT_EQ(coordinate_nodes(ctx_, ws, &empty).rows.size(), 2u);
  EXPECT_EQ(coordinate_node(ctx_, ws, "A", nullptr).rows.size(), 2u);
  const std::string alpha = "alpha";
  auto one = coordinate_node(ctx_, ws, "a", &alpha);
  ASSERT_EQ(one.rows.size(), 1u);
  EXPECT_DOUBLE_EQ(one.rows[0].vec[0], 0.2);
  EXPECT_TRUE(coordinate_node(ctx_, ws, "zz", nullptr).rows.empty());
}

TEST_F(CoordinateEndpointTest, BatcherKeepsTheLatestAndSplitsBatches) {
  CoordinateBatcher batcher(ctx_, {.batch_size = 2, .max_batches = 2});
  ASSERT_TRUE(put(update("a", 0.1), &batcher));
  ASSERT_TRUE(put(update("a", 0.15), &batcher));  // replaces the pending one
  ASSERT_TRUE(put(update("b", 0.2), &batcher));
  ASSERT_TRUE(put(update("c", 0.3), &batcher));
  ASSERT_TRUE(put(update("d", 0.4), &batcher));
  EXPECT_EQ(batcher.pending(), 4u);
  const auto limited = put(update("e", 0.5), &batcher);
  ASSERT_FALSE(limited);
  EXPECT_EQ(limited.error().message,
            "Coordinate update rate limit exceeded, increase SyncCoordinateRateTarget");
  EXPECT_TRUE(store_.snapshot().coordinates().empty());  // nothing until the flush
  EXPECT_EQ(batcher.flush(), 2u);
  EXPECT_EQ(batcher.pending(), 0u);
  wait_rows(4);
  EXPECT_DOUBLE_EQ(store_.snapshot().node_coordinates("a")[0].vec[0], 0.15);
  EXPECT_EQ(batcher.flush(), 0u);
}

TEST_F(CoordinateEndpointTest, NearSortsByDistanceWithUnknownNodesLast) {
  ASSERT_TRUE(put(update("a", 0.0)));
  ASSERT_TRUE(put(update("b", 0.5)));
  ASSERT_TRUE(put(update("c", 0.1)));
  const state::Snapshot snap = store_.snapshot();
  std::vector<std::string> nodes = {"d", "b", "ghost", "a", "c"};
  auto self = [](const std::string& s) -> const std::string& { return s; };
  sort_near(snap, "a", nodes, self);
  EXPECT_EQ(nodes, (std::vector<std::string>{"a", "c", "b", "d", "ghost"}));
  // From b: c is nearer than a.
  sort_near(snap, "B", nodes, self);
  EXPECT_EQ(nodes, (std::vector<std::string>{"b", "c", "a", "d", "ghost"}));
  // The origin itself comes first even when a neighbour's estimate is smaller: a tall
  // origin (height 5 ms) is estimated 10 ms from itself but 5.5 ms from a point 0.5 ms away.
  proto::CoordinateUpdate tall = update("d", 0.2);
  tall.set_height(0.005);
  ASSERT_TRUE(put(tall));
  ASSERT_TRUE(put(update("c", 0.2005)));
  std::vector<std::string> from_tall = {"a", "c", "D"};
  sort_near(store_.snapshot(), "d", from_tall, self);
  EXPECT_EQ(from_tall, (std::vector<std::string>{"D", "c", "a"}));
  // An origin without a coordinate leaves the order alone.
  std::vector<std::string> same = {"c", "a", "b"};
  sort_near(snap, "ghost", same, self);
  EXPECT_EQ(same, (std::vector<std::string>{"c", "a", "b"}));
}

TEST(CoordinateDatacenters, LocalAlwaysListedAndGroupedInNameOrder) {
  auto dcs = coordinate_datacenters("dc1", {});
  ASSERT_EQ(dcs.size(), 1u);
  EXPECT_EQ(dcs[0].datacenter, "dc1");
  EXPECT_EQ(dcs[0].area_id, "wan");
  EXPECT_TRUE(dcs[0].coordinates.empty());
  gossip::Coordinate c{{0.1, 0.0}, 0.5, 0.0, 1e-5};
  dcs = coordinate_datacenters("dc2",
                               {{"dc2", "s2.dc2", c}, {"dc1", "s1.dc1", c}, {"dc2", "s1.dc2", c}});
  ASSERT_EQ(dcs.size(), 2u);
  EXPECT_EQ(dcs[0].datacenter, "dc1");
  EXPECT_EQ(dcs[1].datacenter, "dc2");
  ASSERT_EQ(dcs[1].coordinates.size(), 2u);
  // Named without the ".<dc>" suffix, as Consul lists them.
  EXPECT_EQ(dcs[0].coordinates[0].node, "s1");
  EXPECT_EQ(dcs[1].coordinates[0].node, "s1");
  EXPECT_EQ(dcs[1].coordinates[1].node, "s2");
  // Only the server's own datacenter is stripped, and never the whole name.
  dcs = coordinate_datacenters("dc1", {{"dc1", "web.dc2", c}, {"dc1", ".dc1", c}});
  ASSERT_EQ(dcs[0].coordinates.size(), 2u);
  EXPECT_EQ(dcs[0].coordinates[0].node, ".dc1");
  EXPECT_EQ(dcs[0].coordinates[1].node, "web.dc2");
}

}  // namespace
}  // namespace pc::endpoints
