// The JSON Lines history decoder (lincheck/jsonl.h): every field, and refusals that name
// the line.
#include "lincheck/jsonl.h"

#include <gtest/gtest.h>

#include "lincheck/history_writer.h"

namespace pc::lincheck {
namespace {

TEST(HistoryJsonl, DecodesEveryField) {
  auto h = parse_history_jsonl(
      R"({"process": 3, "type": "write", "key": "k1", "value": "v17", "ok": true, "call": 10, "return": 20})"
      "\n\n"
      R"({"process": 4, "type": "read", "key": "k1", "value": null, "ok": true, "mode": "stale", "index": 1234, "call": 30, "return": 40, "extra": [1]})"
      "\r\n"
      R"({"process": 5, "type": "cas", "key": "k2", "value": "v2", "expected": null, "ok": "unknown", "call": 1700000000123456789, "return": null})"
      "\n"
      R"({"process": 6, "type": "cas", "key": "k2", "value": "v3", "expected": "v2", "ok": false, "call": 50, "return": 60})");
  ASSERT_TRUE(h.has_value()) << h.error().message;
  ASSERT_EQ(h->size(), 4u);
  const Operation& w = (*h)[0];
  EXPECT_EQ(w.process, 3u);
  EXPECT_EQ(w.type, OpType::kWrite);
  EXPECT_EQ(w.key, "k1");
  EXPECT_EQ(w.value, "v17");
  EXPECT_EQ(w.outcome, Outcome::kOk);
  EXPECT_EQ(w.call_ns, 10u);
  EXPECT_EQ(w.return_ns, 20u);
  EXPECT_EQ(w.line, 1u);
  const Operation& r = (*h)[1];
  EXPECT_EQ(r.type, OpType::kRead);
  EXPECT_FALSE(r.value.has_value());
  EXPECT_EQ(r.mode, ReadMode::kStale);
  EXPECT_EQ(r.index, 1234u);
  EXPECT_EQ(r.line, 3u);
  const Operation& c = (*h)[2];
  EXPECT_EQ(c.type, OpType::kCas);
  EXPECT_FALSE(c.expected.has_value());
  EXPECT_EQ(c.outcome, Outcome::kUnknown);
  EXPECT_EQ(c.call_ns, 1700000000123456789u);
  EXPECT_FALSE(c.return_ns.has_value());
  EXPECT_EQ((*h)[3].outcome, Outcome::kFailed);
  EXPECT_EQ((*h)[3].expected, "v2");
}

TEST(HistoryJsonl, UnknownOutcomeIgnoresAReturnTime) {
  auto h = parse_history_jsonl(
      R"({"process": 1, "type": "write", "key": "k", "value": "v", "ok": "unknown", "call": 5, "return": 9})");
  ASSERT_TRUE(h.has_value()) << h.error().message;
  EXPECT_FALSE(h->at(0).return_ns.has_value());
}

TEST(HistoryJsonl, UnknownReadMayOmitItsValue) {
  auto h = parse_history_jsonl(
      R"({"process": 1, "type": "read", "key": "k", "ok": "unknown", "call": 5, "return": null})");
  ASSERT_TRUE(h.has_value()) << h.error().message;
}

TEST(HistoryJsonl, WriterOutputDecodesToTheSameHistory) {
  History h(4);
  h[0].type = OpType::kWrite;
  h[0].key = "k \"quoted\"\n";
  h[0].value = "v1";
  h[0].call_ns = 1;
  h[0].return_ns = 2;
  h[1].type = OpType::kCas;
  h[1].key = "k";
  h[1].value = "v2";
  h[1].outcome = Outcome::kUnknown;
  h[1].call_ns = 3;
  h[2].type = OpType::kRead;
  h[2].key = "k";
  h[2].mode = ReadMode::kStale;
  h[2].index = 42;
  h[2].call_ns = 4;
  h[2].return_ns = 5;
  h[3].type = OpType::kCas;
  h[3].key = "k";
  h[3].expected = "v1";
  h[3].value = "v3";
  h[3].outcome = Outcome::kFailed;
  h[3].process = 9;
  h[3].call_ns = 6;
  h[3].return_ns = 7;
  auto back = parse_history_jsonl(encode_history_jsonl(h));
  ASSERT_TRUE(back.has_value()) << back.error().message;
  ASSERT_EQ(back->size(), h.size());
  for (std::size_t i = 0; i < h.size(); ++i) {
    const Operation& a = h[i];
    const Operation& b = (*back)[i];
    EXPECT_EQ(a.process, b.process);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.key, b.key);
    EXPECT_EQ(a.value, b.value);
    EXPECT_EQ(a.expected, b.expected);
    EXPECT_EQ(a.outcome, b.outcome);
    EXPECT_EQ(a.mode, b.mode);
    EXPECT_EQ(a.index, b.index);
    EXPECT_EQ(a.call_ns, b.call_ns);
    EXPECT_EQ(a.return_ns, b.return_ns);
  }
}

void expect_refused(const std::string& text, const std::string& fragment) {
  auto h = parse_history_jsonl(text);
  ASSERT_FALSE(h.has_value()) << text;
  EXPECT_EQ(h.error().code, core::Code::kInvalidArgument);
  EXPECT_NE(h.error().message.find(fragment), std::string::npos) << h.error().message;
}

TEST(HistoryJsonl, RefusalsNameTheLine) {
  const std::string good =
      R"({"process": 1, "type": "write", "key": "k", "value": "v", "ok": true, "call": 1, "return": 2})"
      "\n";
  expect_refused(good + "{not json\n", "line 2: not JSON");
  expect_refused(good + "[1]\n", "line 2: not a JSON object");
  expect_refused(
      R"({"process": -1, "type": "write", "key": "k", "value": "v", "ok": true, "call": 1, "return": 2})",
      "line 1: \"process\"");
  expect_refused(
      R"({"process": 1, "type": "append", "key": "k", "value": "v", "ok": true, "call": 1, "return": 2})",
      "\"type\"");
  expect_refused(
      R"({"process": 1, "type": "write", "value": "v", "ok": true, "call": 1, "return": 2})",
      "\"key\"");
  expect_refused(
      R"({"process": 1, "type": "write", "key": "k", "ok": true, "call": 1, "return": 2})",
      "\"value\" is missing");
  expect_refused(
      R"({"process": 1, "type": "write", "key": "k", "value": 3, "ok": true, "call": 1, "return": 2})",
      "\"value\" must be");
  expect_refused(
      R"({"process": 1, "type": "cas", "key": "k", "value": "v", "ok": true, "call": 1, "return": 2})",
      "\"expected\"");
  expect_refused(
      R"({"process": 1, "type": "write", "key": "k", "value": "v", "expected": "x", "ok": true, "call": 1, "return": 2})",
      "only a cas");
  expect_refused(
      R"({"process": 1, "type": "write", "key": "k", "value": "v", "ok": "maybe", "call": 1, "return": 2})",
      "\"ok\"");
  expect_refused(
      R"({"process": 1, "type": "read", "key": "k", "value": "v", "ok": true, "mode": "fast", "call": 1, "return": 2})",
      "\"mode\"");
  expect_refused(
      R"({"process": 1, "type": "read", "key": "k", "value": "v", "ok": true, "index": 1.5, "call": 1, "return": 2})",
      "\"index\"");
  expect_refused(
      R"({"process": 1, "type": "write", "key": "k", "value": "v", "ok": true, "call": 1, "return": null})",
      "\"return\" may be null only");
  expect_refused(
      R"({"process": 1, "type": "write", "key": "k", "value": "v", "ok": true, "call": 5, "return": 2})",
      "before");
  expect_refused(
      R"({"process": 1, "type": "write", "key": "k", "value": "v", "ok": true, "return": 2})",
      "\"call\"");
}

}  // namespace
}  // namespace pc::lincheck
