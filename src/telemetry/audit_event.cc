#include "telemetry/audit_event.h"

#include <cstdio>
#include <ctime>

#include "core/strings.h"

namespace pc::telemetry {
namespace {

void append_field(std::string& out, std::string_view name, std::string_view value) {
  append_json_string(out, name);
  out += ':';
  append_json_string(out, value);
}

void append_auth(std::string& out, const AuditEvent& e) {
  out += "\"auth\":{";
  append_field(out, "accessor_id", e.accessor_id);
  out += ',';
  append_field(out, "description", e.description);
  if (e.token_create_time_unix_ns != 0) {
    out += ',';
    append_field(
        out, "create_time",
        format_rfc3339_nano(core::WallTime(std::chrono::duration_cast<core::WallTime::duration>(
            std::chrono::nanoseconds(e.token_create_time_unix_ns)))));
  }
  out += '}';
}

// query_params as Go's url.Values marshals: each name once, with its values in order.
void append_query(std::string& out, const AuditEvent& e) {
  std::vector<std::string_view> names;
  for (const auto& [k, v] : e.query_params) {
    if (k == "token") continue;  // the secret never reaches the log
    bool seen = false;
    for (std::string_view n : names) seen = seen || n == k;
    if (!seen) names.push_back(k);
  }
  if (names.empty()) return;
  out += ",\"query_params\":{";
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += ',';
    append_json_string(out, names[i]);
    out += ":[";
    bool first = true;
    for (const auto& [k, v] : e.query_params) {
      if (k != names[i]) continue;
      if (!first) out += ',';
      first = false;
      append_json_string(out, v);
    }
    out += ']';
  }
  out += '}';
}

void append_request(std::string& out, const AuditEvent& e) {
  out += "\"request\":{";
  append_field(out, "operation", e.operation);
  out += ',';
  append_field(out, "endpoint", e.endpoint);
  out += ',';
  append_field(out, "remote_addr", e.remote_addr);
  out += ',';
  append_field(out, "user_agent", e.user_agent);
  out += ',';
  append_field(out, "host", e.host);
  append_query(out, e);
  out += '}';
}

}  // namespace

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  core::append_json_escaped(out, text);
  out += '"';
}

std::string format_rfc3339_nano(core::WallTime t) {
  const auto since_epoch =
      std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch());
  std::int64_t secs = since_epoch.count() / 1'000'000'000;
  std::int64_t nanos = since_epoch.count() % 1'000'000'000;
  if (nanos < 0) {
    nanos += 1'000'000'000;
    --secs;
  }
  const std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  std::string out(buf, static_cast<std::size_t>(n));
  if (nanos != 0) {
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(nanos));
    std::string f(frac);
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  out += 'Z';
  return out;
}

std::string render_audit_event(const AuditEvent& e, core::WallTime created_at) {
  std::string out;
  out.reserve(512);
  out += '{';
  append_field(out, "created_at", format_rfc3339_nano(created_at));
  out += ',';
  append_field(out, "event_type", "audit");
  out += ",\"payload\":{";
  append_field(out, "id", e.id);
  out += ',';
  append_field(out, "version", "1");
  out += ',';
  append_field(out, "type", "HTTPEvent");
  out += ',';
  append_field(out, "timestamp", format_rfc3339_nano(e.timestamp));
  out += ',';
  append_auth(out, e);
  out += ',';
  append_request(out, e);
  if (e.status) {
    out += ",\"response\":{";
    append_field(out, "status", std::to_string(*e.status));
    out += '}';
  }
  out += ',';
  append_field(out, "stage",
               e.stage == AuditStage::kOperationStart ? "OperationStart" : "OperationComplete");
  out += "}}\n";
  return out;
}

}  // namespace pc::telemetry
