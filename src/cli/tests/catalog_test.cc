// catalog datacenters / nodes / services: requests sent, Consul's output layout, errors.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "cli/tests/harness.h"

namespace pc::cli {
namespace {

using testing::Harness;

constexpr const char* kDown = "Error querying agent at http://127.0.0.1:8500: connection refused";

TEST(CatalogDatacenters, PrintsOnePerLine) {
  Harness h;
  h.reply(200, R"(["dc1","us-east-1"])");
  EXPECT_EQ(h.run({"catalog", "datacenters"}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(), "dc1\nus-east-1\n");
  EXPECT_EQ(h.err.str(), "");
  ASSERT_EQ(h.requests.size(), 1u);
  EXPECT_EQ(h.requests[0].method, "GET");
  EXPECT_EQ(h.requests[0].path, "/v1/catalog/datacenters");
}

TEST(CatalogDatacenters, Errors) {
  Harness args;
  EXPECT_EQ(args.run({"catalog", "datacenters", "x"}), 1);
  EXPECT_EQ(args.err.str(), "Too many arguments (expected 0, got 1)\n");
  EXPECT_TRUE(args.requests.empty());

  Harness status;
  status.reply(500, "No path to datacenter\n");
  EXPECT_EQ(status.run({"catalog", "datacenters", "-datacenter=dc9"}), 1);
  EXPECT_EQ(status.err.str(),
            "Error listing datacenters: Unexpected response code: 500 (No path to datacenter)\n");
  EXPECT_EQ(status.requests[0].path, "/v1/catalog/datacenters?dc=dc9");

  Harness down;
  down.fail(kDown);
  EXPECT_EQ(down.run({"catalog", "datacenters"}), 1);
  EXPECT_EQ(down.err.str(), std::string(kDown) + "\n");

  Harness garbage;
  garbage.reply(200, "{}");
  EXPECT_EQ(garbage.run({"catalog", "datacenters"}), 1);
  EXPECT_EQ(garbage.err.str(),
            "Error listing datacenters: Error decoding agent response: expected a JSON array\n");
}

// Two nodes as /v1/catalog/nodes answers: one full, one with no ID, addresses or meta.
constexpr const char* kNodes = R"([
  {"ID":"e2b0a5f4-1bca-4f02-9a3c-1b1d8f0c2a11","Node":"node-a","Address":"127.0.0.1",
   "Datacenter":"dc1","TaggedAddresses":{"wan":"10.0.0.1","lan":"127.0.0.1"},
   "Meta":{"rack":"r1","consul-network-segment":""},"CreateIndex":5,"ModifyIndex":6},
  {"ID":"","Node":"b","Address":"10.0.0.22","Datacenter":"dc1","TaggedAddresses":null,
   "Meta":null,"CreateIndex":7,"ModifyIndex":7}])";

TEST(CatalogNodes, ColumnsAsConsulPrintsThem) {
  Harness h;
  h.reply(200, kNodes);
  EXPECT_EQ(h.run({"catalog", "nodes"}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(),
            "Node    ID        Address    DC\n"
            "node-a  e2b0a5f4  127.0.0.1  dc1\n"
            "b                 10.0.0.22  dc1\n");
  ASSERT_EQ(h.requests.size(), 1u);
  EXPECT_EQ(h.requests[0].method, "GET");
  EXPECT_EQ(h.requests[0].path, "/v1/catalog/nodes");
}

TEST(CatalogNodes, DetailedShowsFullIdTaggedAddressesAndMeta) {
  Harness h;
  h.reply(200, kNodes);
  EXPECT_EQ(h.run({"catalog", "nodes", "-detailed"}), 0) << h.err.str();
  // Empty cells are padded like any other; only a row's last cell is not.
  EXPECT_EQ(h.out.str(),
            "Node    ID" + std::string(36, ' ') + "Address    DC   TaggedAddresses" +
                std::string(14, ' ') + "Meta\n" +
                "node-a  e2b0a5f4-1bca-4f02-9a3c-1b1d8f0c2a11  127.0.0.1  dc1  lan=127.0.0.1, "
                "wan=10.0.0.1  consul-network-segment=, rack=r1\n" +
                "b" + std::string(45, ' ') + "10.0.0.22  dc1" + std::string(31, ' ') + "\n");
}

TEST(CatalogNodes, ServiceNodeMetaAndFilterGoInTheRequest) {
  Harness h;
  h.reply(200, R"([{"ID":"aaaa-1","Node":"web-1","Address":"10.0.0.3","Datacenter":"dc1",
                    "TaggedAddresses":{},"NodeMeta":{"rack":"r2"},"ServiceName":"web"}])");
  EXPECT_EQ(h.run({"catalog", "nodes", "-service=web api", "-node-meta", "rack=r2",
                   "-node-meta=az=a", "-filter", "Node != \"x\"", "-detailed"}),
            0)
      << h.err.str();
  ASSERT_EQ(h.requests.size(), 1u);
  EXPECT_EQ(h.requests[0].path,
            "/v1/catalog/service/web%20api?filter=Node%20%21%3D%20%22x%22&node-meta=az%3Aa&"
            "node-meta=rack%3Ar2");
  // A service's NodeMeta is the node's Meta.
  EXPECT_EQ(h.out.str(),
            "Node   ID      Address   DC   TaggedAddresses  Meta\n"
            "web-1  aaaa-1  10.0.0.3  dc1                   rack=r2\n");
}

TEST(CatalogNodes, FilterFromAFileOrStdin) {
  std::string dir = (std::filesystem::temp_directory_path() / "pc-cli-test-XXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  std::ofstream(dir + "/f.txt") << "Meta.rack == r1";
  Harness file;
  file.reply(200, kNodes);
  EXPECT_EQ(file.run({"catalog", "nodes", "-filter=@" + dir + "/f.txt"}), 0) << file.err.str();
  EXPECT_EQ(file.requests[0].path, "/v1/catalog/nodes?filter=Meta.rack%20%3D%3D%20r1");

  Harness stdin_filter;
  stdin_filter.in.str("Node == b");
  stdin_filter.reply(200, kNodes);
  EXPECT_EQ(stdin_filter.run({"catalog", "nodes", "-filter=-"}), 0);
  EXPECT_EQ(stdin_filter.requests[0].path, "/v1/catalog/nodes?filter=Node%20%3D%3D%20b");

  Harness missing;
  EXPECT_EQ(missing.run({"catalog", "nodes", "-filter=@" + dir + "/nope"}), 1);
  EXPECT_EQ(missing.err.str(), "Could not process filter argument: Failed to read file: open " +
                                   dir + "/nope: no such file or directory\n");
  EXPECT_TRUE(missing.requests.empty());
  std::filesystem::remove_all(dir);
}

TEST(CatalogNodes, NearIsPassedToTheAgent) {
  Harness h;
  h.reply(200, kNodes);
  EXPECT_EQ(h.run({"catalog", "nodes", "-near=_agent"}), 0) << h.err.str();
  EXPECT_EQ(h.requests[0].path, "/v1/catalog/nodes?near=_agent");
}

TEST(CatalogNodes, NoMatchIsNotAnError) {
  Harness h;
  h.reply(200, "[]");
  EXPECT_EQ(h.run({"catalog", "nodes", "-node-meta=rack=none"}), 0);
  EXPECT_EQ(h.out.str(), "");
  EXPECT_EQ(h.err.str(), "No nodes match the given query - try expanding your search.\n");
  EXPECT_EQ(h.requests[0].path, "/v1/catalog/nodes?node-meta=rack%3Anone");
}

TEST(CatalogNodes, Errors) {
  Harness meta;
  EXPECT_EQ(meta.run({"catalog", "nodes", "-node-meta=rack"}), 1);
  EXPECT_EQ(meta.err.str().rfind("invalid value \"rack\" for flag -node-meta: Missing \"=\" value "
                                 "in argument: rack\n",
                                 0),
            0u)
      << meta.err.str();

  Harness status;
  status.reply(400, "Failed to parse filter: bad");
  EXPECT_EQ(status.run({"catalog", "nodes", "-filter=((("}), 1);
  EXPECT_EQ(status.err.str(),
            "Error listing nodes: Unexpected response code: 400 (Failed to parse filter: bad)\n");

  Harness service;
  service.reply(500, "boom");
  EXPECT_EQ(service.run({"catalog", "nodes", "-service=web"}), 1);
  EXPECT_EQ(service.err.str(),
            "Error listing nodes for service: Unexpected response code: 500 (boom)\n");

  Harness args;
  EXPECT_EQ(args.run({"catalog", "nodes", "extra"}), 1);
  EXPECT_EQ(args.err.str(), "Too many arguments (expected 0, got 1)\n");
}

TEST(CatalogServices, NamesSorted) {
  Harness h;
  h.reply(200, R"({"web":["v2","v1"],"consul":[],"db":null})");
  EXPECT_EQ(h.run({"catalog", "services"}), 0) << h.err.str();
  EXPECT_EQ(h.out.str(), "consul\ndb\nweb\n");
  EXPECT_EQ(h.requests[0].method, "GET");
  EXPECT_EQ(h.requests[0].path, "/v1/catalog/services");
}

TEST(CatalogServices, TagsAreATabwriterTable) {
  Harness h;
  h.reply(200, R"({"web":["v2","v1"],"consul":[],"redis-cache":["primary"]})");
  EXPECT_EQ(h.run({"catalog", "services", "-tags"}), 0) << h.err.str();
  // Names padded to the longest (11) plus 6; the table is trimmed at both ends only.
  EXPECT_EQ(h.out.str(),
            "consul           \n"
            "redis-cache      primary\n"
            "web              v1,v2\n");
  Harness last;
  last.reply(200, R"({"a":["x"],"zz":[]})");
  EXPECT_EQ(last.run({"catalog", "services", "-tags"}), 0);
  EXPECT_EQ(last.out.str(), "a       x\nzz\n");
}

TEST(CatalogServices, OfOneNode) {
  Harness h;
  h.reply(200, R"({"Node":{"Node":"n1","Address":"127.0.0.1"},"Services":{
      "web-1":{"ID":"web-1","Service":"web","Tags":["b"],"Port":80},
      "web-2":{"ID":"web-2","Service":"web","Tags":["a"],"Port":81},
      "db":{"ID":"db","Service":"db","Tags":null,"Port":5432}}})");
  EXPECT_EQ(h.run({"catalog", "services", "-node=n1", "-node-meta=k=v", "-tags"}), 0)
      << h.err.str();
  EXPECT_EQ(h.requests[0].path, "/v1/catalog/node/n1?node-meta=k%3Av");
  EXPECT_EQ(h.out.str(),
            "db       \n"
            "web      a,b\n");

  Harness unknown;  // Consul answers 200 null for a node it does not know
  unknown.reply(200, "null");
  EXPECT_EQ(unknown.run({"catalog", "services", "-node=nope"}), 0);
  EXPECT_EQ(unknown.out.str(), "");
  EXPECT_EQ(unknown.err.str(), "No services match the given query - try expanding your search.\n");
}

TEST(CatalogServices, Errors) {
  Harness h;
  h.reply(403, "Permission denied");
  EXPECT_EQ(h.run({"catalog", "services", "-token=t"}), 1);
  EXPECT_EQ(h.err.str(),
            "Error listing services: Unexpected response code: 403 (Permission denied)\n");
  EXPECT_EQ(*h.requests[0].header("X-Consul-Token"), "t");

  Harness node;
  node.reply(500, "boom");
  EXPECT_EQ(node.run({"catalog", "services", "-node=n1"}), 1);
  EXPECT_EQ(node.err.str(),
            "Error listing services for node: Unexpected response code: 500 (boom)\n");

  Harness bad;
  bad.reply(200, R"({"web":"not a list"})");
  EXPECT_EQ(bad.run({"catalog", "services"}), 1);
  EXPECT_EQ(bad.err.str(),
            "Error listing services: Error decoding agent response: expected arrays of tags\n");
}

TEST(Catalog, ParentListsItsSubcommands) {
  Harness h;
  EXPECT_EQ(h.run({"catalog"}), 1);
  EXPECT_NE(h.err.str().find("Subcommands:\n"
                             "    datacenters    Lists all known datacenters\n"
                             "    nodes          Lists all nodes in the given datacenter\n"
                             "    services       Lists all registered services in a datacenter\n"),
            std::string::npos)
      << h.err.str();
  Harness help;
  EXPECT_EQ(help.run({"catalog", "nodes", "-h"}), 0);
  EXPECT_EQ(help.err.str().rfind("Usage: proconsul catalog nodes [options]\n", 0), 0u);
  EXPECT_NE(help.err.str().find("  -node-meta=<key=value>\n"), std::string::npos);
  EXPECT_NE(help.err.str().find("  -service=<id or name>\n"), std::string::npos);
}

}  // namespace
}  // namespace pc::cli
