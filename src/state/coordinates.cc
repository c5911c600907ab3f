// The coordinates table (Consul's agent/consul/state/coordinate.go): one row per node and
// network segment, written by CoordinateBatchUpdate commands and dropped with the node.
#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "core/strings.h"
#include "proto/commands.pb.h"
#include "state/detail/coordinates.h"

namespace pc::state {

namespace {
// Gossip's bound on dimensions (gossip/core/coordinate.h kCoordinateDimensionalityMax, which
// state may not include): the state refuses nothing a gossip pool could produce.
constexpr std::size_t kCoordinateDimensionsMax = 8;

CoordinateRow row_from_update(const proto::CoordinateUpdate& u) {
  CoordinateRow row;
  row.node = u.node();
  row.segment = u.segment();
  row.vec.assign(u.vec().begin(), u.vec().end());
  row.error = u.error();
  row.adjustment = u.adjustment();
  row.height = u.height();
  return row;
}

bool same_coordinate(const CoordinateRow& a, const CoordinateRow& b) {
  return a.node == b.node && a.vec == b.vec && a.error == b.error && a.adjustment == b.adjustment &&
         a.height == b.height;
}
}  // namespace

std::string coordinate_row_problem(const CoordinateRow& row) {
  if (row.node.empty()) return "no node";
  if (row.vec.empty() || row.vec.size() > kCoordinateDimensionsMax) {
    return "a coordinate of " + std::to_string(row.vec.size()) + " dimensions";
  }
  for (double x : row.vec) {
    if (!std::isfinite(x)) return "a non-finite coordinate";
  }
  if (!std::isfinite(row.error) || !std::isfinite(row.adjustment) || !std::isfinite(row.height)) {
    return "a non-finite coordinate";
  }
  if (row.error < 0 || row.height < 0) return "a negative error or height";
  return {};
}

ApplyResult apply_coordinate_batch_update(ApplyContext& ctx, const proto::Command& command) {
  bool changed = false;
  for (const proto::CoordinateUpdate& u : command.coordinate_batch_update().updates()) {
    CoordinateRow row = row_from_update(u);
    if (!coordinate_row_problem(row).empty()) continue;
    const std::string lower = core::to_lower(row.node);
    if (ctx.v.nodes.find(lower) == nullptr) continue;
    const std::string key = composite_key(lower, row.segment);
    if (const CoordinateRow* old = ctx.v.coordinates.find(key);
        old != nullptr && same_coordinate(*old, row)) {
      continue;
    }
    row.modify_index = ctx.index;
    ctx.v.coordinates = ctx.v.coordinates.set(key, std::move(row));
    changed = true;
  }
  // Identical updates move no index and wake nobody (the rest of the store's rule); Consul
  // bumps the index on every batch, which only wakes readers to the same answer.
  if (changed) {
    ctx.v.table_indexes[static_cast<std::size_t>(Table::kCoordinates)] = ctx.index;
    ctx.changes.table(Table::kCoordinates);
  }
  return ApplyResult{};
}

void coordinates_delete_node(ApplyContext& ctx, std::string_view lower_node) {
  std::vector<std::string> keys;
  ctx.v.coordinates.scan_prefix(composite_prefix(lower_node), [&](const auto& e) {
    keys.push_back(e.key);
    return true;
  });
  if (keys.empty()) return;
  for (const auto& k : keys) ctx.v.coordinates = ctx.v.coordinates.erase(k);
  ctx.v.table_indexes[static_cast<std::size_t>(Table::kCoordinates)] = ctx.index;
  ctx.changes.table(Table::kCoordinates);
}

// ---- Reads ----

std::vector<CoordinateRow> Snapshot::coordinates() const {
  std::vector<CoordinateRow> out;
  const auto& v = VersionAccess::of(*this);
  if (!v) return out;
  for (const auto& e : v->coordinates) out.push_back(e.value);
  return out;
}

std::vector<CoordinateRow> Snapshot::node_coordinates(std::string_view node) const {
  std::vector<CoordinateRow> out;
  const auto& v = VersionAccess::of(*this);
  if (!v) return out;
  v->coordinates.scan_prefix(composite_prefix(core::to_lower(node)), [&](const auto& e) {
    out.push_back(e.value);
    return true;
  });
  return out;
}

}  // namespace pc::state
