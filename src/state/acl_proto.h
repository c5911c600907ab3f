#pragma once
// ACL rows as their protobuf messages (proto/commands.proto): what a command carries and what
// a state snapshot stores, converted in one place so the two never drift. Indexes are not in
// the messages: commands get them from the log, snapshot rows carry them beside the message.
#include "proto/commands.pb.h"
#include "state/acl_types.h"

namespace pc::state {

void to_proto(const AclToken& t, proto::AclToken* out);
void to_proto(const AclPolicy& p, proto::AclPolicy* out);
void to_proto(const AclRole& r, proto::AclRole* out);

AclToken from_proto(const proto::AclToken& m);
AclPolicy from_proto(const proto::AclPolicy& m);
AclRole from_proto(const proto::AclRole& m);

}  // namespace pc::state
