#pragma once
// Network coordinates (Consul's agent/consul/coordinate_endpoint.go and the ?near= sorting of
// catalog, health and query results): reads of the coordinates table with what they watch,
// validation of one agent's update, the batcher that turns updates into log commands, the
// WAN view per datacenter, and the sorter every ?near= read shares.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/strings.h"
#include "endpoints/context.h"
#include "gossip/core/coordinate.h"

namespace pc::proto {
class CoordinateUpdate;
}

namespace pc::endpoints {

gossip::Coordinate to_coordinate(const state::CoordinateRow& row);

struct CoordinateRows {
  std::uint64_t index = 0;  // the coordinates table's index
  std::vector<state::CoordinateRow> rows;
};
// /v1/coordinate/nodes: every node's coordinates, only those of `segment` when given (Consul
// filters on ?segment only when the parameter is present). Watches the coordinates table.
CoordinateRows coordinate_nodes(const Context& ctx, state::WatchSet& ws,
                                const std::string* segment);
// /v1/coordinate/node/<node>: one node's coordinates (one per segment), filtered alike.
CoordinateRows coordinate_node(const Context& ctx, state::WatchSet& ws, std::string_view node,
                               const std::string* segment);

// Consul's Coordinate.Update checks, with its texts: a usable coordinate ("invalid
// coordinate") of the servers' dimensionality ("rejected bad coordinate: ..."), from a node.
core::Status validate_coordinate_update(const proto::CoordinateUpdate& update,
                                        std::size_t dimensionality);

// Consul's coordinate batching on a server: the latest update per node and segment waits
// until flush(), which submits them as CoordinateBatchUpdate commands of at most batch_size
// updates, at most max_batches of them (Consul's coordinate_update_batch_size 128,
// coordinate_update_max_batches 5; the daemon calls flush every coordinate_update_period,
// 5 s). Updates beyond batch_size × max_batches pending are refused with Consul's text
// ("Coordinate update rate limit exceeded, increase SyncCoordinateRateTarget").
// Thread-safe: add() from any thread; flush() from one.
class CoordinateBatcher {
 public:
  struct Options {
    std::size_t batch_size = 128;
    std::size_t max_batches = 5;
  };
  CoordinateBatcher(Context& ctx, Options options) : ctx_(ctx), options_(options) {}

  core::Status add(const proto::CoordinateUpdate& update);
  // Submits what is pending; returns how many commands were submitted.
  std::size_t flush();
  std::size_t pending() const;

 private:
  Context& ctx_;
  const Options options_;
  mutable std::mutex mu_;
  std::map<std::pair<std::string, std::string>, std::string> pending_;  // serialized updates
};

// /v1/coordinate/update on a server: validates and queues (or, without a batcher, as in unit
// tests, submits at once).
void coordinate_update(Context& ctx, CoordinateBatcher* batcher,
                       const proto::CoordinateUpdate& update, std::size_t dimensionality,
                       Done<bool> done);

// One server in the WAN pool: its name there ("<node>.<dc>") and coordinate.
struct WanServerCoordinate {
  std::string datacenter;
  std::string node;
  gossip::Coordinate coordinate;
};
struct DatacenterCoordinates {
  std::string datacenter;
  std::string area_id = "wan";
  std::vector<WanServerCoordinate> coordinates;
};
// /v1/coordinate/datacenters: the WAN pool's servers grouped by datacenter, datacenters in
// name order, servers in name order; the local datacenter is always listed, with no
// coordinates until a WAN pool feeds its servers (the daemon passes what its pool knows).
// Each server is named without its ".<dc>" suffix, as Consul's Coordinate.ListDatacenters
// does ("s1" in dc1, not "s1.dc1"); `rtt -wan s1.dc1 ...` splits the name to match.
std::vector<DatacenterCoordinates> coordinate_datacenters(std::string_view local_datacenter,
                                                          std::vector<WanServerCoordinate> servers);

// ?near=: the coordinate a node sorts from (its default-segment row, else its first), and a
// stable sort of `items` by estimated RTT from `origin_node`'s coordinate. As Consul: no
// sorting when the origin has no coordinate, nodes without one last in their order; unlike
// Consul, the origin's own entries always come first (see the body).
std::optional<gossip::Coordinate> node_coordinate(const state::Snapshot& snap,
                                                  std::string_view node);
template <typename T, typename NodeOf>
void sort_near(const state::Snapshot& snap, std::string_view origin_node, std::vector<T>& items,
               NodeOf node_of) {
  const auto origin = node_coordinate(snap, origin_node);
  if (!origin) return;
  std::map<std::string, std::optional<gossip::Coordinate>> cache;
  auto coordinate_of = [&](const T& item) -> const gossip::Coordinate* {
    const std::string& node = node_of(item);
    auto it = cache.find(node);
    if (it == cache.end()) it = cache.emplace(node, node_coordinate(snap, node)).first;
    return it->second ? &*it->second : nullptr;
  };
  gossip::sort_by_distance(&*origin, items, coordinate_of);
  // The origin's own entries first: its true RTT to itself is 0, while serf's estimate from a
  // coordinate to itself is twice its height (plus adjustments), which on a LAN can exceed
  // the estimate to a close neighbour with a small height. Consul sorts by the estimate
  // alone; here `?near=_agent` always lists the agent's own node first.
  std::stable_partition(items.begin(), items.end(), [&](const T& item) {
    return core::to_lower(node_of(item)) == core::to_lower(origin_node);
  });
}

}  // namespace pc::endpoints
