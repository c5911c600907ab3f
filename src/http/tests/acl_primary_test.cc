// Which ACL requests a secondary datacenter sends to the primary (http/acl_primary.h), and
// GET /v1/acl/replication's JSON in the primary.
#include "http/acl_primary.h"

#include <gtest/gtest.h>

#include <boost/json.hpp>

#include "endpoints/acl.h"
#include "http/handlers/handlers.h"
#include "http/tests/handler_world.h"
#include "state/acl_proto.h"

namespace pc::http {
namespace {

class AclPrimaryTest : public ::testing::Test {
 protected:
  AclPrimaryTest() {
    world_.ctx().acl = &resolver_;
    // One local and one global token, as replication and a local write leave them.
    proto::Command cmd;
    auto* batch = cmd.mutable_acl_token_batch();
    batch->add_upserts()->set_accessor_id("global-one");
    batch->mutable_upserts(0)->set_secret_id("s1");
    apply(cmd);
    proto::Command local;
    local.mutable_acl_token_set()->mutable_token()->set_accessor_id("local-one");
    local.mutable_acl_token_set()->mutable_token()->set_secret_id("s2");
    local.mutable_acl_token_set()->mutable_token()->set_local(true);
    apply(local);
  }
  void apply(proto::Command cmd) {
    std::promise<void> done;
    endpoints::submit(world_.ctx(), std::move(cmd), [&](core::Result<state::ApplyResult> r) {
      EXPECT_TRUE(r && r->ok);
      done.set_value();
    });
    done.get_future().wait();
  }
  std::optional<std::string> route(std::string method, std::string path, std::string body = "") {
    Request req;
    req.method = std::move(method);
    req.path = std::move(path);
    req.body = std::move(body);
    return acl_primary_for(world_.ctx(), req);
  }

  static endpoints::AclSettings secondary() {
    endpoints::AclSettings s;
    s.enabled = true;
    s.primary_datacenter = "dc0";
    return s;
  }

  testing::HandlerWorld world_{"node1"};
  endpoints::AclResolver resolver_{world_.store(), secondary(), "dc1",
                                   core::SystemClock::instance()};
};

TEST_F(AclPrimaryTest, GlobalWritesGoToThePrimaryAndTheRestStays) {
  EXPECT_EQ(route("PUT", "/v1/acl/policy", "{}"), "dc0");
  EXPECT_EQ(route("DELETE", "/v1/acl/policy/p1"), "dc0");
  EXPECT_EQ(route("PUT", "/v1/acl/role/r1", "{}"), "dc0");
  EXPECT_EQ(route("PUT", "/v1/acl/token", R"({"Description":"x"})"), "dc0");
  EXPECT_EQ(route("PUT", "/v1/acl/token/global-one", R"({"Local":false})"), "dc0");
  EXPECT_EQ(route("DELETE", "/v1/acl/token/global-one"), "dc0");
  EXPECT_EQ(route("PUT", "/v1/acl/token/global-one/clone"), "dc0");
  EXPECT_EQ(route("DELETE", "/v1/acl/token/not-here-yet"), "dc0");

  EXPECT_FALSE(route("PUT", "/v1/acl/token", R"({"Local":true})"));
  EXPECT_FALSE(route("PUT", "/v1/acl/token/local-one", R"({"Local":true})"));
  EXPECT_FALSE(route("DELETE", "/v1/acl/token/local-one"));
  EXPECT_FALSE(route("PUT", "/v1/acl/token/local-one/clone"));
  EXPECT_FALSE(route("PUT", "/v1/acl/token", "not json")) << "the local handler says why";
  EXPECT_FALSE(route("GET", "/v1/acl/policy/p1"));
  EXPECT_FALSE(route("GET", "/v1/acl/token/self"));
  EXPECT_FALSE(route("PUT", "/v1/acl/bootstrap"));
  EXPECT_FALSE(route("PUT", "/v1/kv/x"));
}

TEST(AclPrimaryInPrimary, NothingIsSentAnywhereAndStatusIsZero) {
  testing::HandlerWorld world{"node1"};
  endpoints::AclSettings settings;
  settings.enabled = true;
  endpoints::AclResolver resolver{world.store(), settings, "dc1", core::SystemClock::instance()};
  world.ctx().acl = &resolver;
  Request req;
  req.method = "PUT";
  req.path = "/v1/acl/policy";
  EXPECT_FALSE(acl_primary_for(world.ctx(), req));

  Response r = world.call(handlers::acl_replication, "GET", "/v1/acl/replication");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto json = boost::json::parse(r.body).as_object();
  EXPECT_FALSE(json.at("Enabled").as_bool());
  EXPECT_FALSE(json.at("Running").as_bool());
  EXPECT_EQ(json.at("ReplicatedTokenIndex").as_int64(), 0);
  EXPECT_EQ(json.at("LastSuccess").as_string(), "0001-01-01T00:00:00Z");
  EXPECT_EQ(json.at("LastErrorMessage").as_string(), "");

  world.ctx().acl = nullptr;
  Response off = world.call(handlers::acl_replication, "GET", "/v1/acl/replication");
  EXPECT_EQ(off.status, 401);
}

}  // namespace
}  // namespace pc::http
