#include "endpoints/coordinate.h"

#include <fmt/format.h>

#include <algorithm>
#include <utility>

#include "proto/commands.pb.h"

namespace pc::endpoints {

gossip::Coordinate to_coordinate(const state::CoordinateRow& row) {
  return gossip::Coordinate{row.vec, row.error, row.adjustment, row.height};
}

namespace {

void keep_segment(std::vector<state::CoordinateRow>& rows, const std::string* segment) {
  if (segment == nullptr) return;
  std::erase_if(rows, [&](const state::CoordinateRow& r) { return r.segment != *segment; });
}

gossip::Coordinate from_update(const proto::CoordinateUpdate& u) {
  return gossip::Coordinate{std::vector<double>(u.vec().begin(), u.vec().end()), u.error(),
                            u.adjustment(), u.height()};
}

// Go's %v of a serf coordinate pointer, as Consul's error text prints it.
std::string go_format(const gossip::Coordinate& c) {
  std::string vec;
  for (double x : c.vec) vec += (vec.empty() ? "" : " ") + fmt::format("{}", x);
  return fmt::format("&{{[{}] {} {} {}}}", vec, c.error, c.adjustment, c.height);
}

}  // namespace

CoordinateRows coordinate_nodes(const Context& ctx, state::WatchSet& ws,
                                const std::string* segment) {
  ctx.store.watch_table(ws, state::Table::kCoordinates);
  const state::Snapshot snap = ctx.store.snapshot();
  CoordinateRows out{snap.table_index(state::Table::kCoordinates), snap.coordinates()};
  keep_segment(out.rows, segment);
  return out;
}

CoordinateRows coordinate_node(const Context& ctx, state::WatchSet& ws, std::string_view node,
                               const std::string* segment) {
  ctx.store.watch_table(ws, state::Table::kCoordinates);
  const state::Snapshot snap = ctx.store.snapshot();
  CoordinateRows out{snap.table_index(state::Table::kCoordinates), snap.node_coordinates(node)};
  keep_segment(out.rows, segment);
  return out;
}

core::Status validate_coordinate_update(const proto::CoordinateUpdate& update,
                                        std::size_t dimensionality) {
  if (update.node().empty()) {
    return core::make_error(core::Code::kInvalidArgument, "Must provide node");
  }
  const gossip::Coordinate c = from_update(update);
  // Consul checks finiteness first, then compatibility with the server's own coordinate;
  // a negative error or height is refused with the first text (serf never produces one).
  if (!c.finite() || c.error < 0 || c.height < 0) {
    return core::make_error(core::Code::kInvalidArgument, "invalid coordinate");
  }
  if (c.vec.size() != dimensionality) {
    return core::make_error(core::Code::kInvalidArgument,
                            "rejected bad coordinate: " + go_format(c));
  }
  return core::ok();
}

core::Status CoordinateBatcher::add(const proto::CoordinateUpdate& update) {
  std::lock_guard lock(mu_);
  auto key = std::make_pair(update.node(), update.segment());
  auto it = pending_.find(key);
  if (it == pending_.end() && pending_.size() >= options_.batch_size * options_.max_batches) {
    return core::make_error(
        core::Code::kUnavailable,
        "Coordinate update rate limit exceeded, increase SyncCoordinateRateTarget");
  }
  pending_[std::move(key)] = update.SerializeAsString();
  return core::ok();
}

std::size_t CoordinateBatcher::pending() const {
  std::lock_guard lock(mu_);
  return pending_.size();
}

std::size_t CoordinateBatcher::flush() {
  std::map<std::pair<std::string, std::string>, std::string> taken;
  {
    std::lock_guard lock(mu_);
    taken.swap(pending_);
  }
  std::size_t commands = 0;
  proto::Command command;
  auto send = [&] {
    if (command.coordinate_batch_update().updates_size() == 0) return;
    // A lost batch is harmless: every agent sends again within its sync interval.
    submit(ctx_, std::move(command), [](core::Result<state::ApplyResult>) {});
    command = proto::Command();
    ++commands;
  };
  for (auto& [key, bytes] : taken) {
    if (!command.mutable_coordinate_batch_update()->add_updates()->ParseFromString(bytes)) {
      continue;  // we serialized it ourselves: unreachable in practice
    }
    if (static_cast<std::size_t>(command.coordinate_batch_update().updates_size()) >=
        options_.batch_size) {
      send();
    }
  }
  send();
  return commands;
}

void coordinate_update(Context& ctx, CoordinateBatcher* batcher,
                       const proto::CoordinateUpdate& update, std::size_t dimensionality,
                       Done<bool> done) {
  if (auto st = validate_coordinate_update(update, dimensionality); !st) {
    return done(st.error());
  }
  if (batcher != nullptr) {
    if (auto st = batcher->add(update); !st) return done(st.error());
    return done(true);
  }
  proto::Command command;
  *command.mutable_coordinate_batch_update()->add_updates() = update;
  submit(ctx, std::move(command), [done = std::move(done)](core::Result<state::ApplyResult> r) {
    if (!r) return done(r.error());
    done(true);
  });
}

std::vector<DatacenterCoordinates> coordinate_datacenters(
    std::string_view local_datacenter, std::vector<WanServerCoordinate> servers) {
  std::map<std::string, DatacenterCoordinates> by_dc;
  by_dc[std::string(local_datacenter)].datacenter = std::string(local_datacenter);
  std::sort(servers.begin(), servers.end(),
            [](const auto& a, const auto& b) { return a.node < b.node; });
  for (auto& s : servers) {
    const std::string suffix = "." + s.datacenter;
    if (s.node.size() > suffix.size() && s.node.ends_with(suffix)) {
      s.node.resize(s.node.size() - suffix.size());
    }
    auto& dc = by_dc[s.datacenter];
    dc.datacenter = s.datacenter;
    dc.coordinates.push_back(std::move(s));
  }
  std::vector<DatacenterCoordinates> out;
  for (auto& [name, dc] : by_dc) out.push_back(std::move(dc));
  return out;
}

std::optional<gossip::Coordinate> node_coordinate(const state::Snapshot& snap,
                                                  std::string_view node) {
  const auto rows = snap.node_coordinates(node);
  if (rows.empty()) return std::nullopt;
  for (const auto& r : rows) {
    if (r.segment.empty()) return to_coordinate(r);
  }
  return to_coordinate(rows.front());
}

}  // namespace pc::endpoints
