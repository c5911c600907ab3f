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
}

TEST_F(QueryEndpointsTest, FailsOverInOrderAndComesBack) {
  // The other datacenter's servers: a second store with healthy instances.
  state::Store remote_store;
  testing::StoreFsm remote_fsm(remote_store);
  consensus::SingleNodeLog remote_log(remote_fsm, "127.0.0.2:8300");
  Context remote{remote_store, remote_log, clock_, rand_, {}};
  remote.identity.datacenter = "dc3";
  remote_log.start();
  {
    proto::Command c = state::testing::catalog_register("r1");
    state::testing::with_service(c, "web-r1", "web", {}, 80);
    std::promise<void> p;
    submit(remote, c, [&](auto) { p.set_value(); });
    p.get_future().get();
  }
  remote_["dc3"] = &remote;
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
  remote_log.stop();
}

}  // namespace
}  // namespace pc::endpoints
