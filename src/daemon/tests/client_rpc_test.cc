#include "daemon/client_rpc.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "proto/commands.pb.h"

namespace pc::daemon {
namespace {

http::Request sample_request() {
  http::Request r;
  r.method = "PUT";
  r.path = "/v1/kv/a b";
  r.raw_query = "cas=3&flags=%20x";
  r.query = {{"cas", "3"}, {"flags", " x"}};
  r.headers = {{"x-consul-token", "t"}, {"content-type", "application/json"}};
  r.body = std::string("v\0w", 3);
  r.remote_addr = "127.0.0.1:5000";
  return r;
}

agent::NodeRows sample_rows() {
  agent::NodeRows rows;
  state::Node n;
  n.id = "id-1";
  n.node = "client-0";
  n.address = "10.0.0.9";
  n.datacenter = "dc1";
  n.tagged_addresses = {{"lan", "10.0.0.9"}};
  n.meta = {{"zone", "a"}};
  n.create_index = 3;
  n.modify_index = 5;
  rows.node = n;
  state::Service s;
  s.node = "client-0";
  s.id = "web-1";
  s.service = "web";
  s.tags = {"v1", "blue"};
  s.port = 8080;
  s.meta = {{"k", "v"}};
  s.create_index = 6;
  s.modify_index = 7;
  rows.services.push_back(s);
  state::HealthCheck c;
  c.node = "client-0";
  c.check_id = "web-ttl";
  c.name = "ttl";
  c.status = "passing";
  c.service_id = "web-1";
  c.service_name = "web";
  c.service_tags = {"v1"};
  c.type = "ttl";
  c.create_index = 8;
  c.modify_index = 9;
  rows.checks.push_back(c);
  return rows;
}

TEST(ClientRpc, HttpRequestRoundTrips) {
  http::Request r = sample_request();
  auto back = decode_http_request(encode_http_request(r));
  ASSERT_TRUE(back.has_value()) << back.error().message;
  EXPECT_EQ(back->method, r.method);
  EXPECT_EQ(back->path, r.path);
  EXPECT_EQ(back->raw_query, r.raw_query);
  EXPECT_EQ(back->query, r.query);
  EXPECT_EQ(back->headers, r.headers);
  EXPECT_EQ(back->body, r.body);
  EXPECT_EQ(back->remote_addr, r.remote_addr);
}

TEST(ClientRpc, HttpRequestWithoutMethodOrAbsolutePathIsRefused) {
  http::Request r = sample_request();
  r.path = "v1/kv";
  EXPECT_FALSE(decode_http_request(encode_http_request(r)).has_value());
  r = sample_request();
  r.method.clear();
  EXPECT_FALSE(decode_http_request(encode_http_request(r)).has_value());
  EXPECT_FALSE(decode_http_request("\xff\xff\xff").has_value());
}

TEST(ClientRpc, HttpResponseRoundTripsAndBadStatusIsRefused) {
  http::Response r = http::Response::text(404, "");
  r.headers = {{"X-Consul-Index", "7"}};
  auto back = decode_http_response(encode_http_response(r));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->status, 404);
  EXPECT_EQ(back->content_type, r.content_type);
  EXPECT_EQ(back->headers, r.headers);
  r.status = 42;
  EXPECT_FALSE(decode_http_response(encode_http_response(r)).has_value());
}

// What a forwarded request may take and whether it may run twice (client agents and ?dc=).
TEST(ClientRpc, ForwardedTimeoutsAndIdempotence) {
  http::Request get;
  get.method = "GET";
  get.path = "/v1/kv/a";
  EXPECT_EQ(forwarded_http_timeout(get), std::chrono::seconds(30));
  EXPECT_TRUE(is_idempotent(get));
  http::Request blocking = get;
  blocking.query = {{"index", "7"}, {"wait", "10m"}};
  // Consul's longest wait (10 min) and its jitter (1/16) fit.
  EXPECT_GE(forwarded_http_timeout(blocking), std::chrono::minutes(10) + std::chrono::seconds(38));
  http::Request put = get;
  put.method = "PUT";
  EXPECT_FALSE(is_idempotent(put));
  put.method = "HEAD";
  EXPECT_TRUE(is_idempotent(put));
  put.method = "DELETE";
  EXPECT_FALSE(is_idempotent(put));
}

TEST(ClientRpc, NodeRowsRoundTripWithIndexes) {
  agent::NodeRows rows = sample_rows();
  auto back = decode_node_rows(encode_node_rows(rows));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->node, rows.node);
  EXPECT_EQ(back->services, rows.services);
  EXPECT_EQ(back->checks, rows.checks);
  // No node row: found is false, not an empty node.
  agent::NodeRows none;
  back = decode_node_rows(encode_node_rows(none));
  ASSERT_TRUE(back.has_value());
  EXPECT_FALSE(back->node.has_value());
  EXPECT_EQ(*decode_node_rows_request(encode_node_rows_request("client-0")), "client-0");
  EXPECT_FALSE(decode_node_rows_request("").has_value());
}

TEST(ClientRpc, ClientCommandsMustParseAndCarryTheServersTime) {
  proto::Command cmd;
  cmd.set_proposed_unix_ns(1);
  cmd.mutable_catalog_deregister()->set_node("client-0");
  auto checked = check_client_command(cmd.SerializeAsString(), 99);
  ASSERT_TRUE(checked.has_value());
  proto::Command back;
  ASSERT_TRUE(back.ParseFromString(*checked));
  EXPECT_EQ(back.proposed_unix_ns(), 99);
  EXPECT_EQ(back.catalog_deregister().node(), "client-0");
  proto::Command empty;
  EXPECT_FALSE(check_client_command(empty.SerializeAsString(), 99).has_value());
  EXPECT_FALSE(check_client_command("\x0a\xff", 99).has_value());
}

TEST(ClientRpc, DnsQueriesCarryTheirTransport) {
  std::vector<std::uint8_t> query(12, 0);
  query[0] = 0x12;
  auto back = decode_dns_query(encode_dns_query(query, true));
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(back->tcp);
  EXPECT_EQ(back->bytes, query);
  EXPECT_FALSE(decode_dns_query(encode_dns_query(query, false))->tcp);
  EXPECT_FALSE(decode_dns_query(std::string(5, '\0')).has_value());            // no header
  EXPECT_FALSE(decode_dns_query("\x07" + std::string(12, '\0')).has_value());  // transport
}

// CLIENT_RPC_WRITE_CORPUS=<dir> writes the fuzz target's seeds (first byte: the decoder).
TEST(ClientRpc, WriteFuzzCorpus) {
  const char* dir = std::getenv("CLIENT_RPC_WRITE_CORPUS");
  if (dir == nullptr) GTEST_SKIP() << "set CLIENT_RPC_WRITE_CORPUS=<dir> to write the corpus";
  auto write = [dir](const std::string& name, char kind, const std::string& bytes) {
    std::ofstream(std::string(dir) + "/" + name, std::ios::binary) << kind << bytes;
  };
  write("http_request", 0, encode_http_request(sample_request()));
  write("http_response", 1, encode_http_response(http::Response::json("[1]")));
  write("node_rows", 2, encode_node_rows(sample_rows()));
  write("node_rows_request", 3, encode_node_rows_request("client-0"));
  proto::Command cmd;
  cmd.mutable_catalog_deregister()->set_node("n");
  write("dns_query", 4, encode_dns_query(std::vector<std::uint8_t>(12, 0), false));
  write("command", 5, cmd.SerializeAsString());
}

}  // namespace
}  // namespace pc::daemon
