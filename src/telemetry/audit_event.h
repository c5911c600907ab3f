#pragma once
// One audit event as Consul Enterprise writes it (one JSON object per line):
//
//   {"created_at":"<RFC 3339>","event_type":"audit","payload":{"id":"<uuid>","version":"1",
//    "type":"HTTPEvent","timestamp":"<RFC 3339>","auth":{"accessor_id":..,"description":..,
//    "create_time":..},"request":{"operation":"GET","endpoint":"/v1/kv/a","remote_addr":..,
//    "user_agent":..,"host":..,"query_params":{"recurse":[""]}},"response":{"status":"200"},
//    "stage":"OperationStart"|"OperationComplete"}}
//
// The start and the completion of one request share `id`. Only the completion carries
// `response`. The token's secret is never a field: callers pass query parameters with `token`
// already removed, and render_audit_event drops a `token` parameter again in case one slips
// through. Plain data; render_audit_event is a pure function, safe from any thread.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/clock.h"

namespace pc::telemetry {

enum class AuditStage { kOperationStart, kOperationComplete };

struct AuditEvent {
  std::string id;  // one UUID per request, shared by its two events
  AuditStage stage = AuditStage::kOperationStart;
  core::WallTime timestamp;
  // auth: who the request's token is. create_time is omitted when unknown (0).
  std::string accessor_id;
  std::string description;
  std::int64_t token_create_time_unix_ns = 0;
  // request
  std::string operation;  // the HTTP method
  std::string endpoint;   // the decoded path
  std::string remote_addr;
  std::string user_agent;
  std::string host;
  std::vector<std::pair<std::string, std::string>> query_params;  // in request order
  // response: the HTTP status; set on completions whose answer is known.
  std::optional<int> status;
};

// The event as one JSON line, ending in '\n'. `created_at` is when the line was made.
std::string render_audit_event(const AuditEvent& event, core::WallTime created_at);

// Go's time.RFC3339Nano in UTC ("2026-11-28T03:46:12.123456789Z", trailing zeros of the
// fraction dropped), as Go's encoding/json writes a time.Time.
std::string format_rfc3339_nano(core::WallTime t);

// Appends `text` as a JSON string literal, quoted, the way Go's encoding/json writes one
// (core::append_json_escaped).
void append_json_string(std::string& out, std::string_view text);

}  // namespace pc::telemetry
