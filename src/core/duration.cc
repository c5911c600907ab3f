#include "core/duration.h"

#include <cmath>
#include <cstdint>
#include <limits>

namespace pc::core {
namespace {

struct Unit {
  std::string_view name;
  std::int64_t ns;
};

constexpr Unit kUnits[] = {
    {"ns", 1},
    {"us", 1000},
    {"\xC2\xB5s", 1000},  // U+00B5 micro sign
    {"\xCE\xBCs", 1000},  // U+03BC Greek mu
    {"ms", 1000000},
    {"s", 1000000000LL},
    {"m", 60LL * 1000000000LL},
    {"h", 3600LL * 1000000000LL},
};

Error bad(std::string_view text) {
  return make_error(Code::kInvalidArgument, "time: invalid duration \"" + std::string(text) + "\"");
}

}  // namespace

Result<Duration> parse_go_duration(std::string_view text) {
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return Duration(0);
  if (s.empty()) return bad(text);
  long double total_ns = 0;
  while (!s.empty()) {
    // Number: digits, optional fraction.
    std::size_t i = 0;
    long double value = 0;
    bool any_digit = false;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
      value = value * 10 + (s[i] - '0');
      any_digit = true;
      ++i;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      long double scale = 0.1L;
      while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
        value += (s[i] - '0') * scale;
        scale /= 10;
        any_digit = true;
        ++i;
      }
    }
    if (!any_digit) return bad(text);
    s.remove_prefix(i);
    // Unit: the longest known unit name that prefixes the rest (so "ms" wins over "m").
    std::size_t unit_len = 0;
    while (unit_len < s.size() && !(s[unit_len] >= '0' && s[unit_len] <= '9') &&
           s[unit_len] != '.') {
      ++unit_len;
    }
    if (unit_len == 0) {
      return make_error(Code::kInvalidArgument,
                        "time: missing unit in duration \"" + std::string(text) + "\"");
    }
    std::string_view unit_name = s.substr(0, unit_len);
    const Unit* unit = nullptr;
    for (const Unit& u : kUnits) {
      if (u.name == unit_name) unit = &u;
    }
    if (unit == nullptr) {
      return make_error(Code::kInvalidArgument, "time: unknown unit \"" + std::string(unit_name) +
                                                    "\" in duration \"" + std::string(text) + "\"");
    }
    total_ns += value * unit->ns;
    s.remove_prefix(unit_len);
  }
  if (total_ns > static_cast<long double>(std::numeric_limits<std::int64_t>::max())) {
    return bad(text);
  }
  auto ns = static_cast<std::int64_t>(std::llround(total_ns));
  return Duration(negative ? -ns : ns);
}

std::string format_go_duration(Duration d) {
  std::int64_t ns = d.count();
  if (ns == 0) return "0s";
  std::string sign = ns < 0 ? "-" : "";
  std::uint64_t u =
      ns < 0 ? static_cast<std::uint64_t>(-(ns + 1)) + 1 : static_cast<std::uint64_t>(ns);
  auto fraction = [](std::uint64_t value, std::uint64_t unit) {
    std::string out = std::to_string(value / unit);
    std::uint64_t rest = value % unit;
    if (rest != 0) {
      std::string digits;
      for (std::uint64_t scale = unit / 10; scale > 0; scale /= 10) {
        digits += static_cast<char>('0' + (rest / scale) % 10);
      }
      while (!digits.empty() && digits.back() == '0') digits.pop_back();
      out += "." + digits;
    }
    return out;
  };
  if (u < 1000) return sign + std::to_string(u) + "ns";
  if (u < 1000000) return sign + fraction(u, 1000) + "\xC2\xB5s";
  if (u < 1000000000ULL) return sign + fraction(u, 1000000) + "ms";
  std::uint64_t hours = u / 3600000000000ULL;
  std::uint64_t rest = u % 3600000000000ULL;
  std::uint64_t minutes = rest / 60000000000ULL;
  rest %= 60000000000ULL;
  std::string out = sign;
  if (hours > 0) out += std::to_string(hours) + "h";
  if (hours > 0 || minutes > 0) out += std::to_string(minutes) + "m";
  out += fraction(rest, 1000000000ULL) + "s";
  return out;
}

}  // namespace pc::core
