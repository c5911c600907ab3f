// The ?filter= selectors of every catalog row (endpoints/service_filter.h): each layout names
// the node, service and check fields as Consul's structs do, tagged addresses of services
// select by key and then Address/Port, and unknown selectors get go-bexpr's message.
#include <gtest/gtest.h>

#include <string>
#include <string_view>

#include "endpoints/catalog.h"
#include "endpoints/check_filter.h"
#include "endpoints/health.h"
#include "endpoints/node_filter.h"
#include "endpoints/service_filter.h"

namespace pc::endpoints {
namespace {

using FilterCompiler = core::Result<filter::Expression> (*)(std::string_view);

state::Node test_node() {
  state::Node n;
  n.id = "40e4a748-2192-161a-0510-9bf59fe950b5";
  n.node = "node1";
  n.address = "10.0.0.1";
  n.datacenter = "dc1";
  n.tagged_addresses = {{"lan", "10.0.0.1"}, {"wan", "198.18.0.1"}};
  n.meta = {{"rack", "r1"}};
  return n;
}

state::Service test_service() {
  state::Service s;
  s.node = "node1";
  s.id = "web-1";
  s.service = "web";
  s.tags = {"primary", "v1"};
  s.address = "10.0.0.5";
  s.tagged_addresses = {{"lan", {"10.0.0.5", 8080}}, {"wan", {"198.18.0.5", 80}}};
  s.meta = {{"version", "1.2"}};
  s.port = 8080;
  s.weights = {3, 1};
  return s;
}

state::HealthCheck test_check() {
  state::HealthCheck c;
  c.node = "node1";
  c.check_id = "service:web-1";
  c.name = "web alive";
  c.status = "warning";
  c.notes = "n";
  c.output = "HTTP 429";
  c.service_id = "web-1";
  c.service_name = "web";
  c.service_tags = {"primary", "v1"};
  c.type = "http";
  return c;
}

// Compiles with `compile` (which must succeed) and evaluates with `matches` on `row`.
template <typename Row, typename Matches>
bool eval(FilterCompiler compile, Matches matches, std::string_view text, const Row& row) {
  auto e = compile(text);
  EXPECT_TRUE(e.has_value()) << text << ": " << (e ? "" : e.error().message);
  return e && matches(*e, row);
}

std::string error_of(FilterCompiler compile, std::string_view text) {
  auto e = compile(text);
  EXPECT_FALSE(e.has_value()) << text;
  if (e) return "";
  EXPECT_EQ(e.error().code, core::Code::kInvalidArgument);
  return e.error().message;
}

bool node(std::string_view text, const state::Node& n = test_node()) {
  return eval(compile_node_filter, node_matches, text, n);
}
bool service(std::string_view text, const state::Service& s = test_service()) {
  return eval(compile_node_service_filter, node_service_matches, text, s);
}
bool check(std::string_view text, const state::HealthCheck& c = test_check()) {
  return eval(compile_health_check_filter, health_check_matches, text, c);
}

TEST(RowFilter, NodeSelectors) {
  EXPECT_TRUE(node("Node == node1 and Datacenter == dc1 and Address == \"10.0.0.1\""));
  EXPECT_TRUE(node("ID matches `^40e4`"));
  EXPECT_TRUE(node("Meta.rack == r1"));
  EXPECT_FALSE(node("Meta.rack == r2"));
  EXPECT_TRUE(node("rack in Meta and Meta is not empty"));
  EXPECT_TRUE(node("TaggedAddresses.wan == \"198.18.0.1\""));
  EXPECT_TRUE(node("lan in TaggedAddresses"));
  EXPECT_FALSE(node("Meta.missing == x"));
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "Selector \"NodeMeta\" is not valid",
                      error_of(compile_node_filter, "NodeMeta.rack == r1"));
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "Selector \"Service\" is not valid",
                      error_of(compile_node_filter, "Service == web"));
}

TEST(RowFilter, NodeServiceSelectors) {
  EXPECT_TRUE(service("Service == web and ID == \"web-1\" and Port == 8080 and Kind == \"\""));
  EXPECT_TRUE(service("v1 in Tags and Address == \"10.0.0.5\""));
  EXPECT_TRUE(service("Meta.version == \"1.2\" and Weights.Passing == 3 and Weights.Warning == 1"));
  EXPECT_TRUE(service("EnableTagOverride == false"));
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "Selector \"ServiceName\" is not valid",
                      error_of(compile_node_service_filter, "ServiceName == web"));
}

// Consul: TaggedAddresses (keys), TaggedAddresses.<any>.Address and .Port.
TEST(RowFilter, ServiceTaggedAddressesSelectByKeyThenAddressOrPort) {
  EXPECT_TRUE(service("TaggedAddresses.lan.Address == \"10.0.0.5\""));
  EXPECT_TRUE(service("TaggedAddresses.wan.Port == 80"));
  EXPECT_FALSE(service("TaggedAddresses.wan.Port == 8080"));
  EXPECT_TRUE(service("TaggedAddresses.wan.Address matches `^198\\.18`"));
  EXPECT_TRUE(service("lan in TaggedAddresses and TaggedAddresses is not empty"));
  EXPECT_TRUE(service("dmz not in TaggedAddresses"));
  // A missing key: nothing equals it, everything differs from it.
  EXPECT_FALSE(service("TaggedAddresses.dmz.Address == \"10.0.0.5\""));
  EXPECT_TRUE(service("TaggedAddresses.dmz.Port != 80"));
  state::Service bare = test_service();
  bare.tagged_addresses.clear();
  EXPECT_TRUE(service("TaggedAddresses is empty", bare));
  EXPECT_FALSE(service("lan in TaggedAddresses", bare));

  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "Failed to coerce value",
                      error_of(compile_node_service_filter, "TaggedAddresses.lan.Port == abc"));
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "Invalid match operator",
                      error_of(compile_node_service_filter, "TaggedAddresses.lan.Port matches x"));
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "Selector \"TaggedAddresses.lan\" is not valid",
                      error_of(compile_node_service_filter, "TaggedAddresses.lan == x"));
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "Selector \"TaggedAddresses.lan.Foo\" is not valid",
                      error_of(compile_node_service_filter, "TaggedAddresses.lan.Foo == x"));
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "Invalid match operator",
                      error_of(compile_node_service_filter, "TaggedAddresses == x"));
}

TEST(RowFilter, HealthCheckSelectors) {
  EXPECT_TRUE(check("Status == warning and CheckID == \"service:web-1\" and Node == node1"));
  EXPECT_TRUE(check("Name matches alive and Notes == n and Output contains 429"));
  EXPECT_TRUE(check("ServiceID == \"web-1\" and ServiceName == web and Type == http"));
  EXPECT_TRUE(check("primary in ServiceTags"));
  EXPECT_FALSE(check("ServiceTags is empty"));
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "Selector \"Definition\" is not valid",
                      error_of(compile_health_check_filter, "Definition.HTTP == x"));
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "Failed to create boolean expression evaluator",
                      error_of(compile_health_check_filter, "Status =="));
}

// The joined rows name the same fields flat (ServiceNode) or nested (CheckServiceNode).
TEST(RowFilter, JoinedRowsNameTheSameFieldsFlatOrNested) {
  const ServiceNode sn{test_node(), test_service()};
  auto flat = [&](std::string_view text) {
    auto e = compile_service_node_filter(text);
    EXPECT_TRUE(e.has_value()) << text << ": " << (e ? "" : e.error().message);
    return e && service_filter::matches(*e, {&sn.node, &sn.service});
  };
  EXPECT_TRUE(
      flat("Node == node1 and NodeMeta.rack == r1 and TaggedAddresses.lan == \"10.0.0.1\""));
  EXPECT_TRUE(flat("ServiceName == web and ServiceID == \"web-1\" and ServiceKind == \"\""));
  EXPECT_TRUE(flat("ServiceTaggedAddresses.lan.Port == 8080 and wan in ServiceTaggedAddresses"));
  EXPECT_TRUE(flat("ServiceWeights.Passing == 3 and ServiceMeta.version == \"1.2\""));
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "Selector \"Meta\" is not valid",
                      error_of(compile_service_node_filter, "Meta.rack == r1"));
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "Selector \"ServiceWeights.Foo\" is not valid",
                      error_of(compile_service_node_filter, "ServiceWeights.Foo == 1"));

  const CheckServiceNode csn{test_node(), test_service(), {}};
  auto nested = [&](std::string_view text) {
    auto e = compile_check_service_node_filter(text);
    EXPECT_TRUE(e.has_value()) << text << ": " << (e ? "" : e.error().message);
    return e && service_filter::matches(*e, {&csn.node, &csn.service});
  };
  EXPECT_TRUE(nested("Node.Node == node1 and Node.Meta.rack == r1"));
  EXPECT_TRUE(nested("Service.Service == web and Service.Weights.Passing == 3"));
  EXPECT_TRUE(nested("Service.TaggedAddresses.wan.Address == \"198.18.0.5\""));
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "Selector \"Service.Foo\" is not valid",
                      error_of(compile_check_service_node_filter, "Service.Foo == 1"));
  EXPECT_PRED_FORMAT2(::testing::IsSubstring, "Selector \"ServiceName\" is not valid",
                      error_of(compile_check_service_node_filter, "ServiceName == web"));
}

}  // namespace
}  // namespace pc::endpoints
