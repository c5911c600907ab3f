// The catalog and health handlers over a live store (handler_world.h): a service's tagged
// addresses as Consul's map[string]ServiceAddress in and out, /v1/catalog/node-services, and
// ?filter= on every list Consul filters, with 400 and go-bexpr's text for a bad one.
#include <gtest/gtest.h>

#include <boost/json.hpp>

#include <string>
#include <string_view>

#include "http/handlers/common.h"
#include "http/handlers/handlers.h"
#include "http/json/writer.h"
#include "http/tests/handler_world.h"

namespace pc::http {
namespace {

namespace json = boost::json;
namespace h = handlers;

// Two nodes: n1 with web-1 (tagged lan and wan addresses, a passing check) and n2 with web-2
// (no tagged addresses, a critical check).
constexpr std::string_view kRegisterN1 = R"({
  "Node": "n1", "Address": "10.0.0.1", "NodeMeta": {"rack": "r1"},
  "TaggedAddresses": {"lan": "10.0.0.1"},
  "Service": {"ID": "web-1", "Service": "web", "Port": 8080,
              "TaggedAddresses": {"lan": {"address": "10.0.0.5", "port": 8080},
                                  "wan": {"Address": "198.18.0.5", "Port": 80}}},
  "Check": {"CheckID": "web-1-alive", "Status": "passing", "ServiceID": "web-1"}})";
constexpr std::string_view kRegisterN2 = R"({
  "Node": "n2", "Address": "10.0.0.2", "NodeMeta": {"rack": "r2"},
  "Service": {"ID": "web-2", "Service": "web", "Port": 8080},
  "Checks": [{"CheckID": "web-2-alive", "Status": "critical", "ServiceID": "web-2"}]})";

class CatalogHandlersTest : public ::testing::Test {
 protected:
  CatalogHandlersTest() {
    for (auto body : {kRegisterN1, kRegisterN2}) {
      Response r =
          world_.call(h::catalog_register, "PUT", "/v1/catalog/register", "", std::string(body));
      EXPECT_EQ(r.status, 200) << r.body;
      EXPECT_EQ(r.body, "true");
    }
  }

  // GET `path`?`query`, which must answer 200 with JSON.
  json::value get(testing::HandlerWorld::HandlerFn fn, std::string path,
                  std::string_view query = "") {
    Response r = world_.call(fn, "GET", std::move(path), query);
    EXPECT_EQ(r.status, 200) << r.body;
    return json::parse(r.body);
  }
  // GET with a ?filter= that does not compile: 400, go-bexpr's text.
  void expect_bad_filter(testing::HandlerWorld::HandlerFn fn, std::string path) {
    Response r = world_.call(fn, "GET", path, "filter=Nope == 1");
    EXPECT_EQ(r.status, 400) << path;
    EXPECT_EQ(r.body,
              "Failed to create boolean expression evaluator: Selector \"Nope\" is not valid")
        << path;
  }

  testing::HandlerWorld world_{"agent"};
};

const json::value kN1Addresses = json::parse(
    R"({"lan": {"Address": "10.0.0.5", "Port": 8080},
        "wan": {"Address": "198.18.0.5", "Port": 80}})");

TEST(ServiceTaggedAddresses, RenderAsConsulsServiceAddressObjects) {
  JsonWriter w;
  h::write_service_tagged_addresses(w, {{"lan", {"10.0.0.5", 8080}}, {"wan", {"::1", 0}}});
  EXPECT_EQ(w.take(),
            R"({"lan":{"Address":"10.0.0.5","Port":8080},"wan":{"Address":"::1","Port":0}})");
  JsonWriter empty;
  h::write_service_tagged_addresses(empty, {});
  EXPECT_EQ(empty.take(), "{}");
  // The field form follows Go's omitempty: no key at all for an empty map.
  JsonWriter omitted;
  omitted.begin_object();
  h::write_service_tagged_addresses_field(omitted, "TaggedAddresses", {});
  omitted.end_object();
  EXPECT_EQ(omitted.take(), "{}");
}

TEST_F(CatalogHandlersTest, ServiceTaggedAddressesEverywhereAServiceIsRendered) {
  auto nodes = get(h::catalog_service_nodes, "/v1/catalog/service/web").as_array();
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[0].at("ServiceTaggedAddresses"), kN1Addresses);
  EXPECT_EQ(nodes[0].at("TaggedAddresses"), json::parse(R"({"lan": "10.0.0.1"})"));
  EXPECT_FALSE(nodes[1].as_object().contains("ServiceTaggedAddresses"));  // omitempty

  auto node = get(h::catalog_node_services, "/v1/catalog/node/n1");
  EXPECT_EQ(node.at("Services").at("web-1").at("TaggedAddresses"), kN1Addresses);

  auto health = get(h::health_service_nodes, "/v1/health/service/web").as_array();
  ASSERT_EQ(health.size(), 2u);
  EXPECT_EQ(health[0].at("Service").at("TaggedAddresses"), kN1Addresses);
  EXPECT_FALSE(health[1].at("Service").as_object().contains("TaggedAddresses"));
}

TEST_F(CatalogHandlersTest, RegisterRejectsTaggedAddressesOfTheWrongShape) {
  auto reg = [&](std::string_view tagged) {
    return world_.call(h::catalog_register, "PUT", "/v1/catalog/register", "",
                       R"({"Node": "n3", "Address": "10.0.0.3", "Service": {"Service": "x",
                           "TaggedAddresses": )" +
                           std::string(tagged) + "}}");
  };
  Response r = reg(R"({"lan": "10.0.0.3"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body,
            "Request decode failed: json: cannot unmarshal string into Go struct field "
            "TaggedAddresses of type structs.ServiceAddress");
  r = reg(R"({"lan": {"Address": "10.0.0.3", "Port": "80"}})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("Port"), std::string::npos) << r.body;
  r = reg(R"(["10.0.0.3"])");
  EXPECT_EQ(r.status, 400);
  // null values and a null map are Go's zero values.
  r = reg(R"({"lan": null})");
  EXPECT_EQ(r.status, 200) << r.body;
  auto svc = get(h::catalog_node_services, "/v1/catalog/node/n3").at("Services").at("x");
  EXPECT_EQ(svc.at("TaggedAddresses"), json::parse(R"({"lan": {"Address": "", "Port": 0}})"));
  EXPECT_EQ(reg("null").status, 200);
}

TEST_F(CatalogHandlersTest, NodeServiceListIsTheNodeAndAListOfItsServices) {
  auto list = get(h::catalog_node_service_list, "/v1/catalog/node-services/n1");
  EXPECT_EQ(list.at("Node").at("Node"), "n1");
  EXPECT_EQ(list.at("Node").at("Meta"), json::parse(R"({"rack": "r1"})"));
  auto services = list.at("Services").as_array();
  ASSERT_EQ(services.size(), 1u);
  EXPECT_EQ(services[0].at("ID"), "web-1");
  EXPECT_EQ(services[0].at("Tags"), json::array());
  EXPECT_EQ(services[0].at("TaggedAddresses"), kN1Addresses);

  auto filtered = get(h::catalog_node_service_list, "/v1/catalog/node-services/n1",
                      "filter=TaggedAddresses.wan.Port == 443");
  EXPECT_EQ(filtered.at("Node").at("Node"), "n1");
  EXPECT_EQ(filtered.at("Services"), json::array());

  EXPECT_EQ(get(h::catalog_node_service_list, "/v1/catalog/node-services/nope"),
            json::parse(R"({"Node": null, "Services": []})"));
  Response missing = world_.call(h::catalog_node_service_list, "GET", "/v1/catalog/node-services/");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.body, "Missing node name");
}

TEST_F(CatalogHandlersTest, FiltersOnEveryListConsulFilters) {
  auto names = [](const json::value& v, std::string_view field) {
    std::vector<std::string> out;
    for (const auto& e : v.as_array()) out.emplace_back(e.at(field).as_string());
    return out;
  };
  using Names = std::vector<std::string>;
  EXPECT_EQ(names(get(h::catalog_nodes, "/v1/catalog/nodes", "filter=Meta.rack == r2"), "Node"),
            Names{"n2"});
  EXPECT_EQ(
      names(get(h::catalog_nodes, "/v1/catalog/nodes", "filter=lan in TaggedAddresses"), "Node"),
      Names{"n1"});
  auto node = get(h::catalog_node_services, "/v1/catalog/node/n1", "filter=Port == 1");
  EXPECT_EQ(node.at("Services"), json::object());
  EXPECT_EQ(get(h::catalog_services, "/v1/catalog/services", "filter=NodeMeta.rack == r2"),
            json::parse(R"({"web": []})"));
  EXPECT_EQ(get(h::catalog_services, "/v1/catalog/services", "filter=ServiceName == none"),
            json::object());
  EXPECT_EQ(names(get(h::catalog_service_nodes, "/v1/catalog/service/web",
                      "filter=ServiceTaggedAddresses.lan.Address == \"10.0.0.5\""),
                  "Node"),
            Names{"n1"});
  EXPECT_EQ(names(get(h::health_node_checks, "/v1/health/node/n2", "filter=Status == critical"),
                  "CheckID"),
            Names{"web-2-alive"});
  EXPECT_EQ(
      names(get(h::health_service_checks, "/v1/health/checks/web", "filter=Status == passing"),
            "CheckID"),
      Names{"web-1-alive"});
  EXPECT_EQ(names(get(h::health_checks_in_state, "/v1/health/state/any",
                      "filter=ServiceName == web and Status != passing"),
                  "CheckID"),
            Names{"web-2-alive"});
  EXPECT_EQ(get(h::health_checks_in_state, "/v1/health/state/any", "filter=Node == nope"),
            json::array());
  auto entries = get(h::health_service_nodes, "/v1/health/service/web",
                     "filter=Service.TaggedAddresses is empty")
                     .as_array();
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_EQ(entries[0].at("Node").at("Node"), "n2");

  expect_bad_filter(h::catalog_nodes, "/v1/catalog/nodes");
  expect_bad_filter(h::catalog_services, "/v1/catalog/services");
  expect_bad_filter(h::catalog_service_nodes, "/v1/catalog/service/web");
  expect_bad_filter(h::catalog_node_services, "/v1/catalog/node/n1");
  expect_bad_filter(h::catalog_node_service_list, "/v1/catalog/node-services/n1");
  expect_bad_filter(h::health_node_checks, "/v1/health/node/n1");
  expect_bad_filter(h::health_service_checks, "/v1/health/checks/web");
  expect_bad_filter(h::health_checks_in_state, "/v1/health/state/any");
  expect_bad_filter(h::health_service_nodes, "/v1/health/service/web");
}

}  // namespace
}  // namespace pc::http
