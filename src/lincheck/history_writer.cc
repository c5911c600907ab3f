// JSON Lines encoding of a history (lincheck/history_writer.h).
#include "lincheck/history_writer.h"

#include <fmt/core.h>

namespace pc::lincheck {
namespace {

std::string quote(const std::string& s) {
  std::string out = "\"";
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += ch;
    } else if (c < 0x20) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += ch;
    }
  }
  return out + "\"";
}

std::string value(const Value& v) {
  return v ? quote(*v) : std::string("null");
}

}  // namespace

std::string encode_history_jsonl(const History& history) {
  std::string out;
  for (const Operation& op : history) {
    const char* type = op.type == OpType::kWrite  ? "write"
                       : op.type == OpType::kRead ? "read"
                                                  : "cas";
    out += fmt::format(R"({{"process": {}, "type": "{}", "key": {}, "value": {})", op.process, type,
                       quote(op.key), value(op.value));
    if (op.type == OpType::kCas) out += fmt::format(R"(, "expected": {})", value(op.expected));
    out += op.outcome == Outcome::kOk       ? R"(, "ok": true)"
           : op.outcome == Outcome::kFailed ? R"(, "ok": false)"
                                            : R"(, "ok": "unknown")";
    if (op.type == OpType::kRead) {
      out += op.mode == ReadMode::kStale        ? R"(, "mode": "stale")"
             : op.mode == ReadMode::kConsistent ? R"(, "mode": "consistent")"
                                                : "";
      if (op.index) out += fmt::format(R"(, "index": {})", *op.index);
      if (!op.server.empty()) out += R"(, "server": )" + quote(op.server);
    }
    out +=
        fmt::format(R"(, "call": {}, "return": {}}})", op.call_ns,
                    op.return_ns && op.outcome != Outcome::kUnknown ? std::to_string(*op.return_ns)
                                                                    : std::string("null"));
    out += '\n';
  }
  return out;
}

}  // namespace pc::lincheck
