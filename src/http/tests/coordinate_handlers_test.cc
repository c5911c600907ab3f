// The coordinate handlers over a live store (handler_world.h): Consul's JSON shapes for
// /v1/coordinate/nodes and /node/<node>, the update's decode and validation answers (400 for
// the edge's decode errors, 500 for Coordinate.Update's), and ?near= on the catalog.
#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "http/handlers/handlers.h"
#include "http/tests/handler_world.h"

namespace pc::http {
namespace {

namespace h = handlers;

class CoordinateHandlersTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Response r = world_.call(h::catalog_register, "PUT", "/v1/catalog/register", "",
                             R"({"Node":"far","Address":"10.0.0.9"})");
    ASSERT_EQ(r.status, 200) << r.body;
  }
  Response update(const std::string& body) {
    return world_.call(h::coordinate_update, "PUT", "/v1/coordinate/update", "", body);
  }
  // The -dev log applies on its own thread: wait until the table has `n` rows.
  void wait_rows(std::size_t n) {
    for (int i = 0; i < 500 && world_.store().snapshot().coordinates().size() != n; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ASSERT_EQ(world_.store().snapshot().coordinates().size(), n);
  }

  testing::HandlerWorld world_{"agent"};
};

TEST_F(CoordinateHandlersTest, UpdatesReadBackInConsulsShape) {
  Response r =
      update(R"({"Node":"agent","Coord":{"Vec":[0,0,0,0,0,0,0,0],"Error":0.5,"Height":0.00001}})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "");
  ASSERT_EQ(update(R"({"Node":"far","Segment":"","Coord":{"Vec":[0.05,0,0,0,0,0,0,0],)"
                   R"("Error":0.5,"Adjustment":0,"Height":0.00001}})")
                .status,
            200);
  wait_rows(2);
  Response one = world_.call(h::coordinate_node, "GET", "/v1/coordinate/node/agent");
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_EQ(one.body,
            R"([{"Node":"agent","Segment":"","Coord":{"Vec":[0,0,0,0,0,0,0,0],"Error":0.5,)"
            R"("Adjustment":0,"Height":0.00001}}])");
  Response all = world_.call(h::coordinate_nodes, "GET", "/v1/coordinate/nodes");
  ASSERT_EQ(all.status, 200);
  EXPECT_NE(all.body.find(R"({"Node":"far","Segment":"","Coord":{"Vec":[0.05,0,)"),
            std::string::npos)
      << all.body;
  EXPECT_EQ(world_.call(h::coordinate_nodes, "GET", "/v1/coordinate/nodes", "segment=x").body,
            "[]");
  EXPECT_EQ(world_.call(h::coordinate_node, "GET", "/v1/coordinate/node/ghost").status, 404);
  EXPECT_EQ(world_.call(h::coordinate_datacenters, "GET", "/v1/coordinate/datacenters").body,
            R"([{"Datacenter":"dc1","AreaID":"wan","Coordinates":[]}])");

  // ?near=: the origin first, then by distance; both orders from both ends.
  auto nodes = [&](std::string_view query) {
    return world_.call(h::catalog_nodes, "GET", "/v1/catalog/nodes", query).body;
  };
  const std::string from_agent = nodes("near=_agent");
  EXPECT_LT(from_agent.find(R"("Node":"agent")"), from_agent.find(R"("Node":"far")"));
  const std::string from_far = nodes("near=far");
  EXPECT_LT(from_far.find(R"("Node":"far")"), from_far.find(R"("Node":"agent")"));
}

TEST_F(CoordinateHandlersTest, BadUpdatesGetConsulsAnswers) {
  Response r = update("{");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body.rfind("Request decode failed", 0), 0u) << r.body;
  r = update(R"({"Node":"agent","Coord":{"Vec":["x"]}})");
  EXPECT_EQ(r.status, 400) << r.body;
  r = update(R"({"Node":"agent"})");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "invalid coordinate");
  r = update(R"({"Node":"agent","Coord":{"Vec":[0.1,0,0],"Error":1.5}})");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "rejected bad coordinate: &{[0.1 0 0] 1.5 0 0}");
  r = update(R"({"Node":"agent","Coord":{"Vec":[0,0,0,0,0,0,0,0],"Error":-1}})");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "invalid coordinate");
  EXPECT_TRUE(world_.store().snapshot().coordinates().empty());
}

}  // namespace
}  // namespace pc::http
