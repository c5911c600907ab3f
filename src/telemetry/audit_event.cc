#include "telemetry/audit_event.h"

#include <cstdio>
#include <ctime>

namespace pc::telemetry {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void append_u_escape(std::string& out, unsigned code) {
  out += "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) out += kHex[(code >> shift) & 0xf];
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not one (overlong
// forms, surrogates and code points past U+10FFFF are invalid, as in Go's utf8 package).
std::size_t utf8_sequence(std::string_view s, std::size_t i, unsigned& code) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  unsigned min = 0;
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2, code = b0 & 0x1f, min = 0x80;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3, code = b0 & 0x0f, min = 0x800;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4, code = b0 & 0x07, min = 0x10000;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b & 0xc0) != 0x80) return 0;
    code = (code << 6) | (b & 0x3f);
  }
  if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return 0;
  return len;
}

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
  for (std::size_t i = 0; i < text.size();) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '<':
        case '>':
        case '&': append_u_escape(out, c); break;
        default:
          if (c < 0x20 || c == 0x7f) {
            append_u_escape(out, c);
          } else {
            out += static_cast<char>(c);
          }
      }
      ++i;
      continue;
    }
    unsigned code = 0;
    const std::size_t len = utf8_sequence(text, i, code);
    if (len == 0) {
      out += "\\ufffd";
      ++i;
    } else if (code == 0x2028 || code == 0x2029) {
      append_u_escape(out, code);
      i += len;
    } else {
      out.append(text.substr(i, len));
      i += len;
    }
  }
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
