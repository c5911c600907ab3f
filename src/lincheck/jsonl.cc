// Decoding the JSON Lines history (lincheck/jsonl.h) with Boost.JSON, without exceptions.
#include "lincheck/jsonl.h"

#include <fmt/core.h>

#include <boost/json.hpp>

namespace pc::lincheck {
namespace {

namespace json = boost::json;

core::Error bad(std::size_t line, std::string_view what) {
  return core::make_error(core::Code::kInvalidArgument, fmt::format("line {}: {}", line, what));
}

// A non-negative integer (JSON numbers with a fraction or sign are refused).
std::optional<std::uint64_t> as_u64(const json::value& v) {
  if (v.is_uint64()) return v.get_uint64();
  if (v.is_int64() && v.get_int64() >= 0) return static_cast<std::uint64_t>(v.get_int64());
  return std::nullopt;
}

// A string or null; `present` false when the field is missing.
struct MaybeValue {
  bool present = false;
  bool valid = true;
  Value value;
};

MaybeValue value_field(const json::object& o, std::string_view name) {
  MaybeValue out;
  const json::value* v = o.if_contains(name);
  if (v == nullptr) return out;
  out.present = true;
  if (v->is_string()) {
    out.value = std::string(v->get_string());
  } else if (!v->is_null()) {
    out.valid = false;
  }
  return out;
}

core::Status parse_type(const json::object& o, std::size_t line, Operation& op) {
  const json::value* v = o.if_contains("type");
  if (v == nullptr || !v->is_string()) return bad(line, "\"type\" must be a string");
  const json::string& t = v->get_string();
  if (t == "write") {
    op.type = OpType::kWrite;
  } else if (t == "read") {
    op.type = OpType::kRead;
  } else if (t == "cas") {
    op.type = OpType::kCas;
  } else {
    return bad(line, "\"type\" must be \"write\", \"read\" or \"cas\"");
  }
  return core::ok();
}

core::Status parse_outcome(const json::object& o, std::size_t line, Operation& op) {
  const json::value* v = o.if_contains("ok");
  if (v != nullptr && v->is_bool()) {
    op.outcome = v->get_bool() ? Outcome::kOk : Outcome::kFailed;
  } else if (v != nullptr && v->is_string() && v->get_string() == "unknown") {
    op.outcome = Outcome::kUnknown;
  } else {
    return bad(line, "\"ok\" must be true, false or \"unknown\"");
  }
  return core::ok();
}

core::Status parse_values(const json::object& o, std::size_t line, Operation& op) {
  MaybeValue value = value_field(o, "value");
  if (!value.valid) return bad(line, "\"value\" must be a string or null");
  // An unknown or failed read saw nothing, so it may leave "value" out.
  bool read_saw_nothing = op.type == OpType::kRead && op.outcome != Outcome::kOk;
  if (!value.present && !read_saw_nothing) return bad(line, "\"value\" is missing");
  op.value = std::move(value.value);
  MaybeValue expected = value_field(o, "expected");
  if (op.type == OpType::kCas) {
    if (!expected.present) return bad(line, "a cas needs \"expected\"");
    if (!expected.valid) return bad(line, "\"expected\" must be a string or null");
    op.expected = std::move(expected.value);
  } else if (expected.present) {
    return bad(line, "only a cas has \"expected\"");
  }
  return core::ok();
}

core::Status parse_read_fields(const json::object& o, std::size_t line, Operation& op) {
  if (const json::value* v = o.if_contains("mode"); v != nullptr) {
    if (op.type != OpType::kRead) return bad(line, "only a read has \"mode\"");
    const json::string* m = v->if_string();
    if (m != nullptr && *m == "default") {
      op.mode = ReadMode::kDefault;
    } else if (m != nullptr && *m == "consistent") {
      op.mode = ReadMode::kConsistent;
    } else if (m != nullptr && *m == "stale") {
      op.mode = ReadMode::kStale;
    } else {
      return bad(line, "\"mode\" must be \"default\", \"consistent\" or \"stale\"");
    }
  }
  if (const json::value* v = o.if_contains("index"); v != nullptr && !v->is_null()) {
    op.index = as_u64(*v);
    if (!op.index) return bad(line, "\"index\" must be a non-negative integer");
  }
  if (const json::value* v = o.if_contains("server"); v != nullptr && !v->is_null()) {
    if (!v->is_string()) return bad(line, "\"server\" must be a string");
    op.server = std::string(v->as_string());
  }
  return core::ok();
}

core::Status parse_times(const json::object& o, std::size_t line, Operation& op) {
  const json::value* call = o.if_contains("call");
  std::optional<std::uint64_t> call_ns = call != nullptr ? as_u64(*call) : std::nullopt;
  if (!call_ns) return bad(line, "\"call\" must be a non-negative integer (nanoseconds)");
  op.call_ns = *call_ns;
  const json::value* ret = o.if_contains("return");
  if (ret == nullptr || ret->is_null()) {
    if (op.outcome != Outcome::kUnknown) {
      return bad(line, "\"return\" may be null only when \"ok\" is \"unknown\"");
    }
    return core::ok();
  }
  op.return_ns = as_u64(*ret);
  if (!op.return_ns) return bad(line, "\"return\" must be a non-negative integer or null");
  // An unknown operation may still take effect after the client gave up: its return time
  // bounds nothing, so it is ignored.
  if (op.outcome == Outcome::kUnknown) op.return_ns.reset();
  if (op.return_ns && *op.return_ns < op.call_ns) return bad(line, "\"return\" is before \"call\"");
  return core::ok();
}

core::Result<Operation> parse_line(std::string_view text, std::size_t line) {
  boost::system::error_code ec;
  json::value doc = json::parse(text, ec);
  if (ec) return bad(line, "not JSON: " + ec.message());
  const json::object* o = doc.if_object();
  if (o == nullptr) return bad(line, "not a JSON object");
  Operation op;
  op.line = line;
  const json::value* process = o->if_contains("process");
  std::optional<std::uint64_t> p = process != nullptr ? as_u64(*process) : std::nullopt;
  if (!p) return bad(line, "\"process\" must be a non-negative integer");
  op.process = *p;
  const json::value* key = o->if_contains("key");
  if (key == nullptr || !key->is_string()) return bad(line, "\"key\" must be a string");
  op.key = std::string(key->get_string());
  if (auto st = parse_type(*o, line, op); !st) return st.error();
  if (auto st = parse_outcome(*o, line, op); !st) return st.error();
  if (auto st = parse_values(*o, line, op); !st) return st.error();
  if (auto st = parse_read_fields(*o, line, op); !st) return st.error();
  if (auto st = parse_times(*o, line, op); !st) return st.error();
  return op;
}

}  // namespace

core::Result<History> parse_history_jsonl(std::string_view text) {
  History history;
  std::size_t line = 0;
  while (!text.empty()) {
    ++line;
    std::size_t end = text.find('\n');
    std::string_view row = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (!row.empty() && row.back() == '\r') row.remove_suffix(1);
    if (row.find_first_not_of(" \t") == std::string_view::npos) continue;
    if (row.size() > history_line_size_max) return bad(line, "line too long");
    if (history.size() == history_ops_max) {
      return bad(line, fmt::format("more than {} operations", history_ops_max));
    }
    auto op = parse_line(row, line);
    if (!op) return op.error();
    history.push_back(std::move(*op));
  }
  return history;
}

}  // namespace pc::lincheck
