#pragma once
// Prepared queries as their protobuf messages (proto/commands.proto): the command, the snapshot
// row and the cross-datacenter execute request carry the same message, converted here only.
// Indexes are not in the message.
#include "proto/commands.pb.h"
#include "state/query_types.h"

namespace pc::state {

void to_proto(const PreparedQuery& q, proto::PreparedQuery* out);
PreparedQuery from_proto(const proto::PreparedQuery& m);

}  // namespace pc::state
