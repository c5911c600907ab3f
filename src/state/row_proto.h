#pragma once
// Catalog rows as their protobuf messages (proto/commands.proto): what a registration command
// carries and what a state snapshot stores, written in one place so the two never drift.
#include "proto/commands.pb.h"
#include "state/types.h"

namespace pc::state {

// Every field, Weights included (a stored row says what it holds; absent would mean Consul's
// default {1, 1}).
void to_proto(const Service& s, proto::Service* out);
void to_proto(const HealthCheck& c, proto::HealthCheck* out);

}  // namespace pc::state
