#pragma once
// A store and a command sink that applies straight to it, standing in for the log, so the
// agent's sync is tested against the real catalog semantics without threads or a daemon.
#include <atomic>
#include <mutex>

#include "agent/catalog_sync.h"
#include "proto/commands.pb.h"
#include "state/store.h"

namespace pc::agent::testing {

struct FakeCatalog {
  state::Store store;
  std::mutex mu;
  std::uint64_t index = 1;
  std::atomic<int> writes{0};
  std::vector<std::string> tokens;  // guarded by mu: the token of each write, in order

  CommandSink sink() {
    return [this](proto::Command c, const std::string& token) -> core::Status {
      std::lock_guard lock(mu);
      ++writes;
      tokens.push_back(token);
      state::ApplyResult r = store.apply(++index, c);
      store.publish();
      return r.status;
    };
  }
  state::Snapshot snap() const { return store.snapshot(); }
};

inline NodeInfo test_node() {
  NodeInfo n;
  n.id = "11111111-2222-3333-4444-555555555555";
  n.name = "node1";
  n.address = "127.0.0.1";
  n.datacenter = "dc1";
  n.tagged_addresses = {{"lan", "127.0.0.1"}, {"wan", "127.0.0.1"}};
  return n;
}

inline state::Service service(std::string id, std::string name,
                              std::vector<std::string> tags = {}) {
  state::Service s;
  s.id = std::move(id);
  s.service = std::move(name);
  s.tags = std::move(tags);
  s.port = 8080;
  return s;
}

}  // namespace pc::agent::testing
