#pragma once
// A seeded stream of log commands for replay and snapshot tests (shared by replay_test and
// snapshot_io_test): every command type, valid and invalid.
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "proto/commands.pb.h"
#include "state/tests/store_test_util.h"

namespace pc::state::testing {

// A seeded stream of commands that exercises every command type, valid and invalid, with
// enough key and session reuse that locks, CAS and txns collide.
class CommandGen {
 public:
  explicit CommandGen(std::uint64_t seed) : rng_(seed) {}

  // Every pick() is its own statement: argument evaluation order differs between compilers,
  // and a seed must name the same stream under g++ and clang.
  proto::Command next(std::uint64_t index) {
    proto::Command c;
    const int roll = pick(100);
    if (roll < 5) {
      std::string name = node();
      const bool first_address = pick(2) == 0;
      c = node_register(name, first_address ? "10.0.0.1" : "10.0.0.2");
    } else if (roll < 13) {
      std::string id = session();
      std::string on_node = pick(10) == 0 ? "unregistered" : node();
      const bool release = pick(2) == 0;
      const std::int64_t delay_ns = static_cast<std::int64_t>(pick(3)) * 5'000'000'000;
      c = session_create(id, on_node, release ? "release" : "delete", delay_ns);
      // Some sessions depend on checks, so critical and deleted checks invalidate them.
      if (pick(2) == 0) {
        std::string check_id = check();
        c.mutable_session_create()->mutable_session()->add_node_checks(check_id);
      }
    } else if (roll < 19) {
      c = session_destroy(session());
    } else if (roll < 21) {
      c = tombstone_reap(index > 50 ? index - 50 : 0);
    } else if (roll < 22) {
      // An empty command: rejected, changes nothing.
    } else if (roll < 30) {
      c = catalog_register();
    } else if (roll < 33) {
      std::string name = node();
      const int what = pick(3);
      std::string service_id = what == 1 ? service() : "";
      std::string check_id = what == 2 ? check() : "";
      c = catalog_deregister(name, service_id, check_id);
    } else if (roll < 45) {
      const int n = pick(5);
      c.mutable_txn();
      for (int i = 0; i < n; ++i) *c.mutable_txn()->add_ops() = op(index, true);
    } else {
      *c.mutable_kv() = op(index, false);
    }
    c.set_proposed_unix_ns(1'700'000'000'000'000'000 + static_cast<std::int64_t>(index) * 1000);
    return c;
  }

 private:
  int pick(int n) { return static_cast<int>(rng_() % static_cast<std::uint64_t>(n)); }
  std::string node() { return "node" + std::to_string(pick(4)); }
  std::string session() { return "s" + std::to_string(pick(6)); }
  std::string service() { return "svc" + std::to_string(pick(3)); }
  std::string check() { return "c" + std::to_string(pick(4)); }
  std::string status() {
    static const char* kStatuses[] = {"passing", "passing", "warning", "critical", ""};
    return kStatuses[pick(5)];
  }

  // A registration of a node with maybe a service and up to two checks, some on the service,
  // some on services that may not exist.
  proto::Command catalog_register() {
    std::string name = node();
    proto::Command c = pc::state::testing::catalog_register(name);
    c.mutable_catalog_register()->set_skip_node_update(pick(4) == 0);
    if (pick(2) == 0) {
      std::string id = service();
      std::string service_name = pick(2) == 0 ? "web" : "db";
      std::string tag = "t" + std::to_string(pick(3));
      const int port = 80 + pick(2);
      with_service(c, id, service_name, {tag}, port);
    }
    const int checks = pick(3);
    for (int i = 0; i < checks; ++i) {
      std::string id = check();
      std::string st = status();
      std::string service_id = pick(2) == 0 ? service() : "";
      with_check(c, id, st, service_id);
    }
    return c;
  }
  std::string key() {
    static const char* kDirs[] = {"", "a/", "a/b/", "c/"};
    std::string k = kDirs[pick(4)];
    k.push_back(static_cast<char>('p' + pick(4)));
    return k;
  }

  proto::KvOp op(std::uint64_t index, bool in_txn) {
    const int verb_count = in_txn ? 12 : 7;  // reads and checks only inside txns
    const auto verb = static_cast<proto::KvOp::Verb>(pick(verb_count));
    std::string k = key();
    if (verb == proto::KvOp::DELETE_TREE || verb == proto::KvOp::GET_TREE) k = k.substr(0, pick(3));
    const std::uint64_t idx = pick(3) == 0 ? 0 : static_cast<std::uint64_t>(pick(int(index) + 1));
    std::string value = "v" + std::to_string(pick(3));
    std::string session_id = pick(8) == 0 ? "" : session();
    const auto flags = static_cast<std::uint64_t>(pick(2));
    return kv_op(verb, k, value, idx, session_id, flags);
  }

  std::mt19937_64 rng_;
};

inline std::vector<proto::Command> make_log(std::uint64_t seed, int count) {
  CommandGen gen(seed);
  std::vector<proto::Command> log;
  for (int i = 1; i <= count; ++i) log.push_back(gen.next(static_cast<std::uint64_t>(i)));
  return log;
}

}  // namespace pc::state::testing
