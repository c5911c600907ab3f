// GET /v1/acl/replication (Consul's ACLReplicationStatus): no token needed, as in Consul,
// since it shows no ACL data and health checks poll it; 401 while ACLs are off.
#include "endpoints/acl_replication.h"
#include "http/acl_auth.h"
#include "http/handlers/acl_json.h"
#include "http/handlers/handlers.h"

namespace pc::http::handlers {
namespace {

// Go's zero time.Time, which Consul shows before the first success or error.
constexpr std::string_view kZeroTime = "0001-01-01T00:00:00Z";

// Consul rounds these times to the second.
std::string status_time(const std::optional<std::int64_t>& unix_ns) {
  if (!unix_ns) return std::string(kZeroTime);
  constexpr std::int64_t kSecond = 1'000'000'000;
  return rfc3339_nano((*unix_ns + kSecond / 2) / kSecond * kSecond);
}

}  // namespace

void acl_replication(endpoints::Context& ctx, const Request& /*req*/, Reply reply) {
  auto status = endpoints::acl_replication_status(ctx);
  if (!status) return reply(acl_error_response(status.error()));
  JsonWriter w;
  w.begin_object();
  w.bool_field("Enabled", status->enabled);
  w.bool_field("Running", status->running);
  w.string_field("SourceDatacenter", status->source_datacenter);
  w.string_field("ReplicationType", status->replication_type);
  w.number_field("ReplicatedIndex", status->replicated_index);
  w.number_field("ReplicatedRoleIndex", status->replicated_role_index);
  w.number_field("ReplicatedTokenIndex", status->replicated_token_index);
  w.string_field("LastSuccess", status_time(status->last_success_unix_ns));
  w.string_field("LastError", status_time(status->last_error_unix_ns));
  w.string_field("LastErrorMessage", status->last_error_message);
  w.end_object();
  reply(Response::json(w.take()));
}

}  // namespace pc::http::handlers
