#include "daemon/client_rpc.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>

#include "daemon/dns_options.h"
#include "proto/client.pb.h"
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
  // A server gives each remote server a share of a plain request's bound, so a silent one
  // leaves time for others; a blocking query parks on one for its whole wait.
  EXPECT_GT(forwarded_http_attempt_timeout(get), std::chrono::seconds(7));  // the leader hold
  EXPECT_LT(forwarded_http_attempt_timeout(get), forwarded_http_timeout(get));
  EXPECT_EQ(forwarded_http_attempt_timeout(blocking), std::chrono::milliseconds(0));
  // A client agent outwaits its server, so the server's own error is what comes back.
  for (const http::Request* r : {&get, &blocking}) {
    EXPECT_GE(client_forward_timeout(*r), forwarded_http_timeout(*r) + std::chrono::seconds(2));
  }
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
  EXPECT_FALSE(decode_dns_query("\x08" + std::string(12, '\0')).has_value());  // transport
  EXPECT_TRUE(dns_options_refused(decode_dns_query("\x09" + std::string(12, '\0')).error()));
}

TEST(ClientRpc, DnsQueriesCarryTheAgentsToken) {
  std::vector<std::uint8_t> query(12, 0);
  query[0] = 0x34;
  auto back = decode_dns_query(encode_dns_query(query, true, "secret-1"));
  ASSERT_TRUE(back.has_value());
  EXPECT_TRUE(back->tcp);
  EXPECT_EQ(back->token, "secret-1");
  EXPECT_EQ(back->bytes, query);
  // Without a token the bytes are the older format exactly, and decode to no token.
  const std::string plain = encode_dns_query(query, false);
  EXPECT_EQ(plain, std::string(1, '\0') + std::string(query.begin(), query.end()));
  EXPECT_EQ(decode_dns_query(plain)->token, "");
  // A token longer than what follows, an empty one, or an over-long one is refused.
  EXPECT_FALSE(decode_dns_query(std::string("\x02\x00\x40", 3) + "abc").has_value());
  EXPECT_FALSE(
      decode_dns_query(std::string("\x02\x00\x00", 3) + std::string(12, '\0')).has_value());
  const std::string big(kDnsQueryTokenMax + 1, 't');
  EXPECT_FALSE(decode_dns_query(encode_dns_query(query, false, big)).has_value());
  // The token is there but the query after it is shorter than a DNS header.
  EXPECT_FALSE(decode_dns_query(encode_dns_query({1, 2, 3}, false, "s")).has_value());
}

dns::ResolverConfig sample_options() {
  dns::ResolverConfig o;
  o.domain = "example.";
  o.alt_domain = "alt.example.";
  o.service_ttl = 4;
  o.service_ttls = {{"*", 7}, {"db*", 60}, {"web", 0}};
  o.node_ttl = 3;
  o.soa_min_ttl = 1;
  o.soa_refresh = 2;
  o.soa_retry = 5;
  o.soa_expire = 6;
  o.only_passing = true;
  o.a_record_limit = 9;
  o.udp_answer_limit = 0;
  o.enable_truncate = true;
  o.node_meta_txt = false;
  o.recursion_available = true;
  o.allow_stale = false;
  o.max_stale_ms = 1234;
  return o;
}

TEST(ClientRpc, DnsQueriesCarryTheAgentsResolverOptions) {
  std::vector<std::uint8_t> query(12, 0);
  query[0] = 0x56;
  const dns::ResolverConfig options = sample_options();
  for (const std::string token : {"", "secret-1"}) {
    auto back = decode_dns_query(encode_dns_query(query, true, token, &options));
    ASSERT_TRUE(back.has_value()) << back.error().message;
    EXPECT_TRUE(back->tcp);
    EXPECT_EQ(back->token, token);
    EXPECT_EQ(back->bytes, query);
    ASSERT_TRUE(back->options.has_value());
    EXPECT_EQ(*back->options, options);
  }
  // Defaults round-trip too (zero values and all).
  const dns::ResolverConfig defaults;
  EXPECT_EQ(decode_dns_query(encode_dns_query(query, false, "", &defaults))->options, defaults);
  // Without options the request is the older format and decodes to none.
  auto plain = decode_dns_query(encode_dns_query(query, false, "s"));
  ASSERT_TRUE(plain.has_value());
  EXPECT_FALSE(plain->options.has_value());
}

TEST(ClientRpc, DnsOptionsRefuseWhatNoAgentSends) {
  std::vector<std::uint8_t> query(12, 0);
  auto with = [&](const dns::ResolverConfig& o) {
    return decode_dns_query(encode_dns_query(query, false, "", &o)).has_value();
  };
  dns::ResolverConfig o = sample_options();
  EXPECT_TRUE(with(o));
  for (const char* bad : {"", ".", "a..b."}) {
    o = sample_options();
    o.domain = bad;
    EXPECT_FALSE(with(o)) << bad;
  }
  o = sample_options();
  o.domain = std::string(64, 'x') + ".";  // a label over 63 bytes
  EXPECT_FALSE(with(o));
  o = sample_options();
  o.alt_domain = ".";
  EXPECT_FALSE(with(o));
  o = sample_options();
  o.service_ttls[std::string(kDnsOptionsServiceNameMax + 1, 's')] = 1;
  EXPECT_FALSE(dns_options_fit(o));
  EXPECT_FALSE(with(o));
  o = sample_options();
  for (std::size_t i = 0; i < kDnsOptionsServiceTtlsMax; ++i) o.service_ttls[std::to_string(i)] = 1;
  EXPECT_FALSE(dns_options_fit(o));
  EXPECT_FALSE(with(o));
  // A name twice, which the map cannot hold: written by hand.
  proto::client::DnsOptions m;
  m.set_domain("consul.");
  for (int i = 0; i < 2; ++i) {
    auto* e = m.add_service_ttls();
    e->set_name("web");
    e->set_ttl_s(5);
  }
  EXPECT_FALSE(decode_dns_options(m.SerializeAsString()).has_value());
  m.mutable_service_ttls()->RemoveLast();
  EXPECT_TRUE(decode_dns_options(m.SerializeAsString()).has_value());
  EXPECT_FALSE(decode_dns_options("\xff\xff").has_value());  // does not parse
  // The options' length: 0, over the limit, or past the end.
  const std::string q12(12, '\0');
  EXPECT_FALSE(decode_dns_query(std::string("\x04\x00\x00\x00\x00", 5) + q12).has_value());
  EXPECT_FALSE(decode_dns_query(std::string("\x04\x7f\x00\x00\x00", 5) + q12).has_value());
  EXPECT_FALSE(decode_dns_query(std::string("\x04\x00\x00\x01\x00", 5) + q12).has_value());
  EXPECT_FALSE(decode_dns_query(std::string("\x04\x00\x00", 3)).has_value());
}

acl::TokenGrantsText sample_grants() {
  acl::TokenGrantsText g;
  g.accessor_id = "acc-1";
  g.description = "web's token";
  g.policies.push_back({"pol-1", 7, R"(service "web" { policy = "write" })"});
  g.service_identities.push_back({"api", {"dc1", "dc2"}});
  g.node_identities.push_back({"client-0", "dc1"});
  g.expiration_time_unix_ns = 1'800'000'000'000'000'000;
  return g;
}

TEST(ClientRpc, AclResolveRoundTripsAndNotFoundIsAnAnswer) {
  EXPECT_EQ(*decode_acl_resolve_request(encode_acl_resolve_request("s3cr3t")), "s3cr3t");
  EXPECT_FALSE(decode_acl_resolve_request("").has_value());
  auto back = decode_acl_resolve_reply(encode_acl_resolve_reply(sample_grants()));
  ASSERT_TRUE(back.has_value());
  ASSERT_TRUE(back->has_value());
  EXPECT_EQ(**back, sample_grants());
  acl::TokenGrantsText forever = sample_grants();
  forever.expiration_time_unix_ns.reset();
  EXPECT_EQ(**decode_acl_resolve_reply(encode_acl_resolve_reply(forever)), forever);
  auto none = decode_acl_resolve_reply(encode_acl_resolve_reply(std::nullopt));
  ASSERT_TRUE(none.has_value());
  EXPECT_FALSE(none->has_value());
  acl::TokenGrantsText nameless = sample_grants();
  nameless.accessor_id.clear();
  EXPECT_FALSE(decode_acl_resolve_reply(encode_acl_resolve_reply(nameless)).has_value());
  EXPECT_FALSE(decode_acl_resolve_reply("\x0a\xff").has_value());
}

TEST(ClientRpc, ClientApplyCarriesTheTokenAndABareCommandIsAnonymous) {
  proto::Command cmd;
  cmd.set_proposed_unix_ns(5);
  cmd.mutable_catalog_deregister()->set_node("client-0");
  auto w = decode_client_apply(encode_client_apply(cmd.SerializeAsString(), "agent-secret"));
  ASSERT_TRUE(w.has_value());
  EXPECT_EQ(w->token, "agent-secret");
  EXPECT_EQ(w->command, cmd.SerializeAsString());
  // What agents sent before writes carried a token: the command alone.
  auto bare = decode_client_apply(cmd.SerializeAsString());
  ASSERT_TRUE(bare.has_value());
  EXPECT_EQ(bare->token, "");
  EXPECT_EQ(bare->command, cmd.SerializeAsString());
  proto::Command parsed;
  EXPECT_TRUE(parse_client_command(bare->command, parsed).has_value());
  EXPECT_EQ(parsed.catalog_deregister().node(), "client-0");
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
  write("dns_query_token", 4,
        encode_dns_query(std::vector<std::uint8_t>(12, 0), true,
                         "8f246b77-f3e1-ff88-5b48-8ec93abf3e05"));
  const dns::ResolverConfig options = sample_options();
  write("dns_query_options", 4,
        encode_dns_query(std::vector<std::uint8_t>(12, 0), false, "", &options));
  write("dns_query_token_options", 4,
        encode_dns_query(std::vector<std::uint8_t>(12, 0), true,
                         "8f246b77-f3e1-ff88-5b48-8ec93abf3e05", &options));
  write("command", 5, cmd.SerializeAsString());
  write("acl_resolve_reply", 6, encode_acl_resolve_reply(sample_grants()));
  write("acl_resolve_not_found", 6, encode_acl_resolve_reply(std::nullopt));
  write("client_apply", 7, encode_client_apply(cmd.SerializeAsString(), "secret"));
  write("acl_resolve_request", 8, encode_acl_resolve_request("secret"));
}

}  // namespace
}  // namespace pc::daemon
