// Snapshots (state/snapshot_io.h): a store built by real commands round-trips through bytes
// with every read answering alike, before and after more commands; damaged, forged and
// oversized input fails cleanly and changes nothing; a snapshot is written while the apply
// thread goes on; 100k service instances round-trip in well under the test budget.
#include "state/snapshot_io.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <limits>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "core/crc32c.h"
#include "core/strings.h"
#include "proto/snapshot.pb.h"
#include "state/tests/command_gen.h"
#include "state/tests/invariants.h"
#include "state/tests/store_test_util.h"

namespace pc::state {
namespace {

using core::Code;
using proto::KvOp;
using testing::kv;
using testing::kv_op;
using testing::kv_set;

constexpr std::int64_t kT0 = 1'700'000'000'000'000'000;  // proposal time of the built state

// ---- Writing and reading helpers ----

std::string write(const Snapshot& s) {
  std::string out;
  auto st = write_snapshot(s, out);
  EXPECT_TRUE(st) << (st ? "" : st.error().message);
  return out;
}

Snapshot read_ok(std::string_view bytes) {
  auto r = read_snapshot(bytes);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? *r : Snapshot();
}

std::string describe(const ApplyResult& r) {
  std::string out = r.status ? "ok" : "err:" + r.status.error().message;
  out += r.ok ? "|true" : "|false";
  for (const auto& e : r.txn_results) {
    out += "|" + (e ? e->key + "=" + e->value + "@" + std::to_string(e->modify_index) : "-");
  }
  for (const auto& e : r.txn_errors) out += "|#" + std::to_string(e.op_index) + ":" + e.what;
  return out;
}

// Applies each command at the next index to every store, publishing after each, and checks
// they all answer alike.
class Applier {
 public:
  explicit Applier(std::vector<Store*> stores, std::uint64_t next_index = 1)
      : stores_(std::move(stores)), next_(next_index) {}
  ApplyResult apply(const proto::Command& c) {
    const std::uint64_t index = next_++;
    ApplyResult first;
    for (std::size_t i = 0; i < stores_.size(); ++i) {
      ApplyResult r = stores_[i]->apply(index, c);
      stores_[i]->publish();
      if (i == 0) {
        first = r;
      } else {
        EXPECT_EQ(describe(r), describe(first)) << "store " << i << " at index " << index;
      }
    }
    return first;
  }
  std::uint64_t next_index() const { return next_; }
  Snapshot snapshot() const { return stores_.front()->snapshot(); }

 private:
  std::vector<Store*> stores_;
  std::uint64_t next_;
};

proto::Command at(proto::Command c, std::int64_t proposed_unix_ns) {
  c.set_proposed_unix_ns(proposed_unix_ns);
  return c;
}

// A state with a row of every kind and every field set: nodes with tagged addresses and
// binary meta, services with tags, meta, tagged addresses, weights, kinds; node and service
// checks in every state; sessions of both behaviors with lock delays and check lists; KV
// entries with flags, binary keys and values, lock counts, held locks; deleted keys and trees
// (tombstones, some reaped); lock delays from invalidated sessions.
void build_rich_state(Applier& a) {
  auto ok = [&](const proto::Command& c) {
    ApplyResult r = a.apply(c);
    ASSERT_TRUE(r.status) << r.status.error().message;
    ASSERT_TRUE(r.ok) << c.ShortDebugString();
  };
  {
    proto::Command c = testing::node_register("n1");
    auto* n = c.mutable_node_register();
    n->set_id("0b3e8e4c-1111-4a3c-9c39-000000000001");
    for (auto [k, v] : {std::pair{"lan", "10.0.0.1"}, std::pair{"wan", "203.0.113.1"}}) {
      auto* p = n->add_tagged_addresses();
      p->set_key(k);
      p->set_value(v);
    }
    auto* m = n->add_meta();
    m->set_key("rack");
    m->set_value("r1");
    m = n->add_meta();
    m->set_key(std::string("bin\0key", 7));
    m->set_value("\xff\xfe");
    ok(c);
  }
  ok(testing::node_register("N2", "10.0.0.2"));
  {
    proto::Command c = testing::catalog_register("n3");
    proto::Service* s = testing::with_service(c, "web1", "web", {"v1", "primary"}, 8080);
    s->set_address("10.0.3.1");
    auto* m = s->add_meta();
    m->set_key("version");
    m->set_value("1.2");
    for (auto [k, port] : {std::pair{"lan", 8080}, std::pair{"wan_ipv4", 80}}) {
      auto* p = s->add_tagged_addresses();
      p->set_key(k);
      p->mutable_value()->set_address(std::string(k) + ".example");
      p->mutable_value()->set_port(port);
    }
    s->mutable_weights()->set_passing(10);
    s->mutable_weights()->set_warning(2);
    s->set_enable_tag_override(true);
    testing::with_check(c, "serfHealth", "passing");
    proto::HealthCheck* h = testing::with_check(c, "web-http", "passing", "web1");
    h->set_type("http");
    h->set_http("http://10.0.3.1:8080/health");
    h->set_interval("10s");
    h->set_timeout("1s");
    h->set_deregister_critical_service_after("90m");
    h->set_notes("the front door");
    h->set_output("HTTP GET: 200 OK");
    ok(c);
  }
  {
    proto::Command c = testing::catalog_register("n1");
    c.mutable_catalog_register()->set_skip_node_update(true);
    testing::with_service(c, "db1", "db", {"replica"}, 5432);
    testing::with_check(c, "db-tcp", "warning", "db1")->set_tcp("10.0.0.1:5432");
    ok(c);
  }
  {
    proto::Command c = testing::catalog_register("n1");
    c.mutable_catalog_register()->set_skip_node_update(true);
    testing::with_service(c, "web1-proxy", "web-sidecar-proxy", {}, 21000)
        ->set_kind("connect-proxy");
    ok(c);
  }
  {
    proto::Command c = testing::catalog_register("N2");
    c.mutable_catalog_register()->set_address("10.0.0.2");
    testing::with_check(c, "_node_maintenance", "critical")->set_notes("draining");
    ok(c);
  }
  {
    proto::Command c = testing::session_create("s-release", "n3", "release", 15'000'000'000);
    auto* s = c.mutable_session_create()->mutable_session();
    s->set_name("leader-lock");
    s->set_ttl("30s");
    s->add_node_checks("serfHealth");
    s->add_service_checks()->set_id("web-http");
    ok(c);
  }
  ok(testing::session_create("s-delete", "n1", "delete", 10'000'000'000));
  ok(testing::session_create("s-keep", "n1", "release", 0));
  ok(kv_set("app/config", std::string("a\0b\0c", 5), 42));
  ok(kv(kv_op(KvOp::LOCK, "app/leader", "me", 0, "s-release")));
  ok(kv(kv_op(KvOp::UNLOCK, "app/leader", "", 0, "s-release")));
  ok(kv(kv_op(KvOp::LOCK, "app/leader", "me again", 0, "s-release", 7)));
  ok(kv(kv_op(KvOp::LOCK, "app/ephemeral", "temp", 0, "s-delete")));
  ok(kv(kv_op(KvOp::LOCK, "app/kept", "kept", 0, "s-keep")));
  ok(kv_set("old/a", "1"));
  ok(kv_set("old/b", "2"));
  ok(kv_set("old/c/d", "3"));
  ok(kv(kv_op(KvOp::DELETE, "old/a")));
  ok(kv(kv_op(KvOp::DELETE_TREE, "old/c/")));
  const std::uint64_t config_index = a.snapshot().kv_get("app/config")->modify_index;
  ok(kv(kv_op(KvOp::CAS, "app/config", std::string("a\0b\0d", 5), config_index, "", 43)));
  ok(testing::txn({kv_op(KvOp::SET, "t/1", "one"), kv_op(KvOp::SET, "t/2", "two"),
                   kv_op(KvOp::LOCK, "t/3", "three", 0, "s-keep")}));
  ok(kv_set("non-utf8/\xff\xfe", std::string("\0\x01", 2)));
  // Invalidations: a deleted session deletes what it held, a critical check destroys the
  // session that lists it and releases its lock; both leave lock delays.
  ok(testing::session_destroy("s-delete", kT0));
  {
    proto::Command c = testing::catalog_register("n3");
    c.mutable_catalog_register()->set_skip_node_update(true);
    proto::HealthCheck* h = testing::with_check(c, "web-http", "critical", "web1");
    h->set_output("HTTP GET: 503");
    ok(at(c, kT0 + 1'000'000'000));
  }
  // The tombstone of old/a goes; those of old/c/ and app/ephemeral stay.
  ok(testing::tombstone_reap(a.snapshot().kv_graveyard_max_index("old/a")));
  ok(testing::catalog_deregister("n1", "db1"));
  {
    proto::Command c = testing::catalog_register("n4");
    testing::with_service(c, "api1", "api", {"v2"}, 9000);
    ok(c);
  }
  ok(testing::coordinate_update({{"n1", 0.01}, {"N2", 0.02}, {"n4", 0.03}}));
  ok(testing::coordinate_update({{"n1", 0.015}}, "alpha"));
  // Prepared queries: a plain one, a template, one bound to a session (format version 3).
  ok(testing::query_set("aaaaaaaa-0000-0000-0000-000000000001", "web-query", "web"));
  ok(testing::query_set("aaaaaaaa-0000-0000-0000-000000000002", "geo-", "${name.suffix}",
                        kQueryTemplateNamePrefixMatch));
  ok(testing::query_set("aaaaaaaa-0000-0000-0000-000000000003", "", "api", "", "s-keep"));
}

// Every read API of Snapshot, on every row and on names and keys around them, answers alike.
void expect_same_reads(const Snapshot& a, const Snapshot& b) {
  EXPECT_EQ(a.applied_index(), b.applied_index());
  EXPECT_EQ(a.prepared_queries(), b.prepared_queries());
  for (const auto& q : a.prepared_queries()) {
    EXPECT_EQ(a.prepared_query_by_name(q.name), b.prepared_query_by_name(q.name));
    EXPECT_EQ(a.prepared_query_template_for(q.name + "x"),
              b.prepared_query_template_for(q.name + "x"));
  }
  for (std::size_t t = 0; t < kTableCount; ++t) {
    EXPECT_EQ(a.table_index(static_cast<Table>(t)), b.table_index(static_cast<Table>(t)));
  }
  EXPECT_EQ(a.max_index({Table::kKvs, Table::kTombstones}),
            b.max_index({Table::kKvs, Table::kTombstones}));
  EXPECT_EQ(a.max_index({Table::kNodes, Table::kServices, Table::kChecks}),
            b.max_index({Table::kNodes, Table::kServices, Table::kChecks}));

  auto scan = [](const Snapshot& s, std::string_view prefix) {
    std::vector<DirEntry> out;
    s.kv_scan(prefix, [&](const DirEntry& e) {
      out.push_back(e);
      return true;
    });
    return out;
  };
  const std::vector<DirEntry> kvs = scan(a, "");
  EXPECT_EQ(kvs, scan(b, ""));
  // Every key, every prefix of one, and keys that were deleted or never existed.
  std::set<std::string> keys = {"",           "nope", "old/a", "old/c/", "old/c/d", "app/ephemeral",
                                "app/leader", "a/p",  "a/b/q", "c/r",    "p"};
  for (const DirEntry& e : kvs) {
    for (std::size_t n = 0; n <= e.key.size(); ++n) keys.insert(e.key.substr(0, n));
  }
  for (const std::string& k : keys) {
    SCOPED_TRACE(core::go_quote(k));
    EXPECT_EQ(a.kv_get(k), b.kv_get(k));
    EXPECT_EQ(scan(a, k), scan(b, k));
    EXPECT_EQ(a.kv_graveyard_max_index(k), b.kv_graveyard_max_index(k));
    EXPECT_EQ(a.kv_lock_delay_until_unix_ns(k), b.kv_lock_delay_until_unix_ns(k));
  }

  const std::vector<Session> sessions = a.session_list();
  EXPECT_EQ(sessions, b.session_list());
  std::set<std::string> session_ids = {"nope", "s-release", "s-delete"};
  for (const Session& s : sessions) session_ids.insert(s.id);
  for (const std::string& id : session_ids) {
    EXPECT_EQ(a.session_get(id), b.session_get(id)) << id;
    EXPECT_EQ(a.session_locked_keys(id), b.session_locked_keys(id)) << id;
  }

  const std::vector<Node> nodes = a.node_list();
  EXPECT_EQ(nodes, b.node_list());
  std::set<std::string> node_names = {"nope", "unregistered"};
  for (const Node& n : nodes) {
    node_names.insert(n.node);
    node_names.insert(core::to_upper(n.node));  // names ignore case
  }
  for (const std::string& n : node_names) {
    SCOPED_TRACE(n);
    EXPECT_EQ(a.node_get(n), b.node_get(n));
    EXPECT_EQ(a.session_list_node(n), b.session_list_node(n));
    EXPECT_EQ(a.checks_for_node(n), b.checks_for_node(n));
    const std::vector<Service> on_node = a.node_services(n);
    EXPECT_EQ(on_node, b.node_services(n));
    for (const Service& s : on_node) {
      EXPECT_EQ(a.service_get(n, s.id), b.service_get(n, s.id));
      EXPECT_EQ(a.checks_for_instance(n, s.id), b.checks_for_instance(n, s.id));
    }
  }

  const auto names = a.service_names();
  EXPECT_EQ(names, b.service_names());
  std::set<std::string> service_names = {"nope", "web", "WEB", "db"};
  for (const auto& [name, tags] : names) service_names.insert(name);
  for (const std::string& name : service_names) {
    SCOPED_TRACE(name);
    EXPECT_EQ(a.service_instances(name), b.service_instances(name));
    EXPECT_EQ(a.checks_for_service(name), b.checks_for_service(name));
    EXPECT_EQ(a.service_index(name), b.service_index(name));
  }
  for (const char* status : {"passing", "warning", "critical", "maintenance", "any"}) {
    EXPECT_EQ(a.checks_in_state(status), b.checks_in_state(status)) << status;
  }
  for (const HealthCheck& c : a.checks_in_state("any")) {
    EXPECT_EQ(a.check_get(c.node, c.check_id), b.check_get(c.node, c.check_id));
  }

  const proto::Command reads =
      testing::txn({kv_op(KvOp::GET_TREE, ""), kv_op(KvOp::GET, "app/config"),
                    kv_op(KvOp::CHECK_NOT_EXISTS, "old/a"),
                    kv_op(KvOp::CHECK_SESSION, "app/kept", "", 0, "s-keep")});
  EXPECT_EQ(a.coordinates(), b.coordinates());
  for (const char* n : {"n1", "N1", "n2", "n4", "nope"}) {
    EXPECT_EQ(a.node_coordinates(n), b.node_coordinates(n)) << n;
  }
  EXPECT_EQ(describe(a.txn_read(reads)), describe(b.txn_read(reads)));
  EXPECT_EQ(a.dump(), b.dump());
}

// The store a snapshot of `source` restores into, checked to hold what `source` holds.
void restore_into(Store& target, const Snapshot& source) {
  const std::string bytes = write(source);
  ASSERT_TRUE(restore_snapshot(target, bytes));
  const Snapshot restored = target.snapshot();
  EXPECT_EQ(testing::check_store_invariants(restored), "");
  expect_same_reads(source, restored);
  // The same state gives the same bytes: this covers what no read lists (every lock delay,
  // the lock-delay pruning threshold).
  EXPECT_EQ(write(restored), bytes);
}

// ---- Round trips ----

TEST(SnapshotRoundTrip, RichStateReadsAlikeAndKeepsWorkingAlike) {
  Store original;
  Applier build({&original});
  build_rich_state(build);
  ASSERT_FALSE(HasFatalFailure());
  const Snapshot before = original.snapshot();
  // The state is worth snapshotting only if it holds what the builder meant it to.
  ASSERT_GT(before.kv_lock_delay_until_unix_ns("app/ephemeral"), kT0);
  ASSERT_GT(before.kv_lock_delay_until_unix_ns("app/leader"), kT0);
  ASSERT_GT(before.kv_graveyard_max_index("old/c/"), 0u);
  ASSERT_EQ(before.kv_graveyard_max_index("old/a"), 0u);
  ASSERT_FALSE(before.session_get("s-release"));
  ASSERT_TRUE(before.kv_get("app/leader"));
  EXPECT_EQ(before.kv_get("app/leader")->lock_index, 2u);
  ASSERT_EQ(before.service_names().size(), 3u);  // web, web-sidecar-proxy, api

  Store restored;
  restore_into(restored, before);
  ASSERT_FALSE(HasFatalFailure());

  // Both stores take the same commands and answer, and end, alike: targeted ones first, then
  // a seeded stream of every command type.
  Applier more({&original, &restored}, before.applied_index() + 1);
  more.apply(kv(kv_op(KvOp::LOCK, "app/leader", "new", 0, "s-keep")));
  more.apply(testing::session_destroy("s-keep", kT0 + 2'000'000'000));
  more.apply(kv_set("app/config", "plain"));
  more.apply(testing::catalog_deregister("n3"));
  more.apply(testing::tombstone_reap(before.applied_index()));
  testing::CommandGen gen(17);
  for (int i = 0; i < 600; ++i) more.apply(gen.next(more.next_index()));
  expect_same_reads(original.snapshot(), restored.snapshot());
  EXPECT_EQ(write(original.snapshot()), write(restored.snapshot()));
}

TEST(SnapshotRoundTrip, EmptyStore) {
  Store empty;
  const std::string bytes = write(empty.snapshot());
  EXPECT_EQ(bytes.substr(0, kSnapshotMagic.size()), kSnapshotMagic);
  auto header = read_snapshot_header(bytes);
  ASSERT_TRUE(header);
  EXPECT_EQ(header->applied_index, 0u);
  EXPECT_EQ(header->format_version, kSnapshotFormatVersion);
  EXPECT_EQ(header->size_bytes, bytes.size());
  Store target;
  restore_into(target, empty.snapshot());
  restore_into(target, Snapshot());  // a default Snapshot reads as the empty state too
}

// Seeded streams of every command type, valid and invalid: snapshots taken along the way
// round-trip, and a store restored half-way ends exactly where the original does.
TEST(SnapshotRoundTrip, RandomLogsRestoredHalfWayEndAlike) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(::testing::Message() << "seed " << seed);
    const auto log = testing::make_log(seed, 2000);
    Store original;
    Store restored;
    for (std::size_t i = 0; i < log.size(); ++i) {
      (void)original.apply(i + 1, log[i]);
      if ((i + 1) % 100 == 0) original.publish();
      if (i + 1 == 1000) {
        restore_into(restored, original.snapshot());
        ASSERT_FALSE(HasFatalFailure());
      }
      if (i + 1 > 1000) {
        ApplyResult r = restored.apply(i + 1, log[i]);
        restored.publish();
        (void)r;
      }
      if ((i + 1) % 500 == 0) {
        const Snapshot s = original.snapshot();
        EXPECT_EQ(read_ok(write(s)).dump(), s.dump());
      }
    }
    original.publish();
    expect_same_reads(original.snapshot(), restored.snapshot());
    EXPECT_EQ(write(original.snapshot()), write(restored.snapshot()));
  }
}

// ---- Restore and readers, watches ----

TEST(SnapshotRestore, OldReadersKeepTheirVersionAndEveryWatchFires) {
  Store source;
  Applier build({&source});
  build_rich_state(build);
  ASSERT_FALSE(HasFatalFailure());

  Store store;
  Applier mine({&store});
  mine.apply(testing::node_register("other"));
  mine.apply(kv_set("mine", "1"));
  const Snapshot old = store.snapshot();
  std::vector<std::unique_ptr<WatchSet>> watches;
  auto watch = [&](auto&& register_fn) {
    watches.push_back(std::make_unique<WatchSet>());
    register_fn(*watches.back());
  };
  // Watches on things the restore changes and on things it does not: all must fire.
  watch([&](WatchSet& ws) { store.watch_kv_key(ws, "mine"); });
  watch([&](WatchSet& ws) { store.watch_kv_key(ws, "unrelated/key"); });
  watch([&](WatchSet& ws) { store.watch_kv_prefix(ws, "app/"); });
  watch([&](WatchSet& ws) { store.watch_kv_prefix(ws, ""); });
  for (std::size_t t = 0; t < kTableCount; ++t) {
    watch([&](WatchSet& ws) { store.watch_table(ws, static_cast<Table>(t)); });
  }
  watch([&](WatchSet& ws) { store.watch_service(ws, "web"); });
  watch([&](WatchSet& ws) { store.watch_service(ws, "never-registered"); });
  watch([&](WatchSet& ws) { store.watch_session(ws, "s-keep"); });
  int notified = 0;
  watches.front()->notify_once([&] { ++notified; });

  ASSERT_TRUE(restore_snapshot(store, write(source.snapshot())));
  for (std::size_t i = 0; i < watches.size(); ++i) EXPECT_TRUE(watches[i]->fired()) << i;
  EXPECT_EQ(notified, 1);
  // The old reader still sees its version; new readers see the restored one.
  EXPECT_EQ(old.kv_get("mine")->value, "1");
  EXPECT_TRUE(old.node_get("other"));
  EXPECT_FALSE(store.snapshot().kv_get("mine"));
  expect_same_reads(source.snapshot(), store.snapshot());
  // A watch registered after the restore waits for the next change, and gets it.
  WatchSet after;
  store.watch_kv_key(after, "app/config");
  EXPECT_FALSE(after.fired());
  ASSERT_TRUE(store.apply(store.snapshot().applied_index() + 1, kv_set("app/config", "x")).ok);
  store.publish();
  EXPECT_TRUE(after.fired());
}

TEST(SnapshotRestore, UnpublishedAppliesAreDropped) {
  Store source;
  Applier build({&source});
  build.apply(kv_set("from/source", "1"));
  Store store;
  (void)store.apply(1, kv_set("unpublished", "1"));
  (void)store.apply(2, kv_set("unpublished/2", "1"));
  ASSERT_TRUE(restore_snapshot(store, write(source.snapshot())));
  EXPECT_FALSE(store.snapshot().kv_get("unpublished"));
  store.publish();  // nothing pending any more
  EXPECT_FALSE(store.snapshot().kv_get("unpublished"));
  EXPECT_EQ(store.snapshot().applied_index(), 1u);
  ASSERT_TRUE(store.apply(2, kv_set("next", "1")).ok);
}

// ---- Bad input ----

std::string le32(std::uint32_t v) {
  std::string out;
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}
std::string le64(std::uint64_t v) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
  return out;
}
std::string varint(std::uint64_t v) {
  std::string out;
  for (; v >= 0x80; v >>= 7) out.push_back(static_cast<char>((v & 0x7F) | 0x80));
  out.push_back(static_cast<char>(v));
  return out;
}

// Header, `body` as it is, trailer with a correct checksum: a frame as the writer makes one.
std::string frame(std::string_view body, std::uint64_t applied_index,
                  std::uint32_t version = kSnapshotFormatVersion, std::uint32_t reserved = 0) {
  std::string out(kSnapshotMagic);
  out += le32(version) + le32(reserved) + le64(applied_index);
  out.append(body);
  out += le64(body.size());
  out += le32(core::crc32c(out));
  out.append(kSnapshotEndMagic);
  return out;
}

// zstd of `raw`, streamed so the frame header names no content size (as the writer's).
// `zeros` more zero bytes follow `raw`, fed a chunk at a time, so bombs cost no memory here.
std::string zstd(std::string_view raw, std::size_t zeros = 0, int window_log = 0) {
  std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> cctx(ZSTD_createCCtx(), &ZSTD_freeCCtx);
  if (window_log != 0) ZSTD_CCtx_setParameter(cctx.get(), ZSTD_c_windowLog, window_log);
  std::string out;
  std::string buf(ZSTD_CStreamOutSize(), '\0');
  const std::string zero_chunk(1 << 20, '\0');
  auto feed = [&](std::string_view in_bytes, ZSTD_EndDirective mode) {
    ZSTD_inBuffer in{in_bytes.data(), in_bytes.size(), 0};
    for (;;) {
      ZSTD_outBuffer o{buf.data(), buf.size(), 0};
      const std::size_t rem = ZSTD_compressStream2(cctx.get(), &o, &in, mode);
      EXPECT_FALSE(ZSTD_isError(rem));
      out.append(buf.data(), o.pos);
      if (mode == ZSTD_e_end ? rem == 0 : in.pos == in.size) break;
    }
  };
  feed(raw, ZSTD_e_continue);
  for (std::size_t left = zeros; left > 0;) {
    const std::size_t n = std::min(left, zero_chunk.size());
    feed(std::string_view(zero_chunk).substr(0, n), ZSTD_e_continue);
    left -= n;
  }
  feed("", ZSTD_e_end);
  return out;
}

std::string encode(const proto::SnapshotRecord& r) {
  const std::string body = r.SerializeAsString();
  return varint(body.size()) + body;
}

// The decompressed body of a snapshot.
std::string body_of(std::string_view snapshot) {
  std::string_view body = snapshot.substr(
      kSnapshotHeaderSize, snapshot.size() - kSnapshotHeaderSize - kSnapshotTrailerSize);
  std::unique_ptr<ZSTD_DCtx, decltype(&ZSTD_freeDCtx)> dctx(ZSTD_createDCtx(), &ZSTD_freeDCtx);
  std::string raw;
  std::string buf(ZSTD_DStreamOutSize(), '\0');
  ZSTD_inBuffer in{body.data(), body.size(), 0};
  for (;;) {
    ZSTD_outBuffer o{buf.data(), buf.size(), 0};
    const std::size_t ret = ZSTD_decompressStream(dctx.get(), &o, &in);
    EXPECT_FALSE(ZSTD_isError(ret));
    raw.append(buf.data(), o.pos);
    if (ret == 0 || ZSTD_isError(ret)) break;
  }
  return raw;
}

// The records of a snapshot, decoded with no checks beyond protobuf's.
std::vector<proto::SnapshotRecord> records_of(std::string_view snapshot) {
  const std::string raw = body_of(snapshot);
  std::vector<proto::SnapshotRecord> out;
  for (std::size_t pos = 0; pos < raw.size();) {
    std::uint64_t len = 0;
    int shift = 0;
    while (static_cast<std::uint8_t>(raw[pos]) & 0x80) {
      len |= static_cast<std::uint64_t>(raw[pos++] & 0x7F) << shift;
      shift += 7;
    }
    len |= static_cast<std::uint64_t>(raw[pos++]) << shift;
    out.emplace_back();
    EXPECT_TRUE(out.back().ParseFromArray(raw.data() + pos, static_cast<int>(len)));
    pos += len;
  }
  return out;
}

std::string reframe(const std::vector<proto::SnapshotRecord>& records,
                    std::uint64_t applied_index) {
  std::string raw;
  for (const auto& r : records) raw += encode(r);
  return frame(zstd(raw), applied_index);
}

void expect_error(std::string_view bytes, Code code, std::string_view message_part,
                  const SnapshotLimits& limits = {}) {
  auto r = read_snapshot(bytes, limits);
  ASSERT_FALSE(r) << "decoded, expected: " << message_part;
  EXPECT_EQ(r.error().code, code) << r.error().message;
  EXPECT_NE(r.error().message.find(message_part), std::string::npos) << r.error().message;
}

class SnapshotBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    Applier build({&source_});
    build_rich_state(build);
    ASSERT_FALSE(HasFatalFailure());
    bytes_ = write(source_.snapshot());
    records_ = records_of(bytes_);
    applied_ = source_.snapshot().applied_index();
    ASSERT_GT(records_.size(), 20u);
    ASSERT_TRUE(records_.front().has_meta());
    ASSERT_TRUE(records_.back().has_end());
  }
  // Index of the first record of a kind.
  std::size_t first(proto::SnapshotRecord::BodyCase body) const {
    for (std::size_t i = 0; i < records_.size(); ++i) {
      if (records_[i].body_case() == body) return i;
    }
    ADD_FAILURE() << "no record of kind " << body;
    return 0;
  }
  std::string with(const std::function<void(std::vector<proto::SnapshotRecord>&)>& change) const {
    auto records = records_;
    change(records);
    return reframe(records, applied_);
  }

  Store source_;
  std::string bytes_;
  std::vector<proto::SnapshotRecord> records_;
  std::uint64_t applied_ = 0;
};

TEST_F(SnapshotBadInput, ReframedRecordsAreTheSameState) {
  // The forging below is only meaningful if unchanged records decode to the same state.
  EXPECT_EQ(read_ok(with([](auto&) {})).dump(), source_.snapshot().dump());
}

TEST_F(SnapshotBadInput, TruncatedAtEveryOffset) {
  for (std::size_t n = 0; n < bytes_.size(); ++n) {
    auto r = read_snapshot(std::string_view(bytes_).substr(0, n));
    ASSERT_FALSE(r) << "cut at " << n;
    ASSERT_EQ(r.error().code, Code::kCorruption) << n << ": " << r.error().message;
  }
  expect_error("", Code::kCorruption, "truncated");
  expect_error(std::string_view(bytes_).substr(0, 30), Code::kCorruption, "truncated");
  expect_error(std::string_view(bytes_).substr(0, bytes_.size() - 1), Code::kCorruption,
               "no end marker");
}

TEST_F(SnapshotBadInput, EveryFlippedByteIsCaught) {
  for (std::size_t i = 0; i < bytes_.size(); ++i) {
    for (std::uint8_t mask : {0x01, 0x80, 0xFF}) {
      std::string bad = bytes_;
      bad[i] = static_cast<char>(bad[i] ^ mask);
      auto r = read_snapshot(bad);
      ASSERT_FALSE(r) << "flip " << int(mask) << " at " << i;
      ASSERT_EQ(r.error().code, Code::kCorruption) << i << ": " << r.error().message;
    }
  }
  std::string bad = bytes_;
  bad[kSnapshotHeaderSize + 5] ^= 0x10;
  expect_error(bad, Code::kCorruption, "checksum mismatch");
}

TEST_F(SnapshotBadInput, ForeignHeaders) {
  const std::string body = bytes_.substr(
      kSnapshotHeaderSize, bytes_.size() - kSnapshotHeaderSize - kSnapshotTrailerSize);
  ASSERT_TRUE(read_snapshot(frame(body, applied_)));
  std::string bad_magic = bytes_;
  bad_magic[1] = 'X';
  expect_error(bad_magic, Code::kCorruption, "bad magic");
  expect_error("PK\x03\x04 a zip file, say", Code::kCorruption, "bad magic");
  expect_error(frame(body, applied_, 4), Code::kCorruption, "unknown snapshot format version 4");
  expect_error(frame(body, applied_, 0), Code::kCorruption, "unknown snapshot format version 0");
  expect_error(frame(body, applied_, 1, 7), Code::kCorruption, "reserved");
  expect_error(frame(body, applied_ + 1), Code::kCorruption, "says applied index");
  // The trailer's body size disagrees with the file.
  std::string extra = frame(body, applied_);
  extra.insert(kSnapshotHeaderSize, "x");
  expect_error(extra, Code::kCorruption, "trailer says");
}

TEST_F(SnapshotBadInput, BrokenCompressedBodies) {
  std::string raw;
  for (const auto& r : records_) raw += encode(r);
  expect_error(frame(raw, applied_), Code::kCorruption, "does not decompress");
  expect_error(frame("", applied_), Code::kCorruption, "does not end");
  const std::string z = zstd(raw);
  expect_error(frame(z.substr(0, z.size() - 3), applied_), Code::kCorruption, "snapshot body");
  expect_error(frame(z + z, applied_), Code::kCorruption, "after its compressed frame");
  expect_error(frame(z + "junk", applied_), Code::kCorruption, "after its compressed frame");
  // A frame that asks for a 32 MiB window is refused before anything is allocated for it.
  expect_error(frame(zstd(raw, 0, 25), applied_), Code::kCorruption, "does not decompress");
}

TEST_F(SnapshotBadInput, BrokenRecordStreams) {
  using R = proto::SnapshotRecord;
  std::string raw;
  for (const auto& r : records_) raw += encode(r);
  expect_error(frame(zstd(raw + varint(100) + "short"), applied_), Code::kCorruption,
               "ends inside record");
  expect_error(frame(zstd(raw + std::string(11, '\xff')), applied_), Code::kCorruption,
               "bad length prefix");
  expect_error(frame(zstd(varint(0) + raw), applied_), Code::kCorruption, "record 0 has no body");
  // A member this version does not know (a newer table) is refused, never skipped.
  std::string unknown = varint(3) + std::string("\x6a\x01\x00", 3);  // field 13, 1 byte
  expect_error(
      frame(zstd(encode(records_[0]) + unknown + raw.substr(encode(records_[0]).size())), applied_),
      Code::kCorruption, "record 1 has no body this version knows");
  expect_error(frame(zstd(encode(records_[0]) + varint(3) + "\xff\xff\xff"), applied_),
               Code::kCorruption, "does not parse");

  expect_error(with([](auto& r) { r.pop_back(); }), Code::kCorruption, "without its end record");
  expect_error(with([](auto& r) { r.back().mutable_end()->set_record_count(3); }),
               Code::kCorruption, "counts 3 records");
  expect_error(with([](auto& r) { r.push_back(r[1]); }), Code::kCorruption,
               "follows the end record");
  expect_error(with([](auto& r) { r.erase(r.begin()); }), Code::kCorruption,
               "comes before the meta record");
  expect_error(with([](auto& r) { r.insert(r.begin() + 1, r.front()); }), Code::kCorruption,
               "second meta record");
  expect_error(frame(zstd(""), applied_), Code::kCorruption, "holds no records");
  const std::size_t kv = first(R::kKv);
  expect_error(with([&](auto& r) { std::swap(r[kv], r[kv + 1]); }), Code::kCorruption,
               "does not follow the previous key");
  expect_error(with([&](auto& r) { r.insert(r.begin() + kv, r[kv]); }), Code::kCorruption,
               "does not follow the previous key");
  const std::size_t tombstone = first(R::kTombstone);
  expect_error(with([&](auto& r) { std::swap(r[kv], r[tombstone]); }), Code::kCorruption,
               "out of order");
  // Two nodes whose names differ only in case are one row.
  const std::size_t node = first(R::kNode);
  expect_error(with([&](auto& r) {
                 auto upper = r[node];
                 upper.mutable_node()->mutable_node()->set_node("N1");
                 r.insert(r.begin() + node + 1, upper);
               }),
               Code::kCorruption, "does not follow the previous key");
}

// Format version 1 predates the ACL tables: six table indexes (seven once coordinates
// existed) and no ACL records. Such snapshots still read, the missing indexes at 0; one with
// all ten indexes is refused.
TEST_F(SnapshotBadInput, FormatVersionOneStillReads) {
  auto as_version_one = [&](std::size_t keep_indexes, bool keep_coordinates) {
    auto records = records_;
    auto* indexes = records.front().mutable_meta()->mutable_table_indexes();
    while (static_cast<std::size_t>(indexes->size()) > keep_indexes) indexes->RemoveLast();
    std::erase_if(records, [&](const proto::SnapshotRecord& x) {
      return x.has_acl_token() || x.has_acl_policy() || x.has_acl_role() ||
             x.has_prepared_query() || (!keep_coordinates && x.has_coordinate());
    });
    records.back().mutable_end()->set_record_count(records.size() - 1);
    std::string raw;
    for (const auto& r : records) raw += encode(r);
    return frame(zstd(raw), applied_, 1);
  };
  auto six = read_snapshot(as_version_one(6, false));
  ASSERT_TRUE(six) << six.error().message;
  EXPECT_EQ(six->table_index(Table::kCoordinates), 0u);
  EXPECT_EQ(six->table_index(Table::kAclTokens), 0u);
  EXPECT_TRUE(six->coordinates().empty());
  EXPECT_EQ(six->node_list(), source_.snapshot().node_list());
  auto seven = read_snapshot(as_version_one(7, true));
  ASSERT_TRUE(seven) << seven.error().message;
  EXPECT_EQ(seven->coordinates(), source_.snapshot().coordinates());
  expect_error(as_version_one(10, true), Code::kCorruption,
               "has 10 table indexes, format version 1 has 6 or 7");
}

// Format version 2 predates prepared queries: ten table indexes and no query records. Such
// snapshots still read, the query table empty at index 0; a query record in one is refused.
TEST_F(SnapshotBadInput, FormatVersionTwoStillReads) {
  auto as_version_two = [&](bool keep_queries) {
    auto records = records_;
    records.front().mutable_meta()->mutable_table_indexes()->RemoveLast();
    if (!keep_queries) {
      std::erase_if(records, [](const proto::SnapshotRecord& x) { return x.has_prepared_query(); });
    }
    records.back().mutable_end()->set_record_count(records.size() - 1);
    std::string raw;
    for (const auto& r : records) raw += encode(r);
    return frame(zstd(raw), applied_, 2);
  };
  auto two = read_snapshot(as_version_two(false));
  ASSERT_TRUE(two) << two.error().message;
  EXPECT_EQ(two->table_index(Table::kPreparedQueries), 0u);
  EXPECT_TRUE(two->prepared_queries().empty());
  EXPECT_EQ(two->acl_policies(), source_.snapshot().acl_policies());
  EXPECT_EQ(two->node_list(), source_.snapshot().node_list());
  expect_error(as_version_two(true), Code::kCorruption,
               "(prepared_query) is not part of format version 2");
}

TEST_F(SnapshotBadInput, StatesApplyCannotMake) {
  using R = proto::SnapshotRecord;
  auto meta = [](auto& r) { return r.front().mutable_meta(); };
  expect_error(with([&](auto& r) { meta(r)->add_table_indexes(1); }), Code::kCorruption,
               "has 12 table indexes, format version 3 has 11");
  // Two queries of one name, or one bound to a session that is gone, were never applied.
  const std::size_t query = first(R::kPreparedQuery);
  expect_error(with([&](auto& r) {
                 r[query + 1].mutable_prepared_query()->mutable_query()->set_name("WEB-QUERY");
               }),
               Code::kCorruption, "two prepared queries named");
  expect_error(with([&](auto& r) {
                 r[query].mutable_prepared_query()->mutable_query()->set_session("ghost");
               }),
               Code::kCorruption, "bound to unknown session");
  expect_error(with([&](auto& r) { r[query].mutable_prepared_query()->set_create_index(0); }),
               Code::kCorruption, "has bad indexes");
  // Coordinates of a node that is not there, or unusable ones, were never applied.
  const std::size_t coordinate = first(R::kCoordinate);
  expect_error(with([&](auto& r) {
                 r[coordinate].mutable_coordinate()->mutable_coordinate()->set_node("a-ghost");
               }),
               Code::kCorruption, "coordinate of unknown node");
  expect_error(with([&](auto& r) {
                 r[coordinate].mutable_coordinate()->mutable_coordinate()->set_vec(
                     0, std::numeric_limits<double>::infinity());
               }),
               Code::kCorruption, "has a non-finite coordinate");
  expect_error(with([&](auto& r) { r[coordinate].mutable_coordinate()->set_modify_index(0); }),
               Code::kCorruption, "has modify index 0");
  expect_error(with([&](auto& r) { meta(r)->set_table_indexes(2, 1'000'000); }), Code::kCorruption,
               "table sessions at index 1000000, above applied index");
  const std::size_t kv = first(R::kKv);
  expect_error(with([&](auto& r) { r[kv].mutable_kv()->set_session("ghost"); }), Code::kCorruption,
               "held by unknown session \"ghost\"");
  expect_error(with([&](auto& r) { r[kv].mutable_kv()->set_create_index(0); }), Code::kCorruption,
               "create index 0");
  expect_error(with([&](auto& r) { r[kv].mutable_kv()->set_modify_index(applied_ + 5); }),
               Code::kCorruption, "KV entry");
  const std::size_t tombstone = first(R::kTombstone);
  expect_error(with([&](auto& r) { r[tombstone].mutable_tombstone()->set_index(applied_ + 1); }),
               Code::kCorruption, "above the tombstones table");
  const std::size_t session = first(R::kSession);
  expect_error(
      with([&](auto& r) { r[session].mutable_session()->mutable_session()->set_behavior(""); }),
      Code::kCorruption, "has behavior \"\"");
  expect_error(with([&](auto& r) {
                 r[session].mutable_session()->mutable_session()->add_node_checks("gone");
               }),
               Code::kCorruption, "depends on check \"gone\", which is missing");
  const std::size_t service = first(R::kService);
  expect_error(with([&](auto& r) { r[service].mutable_service()->set_node("a-ghost"); }),
               Code::kCorruption, "on unknown node \"a-ghost\"");
  const std::size_t check = first(R::kCheck);
  expect_error(with([&](auto& r) {
                 r[check].mutable_check()->mutable_check()->set_service_id("no-such-service");
               }),
               Code::kCorruption, "on unknown service");
  expect_error(with([&](auto& r) { r[check].mutable_check()->mutable_check()->clear_status(); }),
               Code::kCorruption, "has no status");
  const std::size_t service_index = first(R::kServiceIndex);
  expect_error(
      with([&](auto& r) { r[service_index].mutable_service_index()->set_index(applied_ + 1); }),
      Code::kCorruption, "above the applied index");
}

TEST_F(SnapshotBadInput, BombsStopAtTheLimits) {
  const std::string meta = encode(records_.front());
  // A length prefix of 1 GiB is refused before anything is allocated for it.
  expect_error(frame(zstd(meta + varint(std::uint64_t{1} << 30)), applied_), Code::kTooLarge,
               "above the limit");
  // One KV record whose value is 64 MiB of zeros: ~2 KiB compressed, refused at its length.
  const std::uint64_t value_size = 64 << 20;
  std::string kv_head = std::string("\x0a\x01k", 3) + "\x12" + varint(value_size);
  std::string record_head = "\x12" + varint(kv_head.size() + value_size) + kv_head;
  std::string bomb = frame(
      zstd(meta + varint(record_head.size() + value_size) + record_head, value_size), applied_);
  EXPECT_LT(bomb.size(), 64u << 10);
  const auto start = std::chrono::steady_clock::now();
  expect_error(bomb, Code::kTooLarge, "above the limit");
  // Under a small decompressed-size cap, a stream of valid records stops at the cap.
  SnapshotLimits small;
  small.decompressed_size_max = 1 << 20;
  small.record_size_max = 128 << 20;
  expect_error(bomb, Code::kTooLarge, "decompresses to more than 1048576 bytes", small);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(SnapshotBadInput, FailedRestoreChangesNothingAndWakesNobody) {
  Store store;
  Applier mine({&store});
  mine.apply(kv_set("mine", "1"));
  const std::string dump = store.snapshot().dump();
  WatchSet ws;
  store.watch_kv_prefix(ws, "");
  store.watch_table(ws, Table::kKvs);
  std::string flipped = bytes_;
  flipped[flipped.size() / 2] ^= 0x40;
  for (const std::string& bad :
       {flipped, bytes_.substr(0, bytes_.size() / 2), std::string("garbage"),
        with([](auto& r) { r[1].mutable_kv()->set_session("ghost"); })}) {
    EXPECT_FALSE(restore_snapshot(store, bad));
  }
  EXPECT_EQ(store.snapshot().dump(), dump);
  EXPECT_FALSE(ws.fired());
  ASSERT_TRUE(store.apply(2, kv_set("mine", "2")).ok);  // still at index 1
}

// ---- Writing while the apply thread goes on ----

// The sink stalls until the apply thread has applied and published 10k more commands: had
// writing held anything apply needs, this would deadlock (and fail at the timeout instead).
// The bytes are still exactly those of the pinned version.
TEST(SnapshotConcurrency, WriteWhileTenThousandCommandsApply) {
  Store store;
  const auto log = testing::make_log(11, 12000);
  std::size_t i = 0;
  for (; i < 2000; ++i) (void)store.apply(i + 1, log[i]);
  store.publish();
  const Snapshot pinned = store.snapshot();

  std::promise<void> applied_all;
  std::shared_future<void> applied_all_future = applied_all.get_future().share();
  std::string streamed;
  bool waited = false;
  auto writer = std::async(std::launch::async, [&]() -> core::Status {
    return write_snapshot(pinned, [&](std::string_view bytes) -> core::Status {
      if (!waited) {
        waited = true;
        if (applied_all_future.wait_for(std::chrono::seconds(60)) != std::future_status::ready) {
          return core::make_error(Code::kTimeout, "the apply thread never finished");
        }
      }
      streamed.append(bytes);
      return core::ok();
    });
  });
  for (; i < log.size(); ++i) {
    (void)store.apply(i + 1, log[i]);
    store.publish();
  }
  applied_all.set_value();
  const core::Status st = writer.get();
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(store.snapshot().applied_index(), 12000u);
  EXPECT_EQ(streamed, write(pinned));
  const Snapshot back = read_ok(streamed);
  EXPECT_EQ(back.applied_index(), 2000u);
  EXPECT_EQ(back.dump(), pinned.dump());

  // And free-running: snapshots of successive versions written while apply goes on (how
  // much they overlap depends on scheduling; the stall above is the deterministic part).
  std::atomic<bool> stop = false;
  std::atomic<std::size_t> written_count = 0;
  std::vector<std::pair<Snapshot, std::string>> written;
  std::thread snapshotter([&] {
    while (!stop.load() && written.size() < 300) {
      Snapshot s = store.snapshot();
      std::string out;
      if (write_snapshot(s, out)) written.emplace_back(std::move(s), std::move(out));
      written_count = written.size();
    }
  });
  const auto more = testing::make_log(12, 3000);
  for (std::size_t j = 0; j < more.size(); ++j) {
    (void)store.apply(12001 + j, more[j]);
    store.publish();
  }
  while (written_count.load() < 10) std::this_thread::yield();
  stop = true;
  snapshotter.join();
  ASSERT_GE(written.size(), 10u);
  for (const auto& [s, out] : written) EXPECT_EQ(read_ok(out).dump(), s.dump());
}

TEST(SnapshotSink, ErrorsStopTheWrite) {
  Store store;
  Applier build({&store});
  for (int i = 0; i < 2000; ++i)
    build.apply(kv_set("k/" + std::to_string(i), std::string(300, 'v')));
  int calls = 0;
  const core::Status st = write_snapshot(store.snapshot(), [&](std::string_view) {
    return ++calls == 2 ? core::Status(core::make_error(Code::kIoError, "disk full")) : core::ok();
  });
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, Code::kIoError);
  EXPECT_EQ(st.error().message, "writing snapshot at index 2000: disk full");
  EXPECT_EQ(calls, 2);
}

// ---- Scale ----

TEST(SnapshotScale, HundredThousandServiceInstances) {
  constexpr int kNodes = 2000;
  constexpr int kPerNode = 50;
  Store store;
  std::uint64_t index = 0;
  auto t0 = std::chrono::steady_clock::now();
  for (int n = 0; n < kNodes; ++n) {
    const std::string node = "node-" + std::to_string(n);
    proto::Command c = testing::catalog_register(node);
    testing::with_check(c, "serfHealth", "passing");
    ASSERT_TRUE(store.apply(++index, c).status);
    for (int s = 0; s < kPerNode; ++s) {
      proto::Command r = testing::catalog_register(node);
      r.mutable_catalog_register()->set_skip_node_update(true);
      const std::string name = "svc-" + std::to_string(s);
      proto::Service* svc =
          testing::with_service(r, name + "-" + std::to_string(n), name,
                                {"v1", "zone-" + std::to_string(n % 3)}, 20000 + s);
      auto* m = svc->add_meta();
      m->set_key("version");
      m->set_value("1.0." + std::to_string(s));
      auto* p = svc->add_tagged_addresses();
      p->set_key("lan");
      p->mutable_value()->set_address("10.1." + std::to_string(n % 256) + "." + std::to_string(s));
      p->mutable_value()->set_port(20000 + s);
      ASSERT_TRUE(store.apply(++index, r).status);
    }
  }
  store.publish();
  const auto t_built = std::chrono::steady_clock::now();
  const Snapshot snap = store.snapshot();
  std::size_t instances = 0;
  for (const auto& [name, tags] : snap.service_names())
    instances += snap.service_instances(name).size();
  ASSERT_EQ(instances, static_cast<std::size_t>(kNodes * kPerNode));

  std::string bytes;
  const auto t_write0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(write_snapshot(snap, bytes));
  const auto t_write1 = std::chrono::steady_clock::now();
  Store restored;
  ASSERT_TRUE(restore_snapshot(restored, bytes));
  const auto t_read1 = std::chrono::steady_clock::now();
  EXPECT_EQ(restored.snapshot().dump(), snap.dump());
  EXPECT_EQ(write(restored.snapshot()), bytes);
  auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
  std::printf(
      "[snapshot] %d instances on %d nodes: %zu bytes (%.1f MiB; %.1f MiB decompressed), "
      "build %.0f ms, write %.0f ms, read+restore %.0f ms\n",
      kNodes * kPerNode, kNodes, bytes.size(), bytes.size() / 1048576.0,
      body_of(bytes).size() / 1048576.0, ms(t_built - t0), ms(t_write1 - t_write0),
      ms(t_read1 - t_write1));
}

// ---- Fuzz corpus ----

// With PC_WRITE_SNAPSHOT_CORPUS=<dir> set, writes the snapshot_fuzz seeds there: valid
// snapshots and broken ones of every kind above. Otherwise replays the checked-in corpus with
// its known outcomes: files named valid_* decode, all others fail cleanly.
TEST(SnapshotCorpus, SeedsHaveTheirKnownOutcomes) {
  if (const char* dir = std::getenv("PC_WRITE_SNAPSHOT_CORPUS")) {
    std::filesystem::create_directories(dir);
    auto put = [&](const std::string& name, const std::string& bytes) {
      std::ofstream(std::filesystem::path(dir) / name, std::ios::binary) << bytes;
    };
    Store rich;
    Applier build({&rich});
    build_rich_state(build);
    const std::string rich_bytes = write(rich.snapshot());
    put("valid_empty", write(Snapshot()));
    put("valid_rich", rich_bytes);
    Store random;
    const auto log = testing::make_log(7, 300);
    for (std::size_t i = 0; i < log.size(); ++i) (void)random.apply(i + 1, log[i]);
    random.publish();
    put("valid_random", write(random.snapshot()));
    put("bad_truncated", rich_bytes.substr(0, rich_bytes.size() * 2 / 3));
    std::string flipped = rich_bytes;
    flipped[rich_bytes.size() / 2] ^= 0x04;
    put("bad_flipped", flipped);
    std::string magic = rich_bytes;
    magic[0] = 'X';
    put("bad_magic", magic);
    auto records = records_of(rich_bytes);
    const std::uint64_t applied = rich.snapshot().applied_index();
    put("bad_version",
        frame(rich_bytes.substr(kSnapshotHeaderSize,
                                rich_bytes.size() - kSnapshotHeaderSize - kSnapshotTrailerSize),
              applied, 2));
    auto unordered = records;
    std::swap(unordered[1], unordered[2]);
    put("bad_order", reframe(unordered, applied));
    auto ghost = records;
    ghost[1].mutable_kv()->set_session("ghost");
    put("bad_state", reframe(ghost, applied));
    auto far = records;
    for (auto& r : far) {
      if (r.has_coordinate()) r.mutable_coordinate()->mutable_coordinate()->set_height(-1);
    }
    put("bad_coordinate", reframe(far, applied));
    const std::string meta = encode(records.front());
    put("bomb_length", frame(zstd(meta + varint(std::uint64_t{1} << 30)), applied));
    std::string many;
    for (int i = 0; i < 3000; ++i) {
      proto::SnapshotRecord r;
      r.mutable_kv()->set_key("k/" + std::to_string(100000 + i));
      r.mutable_kv()->set_value(std::string(4096, '\0'));
      many += encode(r);
    }
    put("bomb_records", frame(zstd(meta + many), applied));
    GTEST_SKIP() << "wrote the corpus to " << dir;
  }
  std::size_t files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(PC_SNAPSHOT_CORPUS_DIR)) {
    std::ifstream in(entry.path(), std::ios::binary);
    std::stringstream bytes;
    bytes << in.rdbuf();
    const std::string name = entry.path().filename().string();
    auto r = read_snapshot(bytes.str());
    EXPECT_EQ(static_cast<bool>(r), name.starts_with("valid_"))
        << name << ": " << (r ? "decoded" : r.error().message);
    ++files;
  }
  EXPECT_GE(files, 10u);
}

}  // namespace
}  // namespace pc::state
