// Fuzz target: log entry bytes -> decode_command -> apply, on a store that already holds a
// node, sessions, held locks and tombstones, so decoded commands reach the interesting paths.
// Whatever the bytes, decode must fail cleanly or apply must succeed or fail cleanly, and the
// cross-table invariants must hold afterwards (crash = bug).
//
// Under clang with -DPC_LIBFUZZER=ON this is a libFuzzer binary. Otherwise main() below
// replays every file of the corpus directory given as argv[1] (the ctest
// commands_fuzz_replay), so crashers that joined the corpus stay fixed.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <google/protobuf/stubs/logging.h>

#include "proto/commands.pb.h"
#include "state/store.h"
#include "state/tests/invariants.h"

namespace {

using pc::proto::Command;
using pc::proto::KvOp;

Command kv(KvOp::Verb verb, const std::string& key, const std::string& session) {
  Command c;
  c.mutable_kv()->set_verb(verb);
  c.mutable_kv()->set_key(key);
  c.mutable_kv()->set_value("v");
  c.mutable_kv()->set_session(session);
  return c;
}

// Indexes 1-11: nodes n1 (and N2), sessions s-release / s-delete (lock delay 5s) holding
// keys, free keys under a/ and a tombstone under gone/; then on n1 the service web1 (web)
// with checks serfHealth and web-alive, and session s-check (on both) holding a/checked.
void seed(pc::state::Store& store) {
  std::uint64_t index = 0;
  auto apply = [&](const Command& c) { (void)store.apply(++index, c); };
  for (const char* name : {"n1", "N2"}) {
    Command c;
    c.mutable_node_register()->set_node(name);
    apply(c);
  }
  for (const char* behavior : {"release", "delete"}) {
    Command c;
    auto* s = c.mutable_session_create()->mutable_session();
    s->set_id(std::string("s-") + behavior);
    s->set_node("n1");
    s->set_behavior(behavior);
    s->set_lock_delay_ns(5'000'000'000);
    apply(c);
  }
  apply(kv(KvOp::LOCK, "a/held", "s-release"));
  apply(kv(KvOp::LOCK, "a/doomed", "s-delete"));
  apply(kv(KvOp::SET, "a/free", ""));
  apply(kv(KvOp::SET, "gone/x", ""));
  apply(kv(KvOp::DELETE, "gone/x", ""));
  Command reg;
  auto* r = reg.mutable_catalog_register();
  r->set_node("n1");
  r->set_skip_node_update(true);
  r->mutable_service()->set_id("web1");
  r->mutable_service()->set_service("web");
  r->mutable_service()->add_tags("v1");
  auto* serf = r->add_checks();
  serf->set_check_id("serfHealth");
  serf->set_status("passing");
  auto* alive = r->add_checks();
  alive->set_check_id("web-alive");
  alive->set_status("passing");
  alive->set_service_id("web1");
  apply(reg);
  Command on_checks;
  auto* s = on_checks.mutable_session_create()->mutable_session();
  s->set_id("s-check");
  s->set_node("n1");
  s->set_lock_delay_ns(5'000'000'000);
  s->add_node_checks("serfHealth");
  s->add_service_checks()->set_id("web-alive");
  apply(on_checks);
  apply(kv(KvOp::LOCK, "a/checked", "s-check"));
  store.publish();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // Protobuf logs every string field with invalid UTF-8 it refuses; a fuzzer makes millions.
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)quiet;
  auto command =
      pc::state::decode_command(std::string_view(reinterpret_cast<const char*>(data), size));
  if (!command) return 0;
  pc::state::Store store;
  seed(store);
  (void)store.apply(100, *command);
  store.publish();
  const std::string broken = pc::state::testing::check_store_invariants(store.snapshot());
  if (!broken.empty()) {
    std::fprintf(stderr, "invariant broken: %s\n", broken.c_str());
    std::abort();
  }
  // The dump must be producible for whatever state the command left.
  (void)store.snapshot().dump();
  return 0;
}
