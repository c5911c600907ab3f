#pragma once
// CatalogSync: anti-entropy between this agent's LocalState and the catalog (Consul's
// agent/ae and local.State.SyncFull/SyncChanges).
//
// Each pass reads the catalog's rows for this node and makes them equal to the local ones:
// services and checks the agent does not hold are deregistered, missing or different ones
// registered (a service together with its checks), and the node itself re-registered when
// its address, tagged addresses or meta drifted. A pass compares values, so it repairs the
// catalog whatever damaged it. The serfHealth check and the "consul" service belong to the
// servers and are left alone.
//
// A check whose output changed but whose status did not reaches the catalog only after
// check_update_interval (Consul's deferred sync), so chatty checks do not write every run.
//
// Passes run on one thread: at start, at once after a local change (coalesced), every
// full_sync_interval plus a random stagger that grows with the cluster (sync_interval.h), and
// retry_interval after a pass that failed. sync_then() lets a caller (an
// agent API write) answer only once its change is in the catalog, as Consul's agent endpoints do.
//
// Thread-safe: trigger() and sync_then() from any thread, including LocalState's change hook.
#include <condition_variable>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "agent/local_state.h"
#include "core/clock.h"
#include "core/result.h"
#include "state/store.h"

namespace pc::proto {
class Command;
}

namespace pc::agent {

// What the catalog should say about this node.
struct NodeInfo {
  std::string id;
  std::string name;
  std::string address;
  std::string datacenter;
  std::map<std::string, std::string> tagged_addresses;
  std::map<std::string, std::string> meta;
};

// Writes one command through the log and waits for it to apply, acting for `token` (an ACL
// token secret; "" means the agent's own token).
using CommandSink = std::function<core::Status(proto::Command, const std::string& token)>;

// The catalog's rows for this node, as a pass compares them.
struct NodeRows {
  std::optional<state::Node> node;
  std::vector<state::Service> services;
  std::vector<state::HealthCheck> checks;
};
// Reads them: from the local store on a server, from a server over rpc on a client agent
// (Consul's anti-entropy asks the servers the same way). An error skips the pass.
using NodeReader = std::function<core::Result<NodeRows>()>;
// Reads `node_name`'s rows from the latest snapshot of `store`, which must outlive it.
NodeReader store_reader(const state::Store& store, std::string node_name);

class CatalogSync {
 public:
  struct Options {
    core::Duration full_sync_interval = std::chrono::minutes(1);
    core::Duration check_update_interval = std::chrono::minutes(5);
    // After a failed pass (no server, no leader): the next one (Consul's retryFailIntv).
    core::Duration retry_interval = std::chrono::seconds(15);
    // Members of the LAN pool, which scale the wait between full passes (Consul's
    // ClusterSize); unset counts as one.
    std::function<std::size_t()> cluster_size;
    // Draws for the stagger; unset means none (full passes exactly every interval).
    std::function<std::uint64_t()> random;
  };

  // The wait before the next full pass (exposed for tests).
  core::Duration next_full_sync_wait() const;

  CatalogSync(LocalState& local, NodeReader reader, NodeInfo node, CommandSink sink,
              const core::Clock& clock, Options options);
  ~CatalogSync();
  CatalogSync(const CatalogSync&) = delete;
  CatalogSync& operator=(const CatalogSync&) = delete;

  void start();
  void stop();

  void trigger();
  // Runs `done` after a pass that started after this call, with that pass's status.
  void sync_then(std::function<void(core::Status)> done);

  // One pass in the calling thread. Returns the first write error; the next pass retries.
  core::Status sync_once();

  std::uint64_t passes() const;

 private:
  void loop();

  LocalState& local_;
  NodeReader reader_;
  const NodeInfo node_;
  const CommandSink sink_;
  const core::Clock& clock_;
  const Options options_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool pending_ = false;
  bool stopping_ = false;
  std::vector<std::function<void(core::Status)>> waiters_;
  core::MonoTime deferred_until_{};  // earliest deferred output sync, or {} for none
  std::uint64_t passes_ = 0;
  std::thread thread_;
};

}  // namespace pc::agent
