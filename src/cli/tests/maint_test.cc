// maint: listing maintenance checks, enabling and disabling for the node or a service.
#include <gtest/gtest.h>

#include "cli/tests/harness.h"

namespace pc::cli {
namespace {

using testing::Harness;

TEST(Maint, ListsNodeAndServiceMaintenance) {
  Harness h;
  h.reply(200, R"({"Config":{"NodeName":"node-1","Datacenter":"dc1"},"Stats":{}})");
  h.reply(200, R"({
    "serfHealth":{"Node":"node-1","CheckID":"serfHealth","Name":"Serf Health Status",
                  "Status":"passing","Notes":"","ServiceID":""},
    "_service_maintenance:web-1":{"Node":"node-1","CheckID":"_service_maintenance:web-1",
                  "Name":"Service Maintenance Mode","Status":"critical","Notes":"deploying",
                  "ServiceID":"web-1","ServiceName":"web"},
    "_node_maintenance":{"Node":"node-1","CheckID":"_node_maintenance",
                  "Name":"Node Maintenance Mode","Status":"critical",
                  "Notes":"Maintenance mode is enabled for this node, but no reason was )"
               R"(provided. This is a default message.","ServiceID":""}})");
  EXPECT_EQ(h.run({"maint"}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(),
            "Node:\n"
            "  Name:   node-1\n"
            "  Reason: Maintenance mode is enabled for this node, but no reason was provided. "
            "This is a default message.\n"
            "\n"
            "Service:\n"
            "  ID:     web-1\n"
            "  Reason: deploying\n"
            "\n");
  ASSERT_EQ(h.requests.size(), 2u);
  EXPECT_EQ(h.requests[0].method, "GET");
  EXPECT_EQ(h.requests[0].path, "/v1/agent/self");
  EXPECT_EQ(h.requests[1].method, "GET");
  EXPECT_EQ(h.requests[1].path, "/v1/agent/checks");

  Harness nothing;
  nothing.reply(200, R"({"Config":{"NodeName":"n"}})");
  nothing.reply(200, "{}");
  EXPECT_EQ(nothing.run({"maint"}), 0);
  EXPECT_EQ(nothing.out.str(), "");
}

TEST(Maint, EnableAndDisableTheNode) {
  Harness enable;
  enable.reply(200, "");
  EXPECT_EQ(enable.run({"maint", "-enable", "-reason", "kernel upgrade"}), 0) << enable.err.str();
  EXPECT_EQ(enable.out.str(), "Node maintenance is now enabled\n");
  ASSERT_EQ(enable.requests.size(), 1u);
  EXPECT_EQ(enable.requests[0].method, "PUT");
  EXPECT_EQ(enable.requests[0].path, "/v1/agent/maintenance?enable=true&reason=kernel%20upgrade");

  Harness no_reason;  // Consul's client always sends reason= when enabling
  no_reason.reply(200, "");
  EXPECT_EQ(no_reason.run({"maint", "-enable"}), 0);
  EXPECT_EQ(no_reason.requests[0].path, "/v1/agent/maintenance?enable=true&reason=");

  Harness disable;
  disable.reply(200, "");
  EXPECT_EQ(disable.run({"maint", "-disable", "-token=t"}), 0);
  EXPECT_EQ(disable.out.str(), "Node maintenance is now disabled\n");
  EXPECT_EQ(disable.requests[0].path, "/v1/agent/maintenance?enable=false");
  EXPECT_EQ(*disable.requests[0].header("X-Consul-Token"), "t");
}

TEST(Maint, EnableAndDisableAService) {
  Harness enable;
  enable.reply(200, "");
  EXPECT_EQ(enable.run({"maint", "-enable", "-service=web 1", "-reason=r"}), 0);
  EXPECT_EQ(enable.out.str(), "Service maintenance is now enabled for \"web 1\"\n");
  EXPECT_EQ(enable.requests[0].method, "PUT");
  EXPECT_EQ(enable.requests[0].path, "/v1/agent/service/maintenance/web%201?enable=true&reason=r");

  Harness disable;
  disable.reply(200, "");
  EXPECT_EQ(disable.run({"maint", "-disable", "-service", "web"}), 0);
  EXPECT_EQ(disable.out.str(), "Service maintenance is now disabled for \"web\"\n");
  EXPECT_EQ(disable.requests[0].path, "/v1/agent/service/maintenance/web?enable=false");
}

TEST(Maint, FlagConflicts) {
  struct Case {
    std::vector<std::string> args;
    std::string error;
  };
  const Case cases[] = {
      {{"maint", "-enable", "-disable"}, "Only one of -enable or -disable may be provided\n"},
      {{"maint", "-reason=x"}, "Reason may only be provided with -enable\n"},
      {{"maint", "-disable", "-reason=x"}, "Reason may only be provided with -enable\n"},
      {{"maint", "-service=web"}, "Service requires either -enable or -disable\n"},
  };
  for (const Case& c : cases) {
    Harness h;
    EXPECT_EQ(h.run(c.args), 1) << c.args[1];
    EXPECT_EQ(h.err.str(), c.error);
    EXPECT_TRUE(h.requests.empty());
  }
  Harness dc;  // client flags only
  EXPECT_EQ(dc.run({"maint", "-datacenter=dc1"}), 1);
  EXPECT_EQ(dc.err.str().rfind("flag provided but not defined: -datacenter\n", 0), 0u);
}

TEST(Maint, HttpErrors) {
  Harness node;
  node.reply(403, "Permission denied");
  EXPECT_EQ(node.run({"maint", "-enable"}), 1);
  EXPECT_EQ(node.err.str(),
            "Error enabling node maintenance: Unexpected response code: 403 (Permission denied)\n");
  EXPECT_EQ(node.out.str(), "");

  Harness service;
  service.reply(404, "Unknown service ID \"nope\"");
  EXPECT_EQ(service.run({"maint", "-disable", "-service=nope"}), 1);
  EXPECT_EQ(service.err.str(),
            "Error disabling service maintenance: Unexpected response code: 404 (Unknown service "
            "ID \"nope\")\n");

  Harness self;
  self.reply(500, "boom");
  EXPECT_EQ(self.run({"maint"}), 1);
  EXPECT_EQ(self.err.str(), "Error querying agent: Unexpected response code: 500 (boom)\n");

  Harness checks;
  checks.reply(200, R"({"Config":{"NodeName":"n"}})");
  checks.reply(500, "boom");
  EXPECT_EQ(checks.run({"maint"}), 1);
  EXPECT_EQ(checks.err.str(), "Error getting checks: Unexpected response code: 500 (boom)\n");

  Harness down;
  down.fail("Error querying agent at http://127.0.0.1:8500: connection refused");
  EXPECT_EQ(down.run({"maint", "-disable"}), 1);
  EXPECT_EQ(down.err.str(), "Error querying agent at http://127.0.0.1:8500: connection refused\n");
}

}  // namespace
}  // namespace pc::cli
