#include "telemetry/audit_event.h"

#include <gtest/gtest.h>

namespace pc::telemetry {
namespace {

core::WallTime at_ns(std::int64_t ns) {
  return core::WallTime(
      std::chrono::duration_cast<core::WallTime::duration>(std::chrono::nanoseconds(ns)));
}

std::string json_quoted(std::string_view s) {
  std::string out;
  append_json_string(out, s);
  return out;
}

TEST(AuditJson, EscapesAsGoEncodingJson) {
  EXPECT_EQ(json_quoted("plain/v1/kv"), "\"plain/v1/kv\"");
  EXPECT_EQ(json_quoted("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(json_quoted("\n\r\t"), "\"\\n\\r\\t\"");
  // DEL is in Go's safe set; \b and \f have short forms (Go 1.22 and later).
  EXPECT_EQ(json_quoted(std::string("\x01\x1f\x7f", 3)), "\"\\u0001\\u001f\x7f\"");
  EXPECT_EQ(json_quoted("\b\f"), "\"\\b\\f\"");
  EXPECT_EQ(json_quoted("<a>&"), "\"\\u003ca\\u003e\\u0026\"");
  EXPECT_EQ(json_quoted("caf\xc3\xa9"), "\"caf\xc3\xa9\"");  // valid UTF-8 passes through
  EXPECT_EQ(json_quoted("\xe2\x80\xa8\xe2\x80\xa9"), "\"\\u2028\\u2029\"");
  // Invalid bytes, an overlong form and a surrogate each become U+FFFD per byte.
  EXPECT_EQ(json_quoted("a\xff"), "\"a\\ufffd\"");
  EXPECT_EQ(json_quoted("\xc0\xaf"), "\"\\ufffd\\ufffd\"");
  EXPECT_EQ(json_quoted("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
  EXPECT_EQ(json_quoted("\xe2\x82"), "\"\\ufffd\\ufffd\"");  // truncated sequence
  EXPECT_EQ(json_quoted(std::string("\0", 1)), "\"\\u0000\"");
}

TEST(AuditJson, Rfc3339NanoTrimsZerosInUtc) {
  EXPECT_EQ(format_rfc3339_nano(at_ns(0)), "1970-01-01T00:00:00Z");
  EXPECT_EQ(format_rfc3339_nano(at_ns(1'800'000'000'123'456'789)),
            "2027-01-15T08:00:00.123456789Z");
  EXPECT_EQ(format_rfc3339_nano(at_ns(1'800'000'000'120'000'000)), "2027-01-15T08:00:00.12Z");
}

AuditEvent sample() {
  AuditEvent e;
  e.id = "6a1c4c6e-0000-4000-8000-000000000001";
  e.timestamp = at_ns(1'800'000'000'000'000'000);
  e.accessor_id = "acc-1";
  e.description = "ops \"team\"";
  e.token_create_time_unix_ns = 1'700'000'000'000'000'000;
  e.operation = "GET";
  e.endpoint = "/v1/kv/a";
  e.remote_addr = "127.0.0.1:5000";
  e.user_agent = "curl/8";
  e.host = "127.0.0.1:8500";
  return e;
}

TEST(AuditEventRender, StartEventShape) {
  AuditEvent e = sample();
  e.query_params = {{"recurse", ""}, {"token", "s3cret"}, {"dc", "dc1"}, {"dc", "dc2"}};
  const std::string line = render_audit_event(e, at_ns(1'800'000'000'500'000'000));
  EXPECT_EQ(line,
            "{\"created_at\":\"2027-01-15T08:00:00.5Z\",\"event_type\":\"audit\",\"payload\":{"
            "\"id\":\"6a1c4c6e-0000-4000-8000-000000000001\",\"version\":\"1\",\"type\":"
            "\"HTTPEvent\",\"timestamp\":\"2027-01-15T08:00:00Z\",\"auth\":{\"accessor_id\":"
            "\"acc-1\",\"description\":\"ops \\\"team\\\"\",\"create_time\":"
            "\"2023-11-14T22:13:20Z\"},\"request\":{\"operation\":\"GET\",\"endpoint\":"
            "\"/v1/kv/a\",\"remote_addr\":\"127.0.0.1:5000\",\"user_agent\":\"curl/8\","
            "\"host\":\"127.0.0.1:8500\",\"query_params\":{\"recurse\":[\"\"],\"dc\":[\"dc1\","
            "\"dc2\"]}},\"stage\":\"OperationStart\"}}\n");
  EXPECT_EQ(line.find("s3cret"), std::string::npos);
  EXPECT_EQ(line.find("token"), std::string::npos);
}

TEST(AuditEventRender, CompletionCarriesStatusAsText) {
  AuditEvent e = sample();
  e.stage = AuditStage::kOperationComplete;
  e.status = 403;
  e.token_create_time_unix_ns = 0;
  const std::string line = render_audit_event(e, e.timestamp);
  EXPECT_NE(line.find(",\"response\":{\"status\":\"403\"},\"stage\":\"OperationComplete\"}}\n"),
            std::string::npos)
      << line;
  EXPECT_EQ(line.find("create_time"), std::string::npos);
  EXPECT_EQ(line.find("query_params"), std::string::npos);
  EXPECT_EQ(line.find('\n'), line.size() - 1);  // one line per event
}

}  // namespace
}  // namespace pc::telemetry
