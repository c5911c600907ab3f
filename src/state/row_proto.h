#pragma once
// Catalog rows as their protobuf messages (proto/commands.proto, proto/snapshot.proto): what a
// registration command carries and what a state snapshot stores, written in one place so the
// two never drift.
#include <string>
#include <vector>

#include "proto/commands.pb.h"
#include "proto/snapshot.pb.h"
#include "state/types.h"

namespace pc::state {

// Every field, Weights included (a stored row says what it holds; absent would mean Consul's
// default {1, 1}).
void to_proto(const Service& s, proto::Service* out);
void to_proto(const HealthCheck& c, proto::HealthCheck* out);

// Stored rows with their indexes, as a state snapshot holds them and a server sends a client
// agent its node's rows (row_from moves the strings out of `m`).
void fill(proto::NodeRow& m, const Node& n);
void fill(proto::ServiceRow& m, const Service& s);
void fill(proto::CheckRow& m, const HealthCheck& c);
Node row_from(proto::NodeRow& m);
Service row_from(proto::ServiceRow& m);
HealthCheck row_from(proto::CheckRow& m);

// Moving decoded fields out of a message that is consumed anyway.
inline std::string take_field(std::string* s) {
  return std::move(*s);
}
std::vector<std::string> take_list(google::protobuf::RepeatedPtrField<std::string>* in);

}  // namespace pc::state
