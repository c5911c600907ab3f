// Prepared queries (endpoints/query.h, query_template.h, query_rpc.h): validation texts,
// template compile and render, resolution, execution filters, the failover order and the
// failover walk through a fake federation, method 22's encoding.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <future>
#include <map>

#include "consensus/runtime/single_node_log.h"
#include "core/clock.h"
#include "endpoints/coordinate.h"
#include "endpoints/query.h"
#include "endpoints/query_rpc.h"
#include "endpoints/query_template.h"
#include "endpoints/tests/test_fsm.h"
#include "proto/commands.pb.h"
#include "state/tests/store_test_util.h"

namespace pc::endpoints {
namespace {

state::PreparedQuery named(std::string name, std::string service) {
  state::PreparedQuery q;
  q.name = std::move(name);
  q.service.service = std::move(service);
  return q;
}

std::string error_of(const core::Status& st) {
  return st ? "" : st.error().message;
}

TEST(QueryValidate, ConsulTexts) {
  EXPECT_EQ(error_of(validate_prepared_query(named("", "web"))), "Must be bound to a session");
  EXPECT_EQ(error_of(validate_prepared_query(named("q", ""))),
            "Must provide a Service name to query");
  auto q = named("q", "web");
  q.service.failover.nearest_n = -1;
  EXPECT_EQ(error_of(validate_prepared_query(q)), "Bad NearestN '-1', must be >= 0");
  q = named("q", "web");
  q.token = "<hidden>";
  EXPECT_EQ(error_of(validate_prepared_query(q)),
            "Bad Token '<hidden>', it looks like a query definition with a redacted token was "
            "submitted");
  q = named("q", "web");
  q.dns_ttl = "soon";
  EXPECT_EQ(error_of(validate_prepared_query(q)),
            "Bad DNS TTL 'soon': time: invalid duration \"soon\"");
  q.dns_ttl = "-5s";
  EXPECT_EQ(error_of(validate_prepared_query(q)), "DNS TTL '-5000000000', must be >=0");
  q.dns_ttl = "10s";
  q.service.node_meta["bad key"] = "x";
  EXPECT_EQ(error_of(validate_prepared_query(q)), "Key contains invalid characters: bad key");
  q.service.node_meta.clear();
  EXPECT_EQ(error_of(validate_prepared_query(q)), "");
}

state::PreparedQuery geo_template() {
  auto q = named("geo-", "${match(1)}");
  q.tmpl.type = state::kQueryTemplateNamePrefixMatch;
  q.tmpl.regexp = "^geo-([^-]+)-?(.*)$";
  q.service.tags = {"${match(2)}", "${name.full}", "${name.prefix}", "${name.suffix}"};
  q.service.node_meta["az"] = "${match(2)}";
  return q;
}

TEST(QueryTemplate, RendersNamesAndGroups) {
  auto q = geo_template();
  ASSERT_EQ(error_of(compile_query_template(q)), "");
  auto r = render_query_template(q, "geo-db-west");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->service.service, "db");
  EXPECT_EQ(r->service.tags, (std::vector<std::string>{"west", "geo-db-west", "geo-", "db-west"}));
  EXPECT_EQ(r->service.node_meta.at("az"), "west");
  // No match: groups render empty; RemoveEmptyTags drops the empty tag.
  q.tmpl.remove_empty_tags = true;
  r = render_query_template(q, "geo-db");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->service.tags, (std::vector<std::string>{"geo-db", "geo-", "db"}));
  auto literal = named("x", "$${not} ${name.full}");
  literal.tmpl.type = state::kQueryTemplateNamePrefixMatch;
  EXPECT_EQ(render_query_template(literal, "xy")->service.service, "${not} xy");
}

TEST(QueryTemplate, CompileRefusesWithConsulTexts) {
  auto q = geo_template();
  q.tmpl.type = "prefix";
  EXPECT_EQ(error_of(compile_query_template(q)), "Bad Template.Type 'prefix'");
  q = geo_template();
  q.service.tags = {"${name.full"};
  EXPECT_EQ(
      error_of(compile_query_template(q)).rfind("Bad format '${name.full' in Service.Tags[0]: ", 0),
      0u);
  q = geo_template();
  q.tmpl.regexp = "([";
  EXPECT_EQ(error_of(compile_query_template(q)).rfind("Bad Regexp: ", 0), 0u);
  q = geo_template();
  q.service.service = "${nope}";
  EXPECT_EQ(error_of(compile_query_template(q)),
            "Bad evaluation for '${nope}' in Service.Service: unknown variable accessed: nope");
}

TEST(QueryFailoverOrder, NearestThenListedKnownOnes) {
  state::QueryFailover f;
  f.nearest_n = 2;
  f.datacenters = {"dc9", "dc2", "dc5", "dc4"};
  EXPECT_EQ(query_failover_order(f, {"dc2", "dc3", "dc4", "dc5"}),
            (std::vector<std::string>{"dc2", "dc3", "dc5", "dc4"}));
  f.nearest_n = 0;
  EXPECT_EQ(query_failover_order(f, {"dc3", "dc2"}), (std::vector<std::string>{"dc2"}));
  f.nearest_n = 5;
  f.datacenters.clear();
  EXPECT_EQ(query_failover_order(f, {"dc3"}), (std::vector<std::string>{"dc3"}));
}

TEST(QueryRpc, RoundTripAndBadBytes) {
  auto q = geo_template();
  q.id = "11111111-1111-1111-1111-111111111111";
  auto req = decode_query_request(encode_query_request(q, 3, "secret"));
  ASSERT_TRUE(req);
  EXPECT_EQ(req->query, q);
  EXPECT_EQ(req->limit, 3);
  EXPECT_EQ(req->secret, "secret");
  QueryResult r;
  r.service = "web";
  r.datacenter = "dc2";
  r.dns_ttl = "5s";
  CheckServiceNode csn;
  csn.node.node = "n1";
  csn.node.address = "10.0.0.1";
  csn.service.node = "n1";
  csn.service.id = "web1";
  csn.service.service = "web";
  csn.service.port = 80;
  state::HealthCheck c;
  c.node = "n1";
  c.check_id = "serfHealth";
  c.status = "passing";
  csn.checks.push_back(c);
  r.nodes.push_back(csn);
  r.filtered = true;
  auto back = decode_query_reply(encode_query_reply(r));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_TRUE(back->filtered);
  ASSERT_EQ(back->nodes.size(), 1u);
  EXPECT_EQ(back->nodes[0].node.address, "10.0.0.1");
  EXPECT_EQ(back->nodes[0].service.port, 80);
  EXPECT_EQ(back->nodes[0].checks.at(0).check_id, "serfHealth");
  EXPECT_EQ(back->datacenter, "dc2");
  EXPECT_FALSE(decode_query_request("\xff\xff\xff"));
  EXPECT_FALSE(decode_query_reply("\x0a\x05"));
  EXPECT_FALSE(decode_query_request(""));  // no service
  // Seeds for the fuzz target, written on request.
  if (const char* dir = std::getenv("PC_WRITE_QUERY_RPC_CORPUS")) {
    std::ofstream(std::string(dir) + "/request") << encode_query_request(q, 3, "secret");
    std::ofstream(std::string(dir) + "/reply") << encode_query_reply(r);
  }
}

// Over a real store and the -dev log, with a fake federation standing in for the WAN.
class QueryEndpointsTest : public ::testing::Test {
 protected:
  QueryEndpointsTest()
      : fsm_(store_), log_(fsm_, "127.0.0.1:8300"), ctx_{store_, log_, clock_, rand_, {}} {
    ctx_.identity.datacenter = "dc1";
    ctx_.identity.node_name = "agent-node";
    ctx_.query_federation = &federation_;
    federation_.known_datacenters = [this] { return known_; };
    federation_.call = [this](const std::string& dc, std::string payload, Done<std::string> done) {
      calls_.push_back(dc);
      auto it = remote_.find(dc);
      if (it == remote_.end())
        return done(core::make_error(core::Code::kUnavailable, "No path to datacenter"));
      done(query_execute_remote(*it->second, payload));
    };
    log_.start();
  }
  ~QueryEndpointsTest() override { log_.stop(); }

  void apply(proto::Command c) {
    std::promise<core::Result<state::ApplyResult>> p;
    submit(ctx_, std::move(c),
           [&](core::Result<state::ApplyResult> r) { p.set_value(std::move(r)); });
    auto r = p.get_future().get();
    ASSERT_TRUE(r.has_value()) << r.error().message;
  }
  // An instance of `service` on `node`, with one service check in `status`.
  void instance(const std::string& node, const std::string& id, const std::string& service,
                std::vector<std::string> tags, const std::string& status,
                const std::string& addr = "10.0.0.1") {
    proto::Command c = state::testing::catalog_register(node);
    c.mutable_catalog_register()->set_address(addr);
    state::testing::with_service(c, id, service, tags, 80);
    state::testing::with_check(c, id + "-check", status, id);
    apply(c);
  }
  template <class T, class Fn>
  core::Result<T> call(Fn fn) {
    std::promise<core::Result<T>> p;
    fn([&](core::Result<T> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  core::Result<std::string> create(state::PreparedQuery q) {
    return call<std::string>([&](auto done) { query_create(ctx_, all_, std::move(q), done); });
  }
  core::Result<QueryResult> execute(const std::string& name, QueryExecuteOptions o = {}) {
    return call<QueryResult>([&](auto done) { query_execute(ctx_, name, o, done); });
  }
  static std::vector<std::string> ids(const QueryResult& r) {
    std::vector<std::string> out;
    for (const auto& n : r.nodes) out.push_back(n.service.id);
    std::sort(out.begin(), out.end());
    return out;
  }

  // Another datacenter's servers for the fake federation: a store of their own behind a
  // -dev log, with one healthy instance of "web"; answers while it lives.
  struct RemoteDc {
    RemoteDc(QueryEndpointsTest& t, const std::string& dc, const std::string& node,
             const std::string& service_id)
        : test(t), fsm(store), log(fsm, "127.0.0.2:8300"), ctx{store, log, t.clock_, t.rand_, {}} {
      ctx.identity.datacenter = dc;
      log.start();
      proto::Command c = state::testing::catalog_register(node);
      state::testing::with_service(c, service_id, "web", {}, 80);
      std::promise<void> p;
      submit(ctx, c, [&](auto) { p.set_value(); });
      p.get_future().get();
      test.remote_[dc] = &ctx;
      name = dc;
    }
    ~RemoteDc() {
      test.remote_.erase(name);
      log.stop();
    }
    QueryEndpointsTest& test;
    std::string name;
    state::Store store;
    testing::StoreFsm fsm;
    consensus::SingleNodeLog log;
    Context ctx;
  };

  core::SystemClock clock_;
  core::SystemRand rand_{7};
  state::Store store_;
  testing::StoreFsm fsm_;
  consensus::SingleNodeLog log_;
  Context ctx_;
  QueryFederation federation_;
  ResolvedToken all_{"", acl::allow_all()};
  std::vector<std::string> known_;
  std::map<std::string, Context*> remote_;
  std::vector<std::string> calls_;
};

TEST_F(QueryEndpointsTest, CreateGetUpdateDelete) {
  auto id = create(named("web-q", "web"));
  ASSERT_TRUE(id) << id.error().message;
  state::WatchSet ws;
  auto got = query_get(ctx_, ws, all_, *id);
  ASSERT_TRUE(got);
  EXPECT_EQ(got->queries.at(0).name, "web-q");
  auto with_id = named("x", "web");
  with_id.id = *id;
  EXPECT_EQ(create(with_id).error().message, "ID must be empty when creating a new prepared query");
  EXPECT_EQ(create(named("", "web")).error().message,
            "Invalid prepared query: Must be bound to a session");
  EXPECT_EQ(create(named("WEB-Q", "web")).error().message,
            "name 'WEB-Q' aliases an existing query name");
  auto bad_template = named("t-", "x");
  bad_template.tmpl.type = "other";
  EXPECT_EQ(create(bad_template).error().message,
            "failed compiling template: Bad Template.Type 'other'");
  auto update = named("web-q2", "api");
  update.id = *id;
  ASSERT_TRUE(call<bool>([&](auto done) { query_update(ctx_, all_, update, done); }));
  EXPECT_EQ(query_get(ctx_, ws, all_, *id)->queries.at(0).service.service, "api");
  auto missing = update;
  missing.id = "99999999-9999-9999-9999-999999999999";
  EXPECT_EQ(call<bool>([&](auto done) { query_update(ctx_, all_, missing, done); }).error().message,
            "Cannot modify non-existent prepared query: '99999999-9999-9999-9999-999999999999'");
  ASSERT_TRUE(call<bool>([&](auto done) { query_delete(ctx_, all_, *id, done); }));
  EXPECT_EQ(query_get(ctx_, ws, all_, *id).error().message, "Query not found");
  EXPECT_EQ(execute("nope").error().code, core::Code::kNotFound);
}

// Writes need query:write on the prefix, reads drop what the token may not read; with ACLs
// off the stored token is shown as it is.
TEST_F(QueryEndpointsTest, AclChecksAndTokens) {
  auto q = named("secret-q", "web");
  q.token = "query-secret";
  auto id = create(q);
  ASSERT_TRUE(id);
  state::WatchSet ws;
  EXPECT_EQ(query_get(ctx_, ws, all_, *id)->queries.at(0).token, "query-secret");
  const ResolvedToken none{"anon", acl::deny_all()};
  EXPECT_EQ(call<std::string>([&](auto done) { query_create(ctx_, none, named("x", "web"), done); })
                .error()
                .code,
            core::Code::kPermissionDenied);
  auto listed = query_list(ctx_, ws, none);
  EXPECT_TRUE(listed.queries.empty());
  EXPECT_TRUE(listed.filtered);
  EXPECT_EQ(query_get(ctx_, ws, none, *id).error().code, core::Code::kPermissionDenied);
  EXPECT_EQ(query_explain(ctx_, none, "secret-q").error().code, core::Code::kPermissionDenied);
}

TEST_F(QueryEndpointsTest, ExecuteFilters) {
  instance("n1", "web1", "web", {"v1", "primary"}, "passing");
  instance("n2", "web2", "web", {"v1"}, "warning");
  instance("n3", "web3", "web", {"V1", "canary"}, "passing");
  instance("n4", "web4", "web", {"v1"}, "critical");
  auto q = named("web-q", "web");
  q.service.tags = {"v1", "!canary"};
  ASSERT_TRUE(create(q));
  auto r = execute("web-q");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(ids(*r), (std::vector<std::string>{"web1", "web2"}));
  EXPECT_EQ(r->datacenter, "dc1");
  EXPECT_EQ(r->failovers, 0);
  auto passing = named("passing-q", "web");
  passing.service.only_passing = true;
  ASSERT_TRUE(create(passing));
  EXPECT_EQ(ids(*execute("passing-q")), (std::vector<std::string>{"web1", "web3"}));
  auto ignore = named("ignore-q", "web");
  ignore.service.ignore_check_ids = {"web4-check"};
  ASSERT_TRUE(create(ignore));
  EXPECT_EQ(ids(*execute("ignore-q")), (std::vector<std::string>{"web1", "web2", "web3", "web4"}));
  QueryExecuteOptions limited;
  limited.limit = 1;
  EXPECT_EQ(execute("ignore-q", limited)->nodes.size(), 1u);
  // A template answers by name, rendered.
  auto t = named("tpl-", "${name.suffix}");
  t.tmpl.type = state::kQueryTemplateNamePrefixMatch;
  ASSERT_TRUE(create(t));
  EXPECT_EQ(ids(*execute("tpl-web")), (std::vector<std::string>{"web1", "web2", "web3"}));
  EXPECT_EQ(query_explain(ctx_, all_, "tpl-web")->service.service, "web");

  // NodeMeta and ServiceMeta: every pair must match; Near sorts by round trip from a node
  // (the query's Near, or the request's ?near=, "_agent" being this agent's node).
  auto db = [&](const std::string& node, const std::string& zone, const std::string& version) {
    proto::Command c = state::testing::catalog_register(node);
    auto* m = c.mutable_catalog_register()->add_node_meta();
    m->set_key("zone");
    m->set_value(zone);
    auto* sm = state::testing::with_service(c, "db-" + node, "db", {}, 5432)->add_meta();
    sm->set_key("version");
    sm->set_value(version);
    apply(c);
  };
  db("m1", "a", "2");
  db("m2", "b", "2");
  db("m3", "a", "1");
  db("m4", "a", "2");
  apply(state::testing::catalog_register("agent-node"));
  apply(state::testing::coordinate_update(
      {{"agent-node", 0.0}, {"m1", 0.3}, {"m2", 0.1}, {"m3", 0.2}, {"m4", 0.05}}));
  auto in_zone_a = named("db-a", "db");
  in_zone_a.service.node_meta = {{"zone", "a"}};
  ASSERT_TRUE(create(in_zone_a));
  EXPECT_EQ(ids(*execute("db-a")), (std::vector<std::string>{"db-m1", "db-m3", "db-m4"}));
  auto v2_in_a = named("db-v2-a", "db");
  v2_in_a.service.node_meta = {{"zone", "a"}};
  v2_in_a.service.service_meta = {{"version", "2"}};
  ASSERT_TRUE(create(v2_in_a));
  EXPECT_EQ(ids(*execute("db-v2-a")), (std::vector<std::string>{"db-m1", "db-m4"}));
  auto v2 = named("db-v2", "db");
  v2.service.service_meta = {{"version", "2"}};
  v2.service.near = "m1";
  ASSERT_TRUE(create(v2));
  auto in_order = [](const QueryResult& r) {
    std::vector<std::string> out;
    for (const auto& n : r.nodes) out.push_back(n.node.node);
    return out;
  };
  // The query's Near: from m1 (x 0.3), then m2 (0.2 away), then m4 (0.25 away).
  EXPECT_EQ(in_order(*execute("db-v2")), (std::vector<std::string>{"m1", "m2", "m4"}));
  // ?near=_agent overrides it: from this agent's node (x 0).
  QueryExecuteOptions near_agent;
  near_agent.near = "_agent";
  EXPECT_EQ(in_order(*execute("db-v2", near_agent)), (std::vector<std::string>{"m4", "m2", "m1"}));
  // ?near= another node.
  QueryExecuteOptions near_m2;
  near_m2.near = "m2";
  EXPECT_EQ(in_order(*execute("db-v2", near_m2)), (std::vector<std::string>{"m2", "m4", "m1"}));
  // No meta pair of a filter may be missing or differ.
  auto none = named("db-none", "db");
  none.service.node_meta = {{"zone", "a"}, {"rack", "1"}};
  ASSERT_TRUE(create(none));
  EXPECT_TRUE(execute("db-none")->nodes.empty());
}

TEST_F(QueryEndpointsTest, FailsOverInOrderAndComesBack) {
  RemoteDc remote(*this, "dc3", "r1", "web-r1");
  known_ = {"dc1", "dc2", "dc3"};
  instance("n1", "web1", "web", {}, "critical");
  auto q = named("web-q", "web");
  q.service.failover.datacenters = {"dc2", "dc3", "dc-unknown"};
  ASSERT_TRUE(create(q));
  auto r = execute("web-q");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(calls_, (std::vector<std::string>{"dc2", "dc3"}));  // dc2 fails, dc3 answers
  EXPECT_EQ(r->datacenter, "dc3");
  EXPECT_EQ(r->failovers, 2);
  EXPECT_EQ(ids(*r), (std::vector<std::string>{"web-r1"}));
  // The local instance recovers: answered here again, nobody else asked.
  calls_.clear();
  instance("n1", "web1", "web", {}, "passing");
  r = execute("web-q");
  EXPECT_EQ(r->datacenter, "dc1");
  EXPECT_EQ(r->failovers, 0);
  EXPECT_TRUE(calls_.empty());
}

// A WAN server at `x_ms` along one axis: its estimated RTT from the origin is x_ms.
WanServerCoordinate wan_server(const std::string& dc, const std::string& node, double x_ms) {
  WanServerCoordinate s;
  s.datacenter = dc;
  s.node = node + "." + dc;
  s.coordinate.vec.assign(8, 0.0);
  s.coordinate.vec[0] = x_ms / 1000.0;
  s.coordinate.error = 0.2;
  return s;
}

// NearestN follows the WAN round-trip estimates, not the names: with the names in one order
// and the distances in another, failover asks the nearest first, then the next, and a
// datacenter with no coordinate comes last.
TEST_F(QueryEndpointsTest, NearestFailoverFollowsRoundTripsNotNames) {
  known_ = {"dc1", "dc-a", "dc-b", "dc-c", "dc-d"};
  ctx_.wan_coordinates = [] {
    return std::vector<WanServerCoordinate>{
        wan_server("dc1", "agent-node", 0),  // this server: the origin
        wan_server("dc-a", "s1", 80),       wan_server("dc-b", "s1", 20),
        wan_server("dc-b", "s2", 30),  // median of dc-b's servers: 30
        wan_server("dc-c", "s1", 140),      wan_server("dc-c", "s2", 5),
        wan_server("dc-c", "s3", 150),  // median 140: a near outlier does not make it near
    };
  };
  EXPECT_EQ(datacenters_by_distance(ctx_, known_),
            (std::vector<std::string>{"dc-b", "dc-a", "dc-c", "dc-d"}));
  instance("n1", "web1", "web", {}, "critical");
  auto q = named("near-q", "web");
  q.service.failover.nearest_n = 2;
  ASSERT_TRUE(create(q));
  // None answers: the two nearest were asked, nearest first, and no other.
  auto r = execute("near-q");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(calls_, (std::vector<std::string>{"dc-b", "dc-a"}));
  EXPECT_TRUE(r->nodes.empty());
  // With the second nearest serving, it answers after one failover past the nearest.
  RemoteDc remote(*this, "dc-a", "ra", "web-ra");
  calls_.clear();
  r = execute("near-q");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(calls_, (std::vector<std::string>{"dc-b", "dc-a"}));
  EXPECT_EQ(r->datacenter, "dc-a");
  EXPECT_EQ(r->failovers, 2);
  EXPECT_EQ(ids(*r), (std::vector<std::string>{"web-ra"}));
}

}  // namespace
}  // namespace pc::endpoints
