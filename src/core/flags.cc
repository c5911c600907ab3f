#include "core/flags.h"

#include <algorithm>
#include <utility>

#include "core/duration.h"

namespace pc::core {

struct FlagSet::Flag {
  std::string name;
  std::string usage;        // backquotes removed
  std::string placeholder;  // "<...>" body in usage(); empty for bools
  Setter set;
  bool is_bool = false;
  bool seen = false;
  std::size_t group = 0;
};

namespace {

Error flag_error(std::string message) {
  return make_error(Code::kInvalidArgument, std::move(message));
}

// Go's strconv.ParseBool.
bool parse_go_bool(std::string_view text, bool& out) {
  static constexpr std::string_view kTrue[] = {"1", "t", "T", "TRUE", "true", "True"};
  static constexpr std::string_view kFalse[] = {"0", "f", "F", "FALSE", "false", "False"};
  for (std::string_view t : kTrue) {
    if (text == t) {
      out = true;
      return true;
    }
  }
  for (std::string_view f : kFalse) {
    if (text == f) {
      out = false;
      return true;
    }
  }
  return false;
}

// Go's strconv.ParseUint(text, 0, 64) without digit-separating underscores: base from the
// prefix (0x, 0o, 0b, or a leading 0 for octal), else decimal. Returns an error reason.
std::string parse_go_uint(std::string_view text, std::uint64_t& out) {
  if (text.empty()) return "expected a number";
  int base = 10;
  if (text.size() > 1 && text[0] == '0') {
    char p = text[1];
    if (p == 'x' || p == 'X') {
      base = 16;
      text.remove_prefix(2);
    } else if (p == 'o' || p == 'O') {
      base = 8;
      text.remove_prefix(2);
    } else if (p == 'b' || p == 'B') {
      base = 2;
      text.remove_prefix(2);
    } else {
      base = 8;
      text.remove_prefix(1);
    }
    if (text.empty()) return "expected a number";
  }
  std::uint64_t value = 0;
  for (char c : text) {
    int digit = -1;
    if (c >= '0' && c <= '9') digit = c - '0';
    if (c >= 'a' && c <= 'z') digit = c - 'a' + 10;
    if (c >= 'A' && c <= 'Z') digit = c - 'A' + 10;
    if (digit < 0 || digit >= base) return "expected a number";
    if (value > (std::numeric_limits<std::uint64_t>::max() - static_cast<unsigned>(digit)) /
                    static_cast<unsigned>(base)) {
      return "value out of range";
    }
    value = value * static_cast<unsigned>(base) + static_cast<unsigned>(digit);
  }
  out = value;
  return "";
}

std::string parse_go_int(std::string_view text, std::int64_t& out) {
  bool negative = false;
  if (!text.empty() && (text[0] == '+' || text[0] == '-')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  std::uint64_t magnitude = 0;
  std::string why = parse_go_uint(text, magnitude);
  if (!why.empty()) return why;
  constexpr auto kMax = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (negative) {
    if (magnitude > kMax + 1) return "value out of range";
    out = magnitude == kMax + 1 ? std::numeric_limits<std::int64_t>::min()
                                : -static_cast<std::int64_t>(magnitude);
  } else {
    if (magnitude > kMax) return "value out of range";
    out = static_cast<std::int64_t>(magnitude);
  }
  return "";
}

std::string quote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

}  // namespace

FlagSet::FlagSet() : groups_{"Command Options"} {}
FlagSet::~FlagSet() = default;

void FlagSet::begin_group(std::string title) {
  for (std::size_t i = 0; i < groups_.size(); ++i) {
    if (groups_[i] == title) {
      group_ = i;
      return;
    }
  }
  groups_.push_back(std::move(title));
  group_ = groups_.size() - 1;
}

FlagSet::Flag* FlagSet::find(std::string_view name) {
  for (Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

const FlagSet::Flag* FlagSet::find(std::string_view name) const {
  for (const Flag& f : flags_) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

FlagSet::Flag& FlagSet::add(std::string_view name, std::string_view usage) {
  // Redefinition is a programming error (Go panics: "flag redefined").
  PC_ASSERT(find(name) == nullptr, "flag redefined: {}", name);
  PC_ASSERT(!name.empty() && name[0] != '-' && name.find('=') == std::string_view::npos,
            "bad flag name: {}", name);
  Flag flag;
  flag.name = std::string(name);
  flag.group = group_;
  // Go's flag.UnquoteUsage: the first `quoted` word names the value in usage().
  std::size_t open = usage.find('`');
  std::size_t close = open == std::string_view::npos ? open : usage.find('`', open + 1);
  if (close != std::string_view::npos) {
    flag.placeholder = std::string(usage.substr(open + 1, close - open - 1));
    flag.usage = std::string(usage.substr(0, open)) + flag.placeholder +
                 std::string(usage.substr(close + 1));
  } else {
    flag.usage = std::string(usage);
  }
  flags_.push_back(std::move(flag));
  return flags_.back();
}

void FlagSet::add_bool(std::string_view name, bool* target, std::string_view usage) {
  Flag& f = add(name, usage);
  f.is_bool = true;
  f.placeholder.clear();
  f.set = [target](std::string_view text) -> Status {
    bool value = false;
    if (!parse_go_bool(text, value)) return flag_error("expected true or false");
    *target = value;
    return ok();
  };
}

void FlagSet::add_string(std::string_view name, std::string* target, std::string_view usage) {
  Flag& f = add(name, usage);
  if (f.placeholder.empty()) f.placeholder = "string";
  f.set = [target](std::string_view text) -> Status {
    *target = std::string(text);
    return ok();
  };
}

void FlagSet::add_int(std::string_view name, int* target, std::string_view usage, int min,
                      int max) {
  PC_ASSERT(min <= max, "flag {}: empty range", name);
  Flag& f = add(name, usage);
  if (f.placeholder.empty()) f.placeholder = "int";
  f.set = [target, min, max](std::string_view text) -> Status {
    std::int64_t value = 0;
    std::string why = parse_go_int(text, value);
    if (!why.empty()) return flag_error(why);
    if (value < min || value > max) {
      return flag_error("must be between " + std::to_string(min) + " and " + std::to_string(max));
    }
    *target = static_cast<int>(value);
    return ok();
  };
}

void FlagSet::add_uint(std::string_view name, std::uint64_t* target, std::string_view usage) {
  Flag& f = add(name, usage);
  if (f.placeholder.empty()) f.placeholder = "uint";
  f.set = [target](std::string_view text) -> Status {
    std::uint64_t value = 0;
    std::string why = parse_go_uint(text, value);
    if (!why.empty()) return flag_error(why);
    *target = value;
    return ok();
  };
}

void FlagSet::add_duration(std::string_view name, Duration* target, std::string_view usage) {
  Flag& f = add(name, usage);
  if (f.placeholder.empty()) f.placeholder = "duration";
  f.set = [target](std::string_view text) -> Status {
    Result<Duration> d = parse_go_duration(text);
    if (!d) return d.error();
    *target = *d;
    return ok();
  };
}

void FlagSet::add_strings(std::string_view name, std::vector<std::string>* target,
                          std::string_view usage) {
  Flag& f = add(name, usage);
  if (f.placeholder.empty()) f.placeholder = "value";
  f.set = [target](std::string_view text) -> Status {
    target->emplace_back(text);
    return ok();
  };
}

void FlagSet::add_value(std::string_view name, Setter set, std::string_view usage, bool is_bool) {
  Flag& f = add(name, usage);
  f.is_bool = is_bool;
  if (is_bool) {
    f.placeholder.clear();
  } else if (f.placeholder.empty()) {
    f.placeholder = "value";
  }
  f.set = std::move(set);
}

bool FlagSet::is_set(std::string_view name) const {
  const Flag* f = find(name);
  return f != nullptr && f->seen;
}

bool FlagSet::has_flag(std::string_view name) const {
  return find(name) != nullptr;
}

Result<FlagParse> FlagSet::parse(const std::vector<std::string>& args) {
  for (Flag& f : flags_) f.seen = false;
  FlagParse out;
  std::size_t i = 0;
  while (i < args.size()) {
    const std::string& arg = args[i];
    // Go's flag.parseOne: "-" alone and anything not starting with '-' end the flags.
    if (arg.size() < 2 || arg[0] != '-') break;
    std::size_t dashes = 1;
    if (arg[1] == '-') {
      dashes = 2;
      if (arg.size() == 2) {  // "--" terminates the flags and is dropped
        ++i;
        break;
      }
    }
    std::string_view name = std::string_view(arg).substr(dashes);
    if (name.empty() || name[0] == '-' || name[0] == '=') {
      return flag_error("bad flag syntax: " + arg);
    }
    ++i;
    bool has_value = false;
    std::string_view value;
    // An '=' splits name and value; it cannot be the name's first character.
    std::size_t eq = name.find('=', 1);
    if (eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
      has_value = true;
    }
    Flag* flag = find(name);
    if (flag == nullptr) {
      if (name == "help" || name == "h") {
        out.help = true;
        return out;
      }
      return flag_error("flag provided but not defined: -" + std::string(name));
    }
    if (flag->is_bool) {
      Status st = flag->set(has_value ? value : std::string_view("true"));
      if (!st) {
        return flag_error("invalid boolean value " + quote(value) + " for -" + flag->name + ": " +
                          st.error().message);
      }
    } else {
      if (!has_value) {
        if (i >= args.size()) return flag_error("flag needs an argument: -" + flag->name);
        value = args[i];
        ++i;
      }
      Status st = flag->set(value);
      if (!st) {
        return flag_error("invalid value " + quote(value) + " for flag -" + flag->name + ": " +
                          st.error().message);
      }
    }
    flag->seen = true;
  }
  out.positional.assign(args.begin() + static_cast<std::ptrdiff_t>(i), args.end());
  return out;
}

std::string wrap_text(std::string_view text, std::size_t width, std::size_t indent) {
  std::vector<std::string_view> words;
  std::size_t pos = 0;
  while (pos < text.size()) {
    while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\n' || text[pos] == '\t')) {
      ++pos;
    }
    std::size_t start = pos;
    while (pos < text.size() && text[pos] != ' ' && text[pos] != '\n' && text[pos] != '\t') {
      ++pos;
    }
    if (pos > start) words.push_back(text.substr(start, pos - start));
  }
  std::string out;
  std::string line;
  auto flush = [&] {
    if (!out.empty()) out += '\n';
    out += std::string(indent, ' ') + line;
    line.clear();
  };
  for (std::string_view word : words) {
    if (!line.empty() && line.size() + 1 + word.size() > width) flush();
    if (!line.empty()) line += ' ';
    line += word;
  }
  if (!line.empty() || out.empty()) flush();
  return out;
}

std::string FlagSet::usage() const {
  // Consul wraps usage text at 72 columns including the 5-space indent.
  constexpr std::size_t kLineLength = 72;
  constexpr std::size_t kIndent = 5;
  // Groups appear in the order their first flag was added.
  std::vector<std::size_t> order;
  for (const Flag& f : flags_) {
    if (std::find(order.begin(), order.end(), f.group) == order.end()) order.push_back(f.group);
  }
  std::string out;
  for (std::size_t g : order) {
    std::vector<const Flag*> members;
    for (const Flag& f : flags_) {
      if (f.group == g) members.push_back(&f);
    }
    if (members.empty()) continue;
    // Go's VisitAll order: by name.
    std::sort(members.begin(), members.end(),
              [](const Flag* a, const Flag* b) { return a->name < b->name; });
    out += groups_[g] + "\n\n";
    for (const Flag* f : members) {
      out += "  -" + f->name;
      if (!f->placeholder.empty()) out += "=<" + f->placeholder + ">";
      out += "\n" + wrap_text(f->usage, kLineLength - kIndent, kIndent) + "\n\n";
    }
  }
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string FlagSet::help(std::string_view text) const {
  auto is_space = [](char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; };
  while (!text.empty() && is_space(text.front())) text.remove_prefix(1);
  while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
  std::string out(text);
  std::string flags = usage();
  if (!flags.empty()) out += "\n\n" + flags;
  return out;
}

}  // namespace pc::core
