#pragma once
// Private to state/: the coordinates table's apply functions (coordinates.cc), called from the
// registration table in commands.cc and from node deletion.
#include <string_view>

#include "state/detail/version.h"

namespace pc::state {

// Consul's CoordinateBatchUpdate: each update for a registered node replaces that node's
// coordinate in its segment; updates for unknown nodes or unusable coordinates are skipped
// (a node may be deregistered while its update waits in a batch), as Consul skips them.
ApplyResult apply_coordinate_batch_update(ApplyContext& ctx, const proto::Command& command);

// Drops every coordinate of a node (its lower-cased name) and moves the coordinates index if
// there was one (Consul's deleteNodeTxn).
void coordinates_delete_node(ApplyContext& ctx, std::string_view lower_node);

// Why a stored coordinate is unusable, or empty: 1 to 8 dimensions, finite, error and height
// not negative. The apply path and the snapshot reader share it.
std::string coordinate_row_problem(const CoordinateRow& row);

}  // namespace pc::state
