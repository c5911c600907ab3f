// ?dc= in the route table (http/routes.h): a request naming another datacenter goes to the
// DcForwarder whole, the agent's own paths and the datacenter lists ignore ?dc=, and without
// a forwarder another datacenter is Consul's 500 "No path to datacenter".
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "http/routes.h"
#include "http/tests/handler_world.h"

namespace pc::http {
namespace {

struct DcRoutes : ::testing::Test {
  void make(bool with_forwarder) {
    DcForwarder to_dc;
    if (with_forwarder) {
      to_dc = [this](const Request& req, Reply reply) {
        forwarded.push_back(req.method + " " + req.path + "?" + req.raw_query);
        Response r = Response::json("\"remote\"");
        r.headers.emplace_back("X-Consul-Index", "77");
        reply(std::move(r));
      };
    }
    register_routes(router, world.ctx(), RouteSet::kAll, {}, std::move(to_dc));
  }
  Response get(const std::string& method, const std::string& path, std::string_view query) {
    Request req;
    req.method = method;
    req.path = path;
    testing::split_query(query, req);
    std::optional<Response> got;
    router.dispatch(req, [&](Outcome o) {
      if (auto* r = std::get_if<Response>(&o)) {
        got = std::move(*r);
      } else {
        state::WatchSet ws;
        got = std::get<BlockingRead>(o).run(ws).response;
      }
    });
    EXPECT_TRUE(got.has_value());
    return got.value_or(Response{});
  }

  testing::HandlerWorld world{"n1"};
  Router router;
  std::vector<std::string> forwarded;
};

TEST_F(DcRoutes, AnotherDatacenterIsForwardedWhole) {
  make(true);
  Response r = get("PUT", "/v1/kv/a", "dc=dc2&cas=0");
  EXPECT_EQ(r.body, "\"remote\"");
  ASSERT_EQ(r.headers.size(), 1u);  // relayed as the forwarder answered
  EXPECT_EQ(r.headers[0].second, "77");
  get("GET", "/v1/health/service/web", "dc=dc2&index=5&wait=1s");
  get("GET", "/v1/status/leader", "dc=dc2");
  EXPECT_EQ(forwarded,
            (std::vector<std::string>{"PUT /v1/kv/a?dc=dc2&cas=0",
                                      "GET /v1/health/service/web?dc=dc2&index=5&wait=1s",
                                      "GET /v1/status/leader?dc=dc2"}));
}

TEST_F(DcRoutes, LocalDatacenterAndIgnoringPathsRunHere) {
  make(true);
  EXPECT_EQ(get("GET", "/v1/kv/a", "dc=dc1").status, 404);
  EXPECT_EQ(get("GET", "/v1/kv/a", "dc=").status, 404);
  EXPECT_EQ(get("GET", "/v1/agent/self", "dc=dc2").status, 200);
  EXPECT_EQ(get("GET", "/v1/catalog/datacenters", "dc=dc2").status, 200);
  EXPECT_TRUE(forwarded.empty());
  EXPECT_TRUE(ignores_datacenter("/v1/agent/services"));
  EXPECT_TRUE(ignores_datacenter("/v1/coordinate/datacenters"));
  EXPECT_TRUE(ignores_datacenter("/v1/event/list"));
  EXPECT_FALSE(ignores_datacenter("/v1/event/fire/deploy"));
  EXPECT_FALSE(ignores_datacenter("/v1/coordinate/nodes"));
  EXPECT_FALSE(ignores_datacenter("/v1/catalog/nodes"));
}

TEST_F(DcRoutes, NoForwarderIsNoPath) {
  make(false);
  Response r = get("GET", "/v1/catalog/nodes", "dc=dc2");
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body, "No path to datacenter");
}

}  // namespace
}  // namespace pc::http
