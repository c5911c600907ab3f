#include "http/json/writer.h"

#include <charconv>
#include <cmath>

#include "core/assert.h"
#include "core/strings.h"

namespace pc::http {
void JsonWriter::newline_indent() {
  out_.push_back('\n');
  out_.append(static_cast<std::size_t>(depth_) * 4, ' ');
}

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (need_comma_) out_.push_back(',');
  if (pretty_ && depth_ > 0) newline_indent();
}

void JsonWriter::open(char c) {
  before_value();
  out_.push_back(c);
  ++depth_;
  need_comma_ = false;
}

void JsonWriter::close(char c) {
  PC_DASSERT(depth_ > 0 && !after_key_, "unbalanced JSON close");
  --depth_;
  if (pretty_ && need_comma_) newline_indent();
  out_.push_back(c);
  need_comma_ = true;
}

void JsonWriter::key(std::string_view name) {
  PC_DASSERT(depth_ > 0 && !after_key_, "JSON key outside an object");
  before_value();
  out_.push_back('"');
  core::append_json_escaped(out_, name);
  out_ += pretty_ ? "\": " : "\":";
  after_key_ = true;
  need_comma_ = true;
}

void JsonWriter::string(std::string_view text) {
  before_value();
  out_.push_back('"');
  core::append_json_escaped(out_, text);
  out_.push_back('"');
  need_comma_ = true;
}

void JsonWriter::base64(std::string_view bytes) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  before_value();
  out_.reserve(out_.size() + (bytes.size() + 2) / 3 * 4 + 2);
  out_.push_back('"');
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(bytes[k]); };
  for (; i + 3 <= bytes.size(); i += 3) {
    const unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    const char quad[4] = {kAlphabet[(v >> 18) & 63], kAlphabet[(v >> 12) & 63],
                          kAlphabet[(v >> 6) & 63], kAlphabet[v & 63]};
    out_.append(quad, 4);
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    unsigned v = byte(i) << 16;
    if (rest == 2) v |= byte(i + 1) << 8;
    out_.push_back(kAlphabet[(v >> 18) & 63]);
    out_.push_back(kAlphabet[(v >> 12) & 63]);
    out_.push_back(rest == 2 ? kAlphabet[(v >> 6) & 63] : '=');
    out_.push_back('=');
  }
  out_.push_back('"');
  need_comma_ = true;
}

void JsonWriter::number_i64(std::int64_t v) {
  before_value();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, end);
  need_comma_ = true;
}

void JsonWriter::number_u64(std::uint64_t v) {
  before_value();
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out_.append(buf, end);
  need_comma_ = true;
}

void JsonWriter::number(double v) {
  if (!std::isfinite(v)) {
    null();
    return;
  }
  before_value();
  // Go's float64 encoding: the shortest round-trip digits, in 'f' form for 1e-6 <= |v| < 1e21
  // and in 'e' form otherwise.
  char buf[64];
  const double a = std::fabs(v);
  if (a != 0 && (a < 1e-6 || a >= 1e21)) {
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
    std::size_t n = static_cast<std::size_t>(end - buf);
    // Go's cleanup of a one-digit negative exponent: "1e-07" becomes "1e-7".
    if (n >= 4 && buf[n - 4] == 'e' && buf[n - 3] == '-' && buf[n - 2] == '0') {
      buf[n - 2] = buf[n - 1];
      --n;
    }
    out_.append(buf, n);
  } else {
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
    out_.append(buf, end);
  }
  need_comma_ = true;
}

void JsonWriter::boolean(bool v) {
  before_value();
  out_ += v ? "true" : "false";
  need_comma_ = true;
}

void JsonWriter::null() {
  before_value();
  out_ += "null";
  need_comma_ = true;
}

void JsonWriter::raw(std::string_view json) {
  before_value();
  out_.append(json);
  need_comma_ = true;
}

std::string JsonWriter::take() {
  PC_DASSERT(depth_ == 0 && !after_key_, "JSON taken while a container is open");
  std::string out = std::move(out_);
  out_.clear();
  depth_ = 0;
  need_comma_ = false;
  after_key_ = false;
  return out;
}

}  // namespace pc::http
