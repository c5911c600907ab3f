#include "dns/wire/name.h"

#include <string>

namespace pc::dns::wire {
namespace {

core::Error invalid(std::string reason) {
  return core::make_error(core::Code::kInvalidArgument, std::move(reason));
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

char ascii_lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

}  // namespace

std::size_t wire_length(const Labels& labels) {
  std::size_t n = 1;  // the root's zero byte
  for (const auto& label : labels) n += 1 + label.size();
  return n;
}

core::Result<Labels> parse_name(std::string_view text) {
  Labels labels;
  if (text.empty()) return invalid("empty name");
  if (text == ".") return labels;
  std::string label;
  std::size_t wire = 1;
  std::size_t i = 0;
  auto finish_label = [&]() -> core::Status {
    if (label.empty()) return invalid("empty label in name");
    if (label.size() > kMaxLabelLength) return invalid("label longer than 63 bytes");
    wire += 1 + label.size();
    if (wire > kMaxNameLength) return invalid("name longer than 255 bytes");
    labels.push_back(std::move(label));
    label.clear();
    return core::ok();
  };
  while (i < text.size()) {
    char c = text[i];
    if (c == '.') {
      if (auto st = finish_label(); !st) return st.error();
      ++i;
      continue;
    }
    if (c == '\\') {
      if (i + 1 >= text.size()) return invalid("dangling escape in name");
      if (is_digit(text[i + 1])) {
        if (i + 3 >= text.size() || !is_digit(text[i + 2]) || !is_digit(text[i + 3])) {
          return invalid("short \\DDD escape in name");
        }
        int value = (text[i + 1] - '0') * 100 + (text[i + 2] - '0') * 10 + (text[i + 3] - '0');
        if (value > 255) return invalid("\\DDD escape above 255 in name");
        label.push_back(static_cast<char>(value));
        i += 4;
      } else {
        label.push_back(text[i + 1]);
        i += 2;
      }
    } else {
      label.push_back(c);
      ++i;
    }
    if (label.size() > kMaxLabelLength) return invalid("label longer than 63 bytes");
  }
  if (!label.empty()) {
    if (auto st = finish_label(); !st) return st.error();
  }
  return labels;
}

std::string format_name(const Labels& labels) {
  if (labels.empty()) return ".";
  std::string out;
  for (const auto& label : labels) {
    for (char ch : label) {
      auto b = static_cast<unsigned char>(ch);
      if (ch == '.' || ch == '\\') {
        out.push_back('\\');
        out.push_back(ch);
      } else if (b < 0x21 || b > 0x7e) {
        out.push_back('\\');
        out.push_back(static_cast<char>('0' + b / 100));
        out.push_back(static_cast<char>('0' + (b / 10) % 10));
        out.push_back(static_cast<char>('0' + b % 10));
      } else {
        out.push_back(ch);
      }
    }
    out.push_back('.');
  }
  return out;
}

core::Result<std::vector<std::uint8_t>> name_to_wire(std::string_view text) {
  auto labels = parse_name(text);
  if (!labels) return labels.error();
  std::vector<std::uint8_t> out;
  out.reserve(wire_length(*labels));
  for (const auto& label : *labels) {
    out.push_back(static_cast<std::uint8_t>(label.size()));
    out.insert(out.end(), label.begin(), label.end());
  }
  out.push_back(0);
  return out;
}

core::Result<std::string> name_from_wire(std::span<const std::uint8_t> wire) {
  Labels labels;
  std::size_t pos = 0;
  while (true) {
    if (pos >= wire.size()) return invalid("name runs past its end");
    std::size_t len = wire[pos];
    if (len == 0) break;
    if (len > kMaxLabelLength) return invalid("label longer than 63 bytes or compressed");
    if (pos + 1 + len > wire.size()) return invalid("name runs past its end");
    labels.emplace_back(reinterpret_cast<const char*>(wire.data() + pos + 1), len);
    pos += 1 + len;
  }
  if (pos + 1 != wire.size()) return invalid("bytes after the name");
  if (pos + 1 > kMaxNameLength) return invalid("name longer than 255 bytes");
  return format_name(labels);
}

bool names_equal(std::string_view a, std::string_view b) {
  auto la = parse_name(a);
  auto lb = parse_name(b);
  if (!la || !lb || la->size() != lb->size()) return false;
  for (std::size_t i = 0; i < la->size(); ++i) {
    const std::string& x = (*la)[i];
    const std::string& y = (*lb)[i];
    if (x.size() != y.size()) return false;
    for (std::size_t j = 0; j < x.size(); ++j) {
      if (ascii_lower(x[j]) != ascii_lower(y[j])) return false;
    }
  }
  return true;
}

}  // namespace pc::dns::wire
