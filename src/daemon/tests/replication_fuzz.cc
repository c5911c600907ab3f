// Method 21's payloads from the network (replication_plan.h): the first byte picks request or
// reply; decoding never crashes, and what is accepted re-encodes to something accepted again.
// An accepted reply is also planned against an empty state, as a secondary would.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/assert.h"
#include "daemon/replication_plan.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data + 1), size - 1);
  if (data[0] % 2 == 0) {
    auto req = pc::daemon::decode_replication_request(bytes);
    if (req) {
      PC_ASSERT(pc::daemon::decode_replication_request(req->SerializeAsString()).has_value(),
                "an accepted replication request does not re-decode");
    }
    return 0;
  }
  auto reply = pc::daemon::decode_replication_reply(bytes);
  if (!reply) return 0;
  PC_ASSERT(pc::daemon::decode_replication_reply(reply->SerializeAsString()).has_value(),
            "an accepted replication reply does not re-decode");
  pc::state::Store store;
  for (const auto& kind : {pc::daemon::acl_policies_kind(), pc::daemon::acl_roles_kind(),
                           pc::daemon::acl_tokens_kind()}) {
    (void)kind.plan(store.snapshot(), *reply, pc::daemon::BatchLimits{});
  }
  return 0;
}
