#pragma once
// Builders for log commands and a fixture that applies them at explicit indexes, the way
// Consul's state store tests do (no log, no clock: the index and proposal time are given).
#include <gtest/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "proto/commands.pb.h"
#include "state/store.h"

namespace pc::state::testing {

inline proto::KvOp kv_op(proto::KvOp::Verb verb, std::string key, std::string value = "",
                         std::uint64_t index = 0, std::string session = "",
                         std::uint64_t flags = 0) {
  proto::KvOp op;
  op.set_verb(verb);
  op.set_key(std::move(key));
  op.set_value(std::move(value));
  op.set_index(index);
  op.set_session(std::move(session));
  op.set_flags(flags);
  return op;
}

inline proto::Command kv(proto::KvOp op, std::int64_t proposed_unix_ns = 0) {
  proto::Command c;
  c.set_proposed_unix_ns(proposed_unix_ns);
  *c.mutable_kv() = std::move(op);
  return c;
}

inline proto::Command kv_set(std::string key, std::string value, std::uint64_t flags = 0) {
  return kv(kv_op(proto::KvOp::SET, std::move(key), std::move(value), 0, "", flags));
}

inline proto::Command txn(const std::vector<proto::KvOp>& ops) {
  proto::Command c;
  c.mutable_txn();  // an empty txn is still a txn
  for (const auto& op : ops) *c.mutable_txn()->add_ops() = op;
  return c;
}

inline proto::Command node_register(std::string name, std::string address = "10.0.0.1") {
  proto::Command c;
  auto* n = c.mutable_node_register();
  n->set_node(std::move(name));
  n->set_address(std::move(address));
  n->set_datacenter("dc1");
  return c;
}

inline proto::Command session_create(std::string id, std::string node,
                                     std::string behavior = "release",
                                     std::int64_t lock_delay_ns = 0) {
  proto::Command c;
  auto* s = c.mutable_session_create()->mutable_session();
  s->set_id(std::move(id));
  s->set_node(std::move(node));
  s->set_behavior(std::move(behavior));
  s->set_lock_delay_ns(lock_delay_ns);
  return c;
}

inline proto::Command session_destroy(std::string id, std::int64_t proposed_unix_ns = 0) {
  proto::Command c;
  c.set_proposed_unix_ns(proposed_unix_ns);
  c.mutable_session_destroy()->set_id(std::move(id));
  return c;
}

inline proto::Command tombstone_reap(std::uint64_t up_to_index) {
  proto::Command c;
  c.mutable_tombstone_reap()->set_up_to_index(up_to_index);
  return c;
}

// A CatalogRegister of `node` (address 10.0.0.1, dc1) with nothing else; add a service or
// checks with the helpers below.
inline proto::Command catalog_register(std::string node) {
  proto::Command c;
  auto* r = c.mutable_catalog_register();
  r->set_node(std::move(node));
  r->set_address("10.0.0.1");
  r->set_datacenter("dc1");
  return c;
}

inline proto::Service* with_service(proto::Command& c, std::string id, std::string name,
                                    std::vector<std::string> tags = {}, int port = 80) {
  auto* s = c.mutable_catalog_register()->mutable_service();
  s->set_id(std::move(id));
  s->set_service(std::move(name));
  for (auto& t : tags) s->add_tags(std::move(t));
  s->set_port(port);
  return s;
}

inline proto::HealthCheck* with_check(proto::Command& c, std::string id, std::string status,
                                      std::string service_id = "") {
  auto* h = c.mutable_catalog_register()->add_checks();
  h->set_check_id(std::move(id));
  h->set_name("check " + h->check_id());
  h->set_status(std::move(status));
  h->set_service_id(std::move(service_id));
  return h;
}

inline proto::Command catalog_deregister(std::string node, std::string service_id = "",
                                         std::string check_id = "",
                                         std::int64_t proposed_unix_ns = 0) {
  proto::Command c;
  c.set_proposed_unix_ns(proposed_unix_ns);
  auto* d = c.mutable_catalog_deregister();
  d->set_node(std::move(node));
  d->set_service_id(std::move(service_id));
  d->set_check_id(std::move(check_id));
  return c;
}

// A store whose every write is published at once, as if each log entry were its own batch.
// A CoordinateBatchUpdate of one coordinate per node: {node, 8 dimensions at `x`}.
inline proto::Command coordinate_update(const std::vector<std::pair<std::string, double>>& nodes,
                                        std::string segment = "") {
  proto::Command c;
  auto* b = c.mutable_coordinate_batch_update();
  for (const auto& [node, x] : nodes) {
    auto* u = b->add_updates();
    u->set_node(node);
    u->set_segment(segment);
    for (int i = 0; i < 8; ++i) u->add_vec(x + 0.001 * i);
    u->set_error(0.5);
    u->set_adjustment(-0.0001);
    u->set_height(0.00002);
  }
  return c;
}

// A prepared query on `service`; a template when `template_type` is set.
inline proto::Command query_set(std::string id, std::string name, std::string service,
                                std::string template_type = "", std::string session = "") {
  proto::Command c;
  auto* q = c.mutable_prepared_query_set()->mutable_query();
  q->set_id(std::move(id));
  q->set_name(std::move(name));
  q->set_session(std::move(session));
  q->mutable_template_()->set_type(std::move(template_type));
  q->mutable_service()->set_service(std::move(service));
  return c;
}

inline proto::Command query_delete(std::string id) {
  proto::Command c;
  c.mutable_prepared_query_delete()->set_id(std::move(id));
  return c;
}

class StoreTest : public ::testing::Test {
 protected:
  ApplyResult apply(std::uint64_t index, const proto::Command& command) {
    ApplyResult r = store_.apply(index, command);
    store_.publish();
    return r;
  }
  Snapshot snap() const { return store_.snapshot(); }
  DirEntry get(std::string_view key) const {
    auto e = snap().kv_get(key);
    EXPECT_TRUE(e.has_value()) << "missing key " << key;
    return e.value_or(DirEntry{});
  }

  Store store_;
};

}  // namespace pc::state::testing
