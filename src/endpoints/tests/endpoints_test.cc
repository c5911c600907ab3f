// Endpoint logic over a real store and the -dev log: index selection, lock-delay, session
// validation and TTL expiry, ?filter= on the catalog and health reads.
#include <gtest/gtest.h>

#include <future>

#include "consensus/runtime/single_node_log.h"
#include "core/timer_thread.h"
#include "endpoints/catalog.h"
#include "endpoints/check_filter.h"
#include "endpoints/health.h"
#include "endpoints/kv.h"
#include "endpoints/node_filter.h"
#include "endpoints/session.h"
#include "endpoints/session_timers.h"
#include "endpoints/tests/test_fsm.h"
#include "proto/commands.pb.h"

namespace pc::endpoints {
namespace {

using namespace std::chrono_literals;

using testing::StoreFsm;

class EndpointsTest : public ::testing::Test {
 protected:
  EndpointsTest()
      : fsm_(store_), log_(fsm_, "127.0.0.1:8300"), ctx_{store_, log_, clock_, rand_, {}} {
    ctx_.identity.node_name = "node1";
    ctx_.identity.datacenter = "dc1";
    ctx_.identity.session_ttl_min = 10ms;
    log_.start();
    // The node with its serfHealth check, as the agent registers itself: sessions depend on
    // serfHealth by default.
    proto::Command cmd;
    auto* reg = cmd.mutable_catalog_register();
    reg->set_node("node1");
    reg->set_address("127.0.0.1");
    reg->mutable_check()->set_check_id("serfHealth");
    reg->mutable_check()->set_status("passing");
    EXPECT_TRUE(wait_submit(std::move(cmd)).has_value());
  }
  ~EndpointsTest() override {
    timers_.stop();
    log_.stop();
  }

  core::Result<state::ApplyResult> wait_submit(proto::Command cmd) {
    std::promise<core::Result<state::ApplyResult>> p;
    submit(ctx_, std::move(cmd),
           [&](core::Result<state::ApplyResult> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  core::Result<bool> put(const std::string& key, const std::string& value,
                         proto::KvOp::Verb verb = proto::KvOp::SET, std::uint64_t index = 0,
                         const std::string& session = "") {
    proto::KvOp op;
    op.set_verb(verb);
    op.set_key(key);
    op.set_value(value);
    op.set_index(index);
    op.set_session(session);
    std::promise<core::Result<bool>> p;
    kv_apply(ctx_, op, [&](core::Result<bool> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }
  core::Result<std::string> create_session(SessionCreateArgs args) {
    std::promise<core::Result<std::string>> p;
    session_create(ctx_, std::move(args),
                   [&](core::Result<std::string> r) { p.set_value(std::move(r)); });
    return p.get_future().get();
  }

  const core::SystemClock& clock_ = core::SystemClock::instance();
  state::Store store_;
  StoreFsm fsm_;
  consensus::SingleNodeLog log_;
  core::SystemRand rand_{1};
  Context ctx_;
  core::TimerThread timers_;
};

TEST_F(EndpointsTest, GetReportsModifyIndexOrTableIndex) {
  ASSERT_TRUE(put("a", "1").value());
  ASSERT_TRUE(put("b", "2").value());
  state::WatchSet ws;
  auto a = kv_get(ctx_, ws, "a");
  ASSERT_EQ(a.entries.size(), 1u);
  EXPECT_EQ(a.index, a.entries[0].modify_index);
  auto missing = kv_get(ctx_, ws, "zzz");
  EXPECT_TRUE(missing.entries.empty());
  EXPECT_EQ(missing.index,
            store_.snapshot().max_index({state::Table::kKvs, state::Table::kTombstones}));
  EXPECT_GT(missing.index, a.index);
}

TEST_F(EndpointsTest, ListIndexMovesForwardWhenAKeyUnderThePrefixIsDeleted) {
  ASSERT_TRUE(put("p/a", "1").value());
  ASSERT_TRUE(put("p/b", "1").value());
  ASSERT_TRUE(put("q/a", "1").value());
  state::WatchSet ws;
  auto before = kv_list(ctx_, ws, "p/");
  EXPECT_EQ(before.entries.size(), 2u);
  ASSERT_TRUE(put("p/b", "", proto::KvOp::DELETE).value());
  state::WatchSet ws2;
  auto after = kv_list(ctx_, ws2, "p/");
  EXPECT_EQ(after.entries.size(), 1u);
  EXPECT_GT(after.index, before.index);
  EXPECT_TRUE(ws.fired());
  // A write elsewhere leaves the prefix's index (and its watch) alone.
  ASSERT_TRUE(put("q/b", "1").value());
  EXPECT_FALSE(ws2.fired());
  state::WatchSet ws3;
  EXPECT_EQ(kv_list(ctx_, ws3, "p/").index, after.index);
}

TEST_F(EndpointsTest, KeysStopAtTheSeparator) {
  for (auto k : {"web/a", "web/sub/x", "web/sub/y", "web/z", "other"})
    ASSERT_TRUE(put(k, "v").value());
  state::WatchSet ws;
  auto keys = kv_keys(ctx_, ws, "web/", "/");
  EXPECT_EQ(keys.keys, (std::vector<std::string>{"web/a", "web/sub/", "web/z"}));
  auto all = kv_keys(ctx_, ws, "", "");
  EXPECT_EQ(all.keys.size(), 5u);
}

TEST_F(EndpointsTest, LockDelayBlocksReacquireAfterInvalidation) {
  SessionCreateArgs args;
  args.lock_delay_ns = std::chrono::nanoseconds(300ms).count();
  auto s1 = create_session(args);
  ASSERT_TRUE(s1.has_value()) << s1.error().message;
  auto s2 = create_session(args);
  ASSERT_TRUE(s2.has_value());
  ASSERT_TRUE(put("lock", "x", proto::KvOp::LOCK, 0, *s1).value());
  EXPECT_FALSE(put("lock", "x", proto::KvOp::LOCK, 0, *s2).value());
  std::promise<core::Result<bool>> p;
  session_destroy(ctx_, *s1, [&](core::Result<bool> r) { p.set_value(std::move(r)); });
  ASSERT_TRUE(p.get_future().get().has_value());
  EXPECT_FALSE(put("lock", "x", proto::KvOp::LOCK, 0, *s2).value()) << "inside the lock-delay";
  auto deadline = std::chrono::steady_clock::now() + 5s;
  bool acquired = false;
  while (!acquired && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
    acquired = put("lock", "x", proto::KvOp::LOCK, 0, *s2).value();
  }
  EXPECT_TRUE(acquired);
}

TEST_F(EndpointsTest, SessionValidationUsesConsulsTexts) {
  ctx_.identity.session_ttl_min = 10s;
  SessionCreateArgs bad_ttl;
  bad_ttl.ttl = "5s";
  auto r = create_session(bad_ttl);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "Invalid Session TTL '5000000000', must be between [10s=24h0m0s]");
  SessionCreateArgs bad_behavior;
  bad_behavior.behavior = "explode";
  r = create_session(bad_behavior);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().message, "Invalid Behavior setting 'explode'");
  SessionCreateArgs unknown_node;
  unknown_node.node = "nope";
  r = create_session(unknown_node);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(store_.snapshot().session_list().size(), 0u);
}

TEST_F(EndpointsTest, SessionWithoutRenewalExpiresAndReleasesItsLock) {
  SessionTimers session_timers(ctx_, timers_);
  ctx_.session_timers = &session_timers;
  SessionCreateArgs args;
  args.ttl = "50ms";
  args.lock_delay_ns = 0;
  auto id = create_session(args);
  ASSERT_TRUE(id.has_value()) << id.error().message;
  ASSERT_TRUE(put("held", "v", proto::KvOp::LOCK, 0, *id).value());
  EXPECT_EQ(session_timers.armed_count(), 1u);
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (store_.snapshot().session_get(*id) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_FALSE(store_.snapshot().session_get(*id).has_value());
  auto entry = store_.snapshot().kv_get("held");
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->session, "");
  ctx_.session_timers = nullptr;
}

TEST_F(EndpointsTest, ReadOnlyTxnIsAnsweredFromASnapshotWithoutTheLog) {
  ASSERT_TRUE(put("r/a", "1").value());
  ASSERT_TRUE(put("r/b", "2").value());
  const std::uint64_t before = log_.last_index();
  std::vector<proto::KvOp> ops(2);
  ops[0].set_verb(proto::KvOp::GET_TREE);
  ops[0].set_key("r/");
  ops[1].set_verb(proto::KvOp::CHECK_NOT_EXISTS);
  ops[1].set_key("r/c");
  EXPECT_TRUE(kv_txn_is_read_only(ops));
  bool answered = false;
  kv_txn(ctx_, ops, [&](core::Result<TxnOutcome> r) {
    answered = true;
    ASSERT_TRUE(r.has_value());
    EXPECT_TRUE(r->errors.empty());
    ASSERT_EQ(r->results.size(), 2u);
    EXPECT_EQ(r->results[0]->value, "1");
    EXPECT_EQ(r->results[1]->value, "2");
  });
  EXPECT_TRUE(answered) << "a read-only transaction is answered at once";
  EXPECT_EQ(log_.last_index(), before) << "a read-only transaction entered the log";
  ops[1].set_verb(proto::KvOp::SET);
  EXPECT_FALSE(kv_txn_is_read_only(ops));
}

TEST_F(EndpointsTest, RenewUnknownSessionIsNotFound) {
  auto r = session_renew(ctx_, "00000000-0000-0000-0000-000000000000");
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().code, core::Code::kNotFound);
  EXPECT_EQ(r.error().message, "Session id '00000000-0000-0000-0000-000000000000' not found");
}

TEST_F(EndpointsTest, CatalogReadsApplyTheirFilters) {
  proto::Command cmd;
  auto* reg = cmd.mutable_catalog_register();
  reg->set_node("node2");
  reg->set_address("10.0.0.2");
  auto* meta = reg->add_node_meta();
  meta->set_key("rack");
  meta->set_value("r2");
  ASSERT_TRUE(wait_submit(cmd).has_value());
  for (const char* id : {"web-1", "db-1"}) {
    proto::Command svc;
    auto* r = svc.mutable_catalog_register();
    r->set_node("node2");
    r->set_skip_node_update(true);
    auto* s = r->mutable_service();
    s->set_id(id);
    s->set_service(std::string(id).substr(0, std::string(id).find('-')));
    if (std::string_view(id) == "web-1") {
      auto* lan = s->add_tagged_addresses();
      lan->set_key("lan");
      lan->mutable_value()->set_address("10.0.0.2");
      lan->mutable_value()->set_port(8080);
    }
    auto* c = r->add_checks();
    c->set_check_id(std::string("check:") + id);
    c->set_service_id(id);
    c->set_status(std::string_view(id) == "web-1" ? "passing" : "critical");
    ASSERT_TRUE(wait_submit(svc).has_value());
  }

  state::WatchSet ws;
  auto by_rack = compile_node_filter("Meta.rack == r2");
  ASSERT_TRUE(by_rack);
  auto nodes = catalog_nodes(ctx_, ws, {}, &*by_rack);
  ASSERT_EQ(nodes.nodes.size(), 1u);
  EXPECT_EQ(nodes.nodes[0].node, "node2");
  EXPECT_EQ(nodes.index, catalog_nodes(ctx_, ws, {}).index);  // a filter moves no index

  auto lan = compile_node_service_filter("TaggedAddresses.lan.Port == 8080");
  ASSERT_TRUE(lan);
  auto node2 = catalog_node_services(ctx_, ws, "node2", &*lan);
  ASSERT_TRUE(node2.node.has_value());
  ASSERT_EQ(node2.services.size(), 1u);
  EXPECT_EQ(node2.services[0].id, "web-1");
  EXPECT_EQ(catalog_node_services(ctx_, ws, "node2").services.size(), 2u);
  // Filtering every service out still names the node; an unknown node has none.
  auto none = compile_node_service_filter("Service == nothing");
  ASSERT_TRUE(none);
  auto emptied = catalog_node_services(ctx_, ws, "node2", &*none);
  EXPECT_TRUE(emptied.node.has_value());
  EXPECT_TRUE(emptied.services.empty());
  EXPECT_FALSE(catalog_node_services(ctx_, ws, "nope", &*lan).node.has_value());

  auto web_instances = compile_service_node_filter("ServiceTaggedAddresses is not empty");
  ASSERT_TRUE(web_instances);
  auto services = catalog_services(ctx_, ws, {}, &*web_instances);
  EXPECT_EQ(services.services.size(), 1u);
  EXPECT_TRUE(services.services.contains("web"));
  EXPECT_EQ(catalog_services(ctx_, ws, {}).services.size(), 2u);

  auto critical = compile_health_check_filter("Status == critical");
  ASSERT_TRUE(critical);
  auto node_checks = health_node_checks(ctx_, ws, "node2", &*critical);
  ASSERT_EQ(node_checks.checks.size(), 1u);
  EXPECT_EQ(node_checks.checks[0].check_id, "check:db-1");
  EXPECT_EQ(health_node_checks(ctx_, ws, "node2").checks.size(), 2u);
  EXPECT_EQ(health_service_checks(ctx_, ws, "web", &*critical).checks.size(), 0u);
  EXPECT_EQ(health_service_checks(ctx_, ws, "db", &*critical).checks.size(), 1u);
  auto in_state = health_checks_in_state(ctx_, ws, "any", &*critical);
  ASSERT_EQ(in_state.checks.size(), 1u);
  EXPECT_EQ(in_state.checks[0].node, "node2");
  EXPECT_EQ(in_state.index, health_checks_in_state(ctx_, ws, "any").index);

  // ?node-meta keeps the checks on nodes with every pair.
  NodeMetaFilter rack2{{"rack", "r2"}}, rack9{{"rack", "r9"}};
  EXPECT_EQ(health_service_checks(ctx_, ws, "db", rack2, nullptr).checks.size(), 1u);
  EXPECT_TRUE(health_service_checks(ctx_, ws, "db", rack9, nullptr).checks.empty());
  auto on_rack2 = health_checks_in_state(ctx_, ws, "any", rack2, nullptr);
  ASSERT_FALSE(on_rack2.checks.empty());
  for (const auto& c : on_rack2.checks) EXPECT_EQ(c.node, "node2");
  EXPECT_TRUE(health_checks_in_state(ctx_, ws, "any", rack9, nullptr).checks.empty());
}

}  // namespace
}  // namespace pc::endpoints
