#include "endpoints/query_template.h"

#include <fmt/format.h>

#include <functional>
#include <optional>
#include <regex>
#include <string>
#include <vector>

namespace pc::endpoints {
namespace {

using core::Code;
using core::make_error;

// What one ${...} may name.
struct Scope {
  std::string_view full;
  std::string_view prefix;
  std::string_view suffix;
  const std::vector<std::string>* matches = nullptr;  // null: compile only, nothing rendered
};

bool is_ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

// One interpolation's value, or the reason it has none.
core::Result<std::string> evaluate(std::string_view expr, const Scope& scope) {
  auto trim = [](std::string_view s) {
    while (!s.empty() && s.front() == ' ') s.remove_prefix(1);
    while (!s.empty() && s.back() == ' ') s.remove_suffix(1);
    return s;
  };
  expr = trim(expr);
  if (expr.empty()) return make_error(Code::kInvalidArgument, "empty interpolation");
  if (expr.starts_with("match(") && expr.ends_with(")")) {
    std::string_view arg = trim(expr.substr(6, expr.size() - 7));
    int n = 0;
    if (arg.empty() || arg.size() > 9) {
      return make_error(Code::kInvalidArgument, "match() takes one integer argument");
    }
    for (char c : arg) {
      if (!std::isdigit(static_cast<unsigned char>(c))) {
        return make_error(Code::kInvalidArgument, "match() takes one integer argument");
      }
      n = n * 10 + (c - '0');
    }
    if (scope.matches == nullptr || n >= static_cast<int>(scope.matches->size())) {
      return std::string();
    }
    return (*scope.matches)[static_cast<std::size_t>(n)];
  }
  for (char c : expr) {
    if (!is_ident_char(c)) {
      return make_error(Code::kInvalidArgument,
                        fmt::format("unexpected {:?} in {:?}", std::string(1, c), expr));
    }
  }
  if (expr == "name.full") return std::string(scope.full);
  if (expr == "name.prefix") return std::string(scope.prefix);
  if (expr == "name.suffix") return std::string(scope.suffix);
  if (expr == "agent.segment") return std::string();
  // As HIL, a name is only looked up when rendering; checking the syntax accepts any.
  if (scope.matches == nullptr) return std::string();
  return make_error(Code::kInvalidArgument, fmt::format("unknown variable accessed: {}", expr));
}

// Renders `text`; with `scope.matches` null only checks it.
core::Result<std::string> interpolate(std::string_view text, const Scope& scope) {
  std::string out;
  for (std::size_t i = 0; i < text.size();) {
    if (text.compare(i, 3, "$${") == 0) {
      out += "${";
      i += 3;
      continue;
    }
    if (text.compare(i, 2, "${") != 0) {
      out.push_back(text[i++]);
      continue;
    }
    const std::size_t close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      return make_error(Code::kInvalidArgument, "unterminated interpolation, expected \"}\"");
    }
    auto value = evaluate(text.substr(i + 2, close - i - 2), scope);
    if (!value) return value.error();
    out += *value;
    i = close + 1;
  }
  return out;
}

// Every string of a ServiceQuery with its path as Consul's walk names it ("Service",
// ".Tags[0]", ".NodeMeta[key]"); `fn` may change the string in place.
using Visit = std::function<core::Status(const std::string& path, std::string& value)>;
core::Status walk(state::ServiceQuery& s, const Visit& fn) {
  auto list = [&](const std::string& path, std::vector<std::string>& items) -> core::Status {
    for (std::size_t i = 0; i < items.size(); ++i) {
      if (auto st = fn(fmt::format("{}[{}]", path, i), items[i]); !st) return st;
    }
    return core::ok();
  };
  auto map = [&](const std::string& path, std::map<std::string, std::string>& m) -> core::Status {
    for (auto& [k, v] : m) {
      if (auto st = fn(fmt::format("{}[{}]", path, k), v); !st) return st;
    }
    return core::ok();
  };
  if (auto st = fn(".Service", s.service); !st) return st;
  if (auto st = list(".Failover.Datacenters", s.failover.datacenters); !st) return st;
  if (auto st = list(".IgnoreCheckIDs", s.ignore_check_ids); !st) return st;
  if (auto st = fn(".Near", s.near); !st) return st;
  if (auto st = list(".Tags", s.tags); !st) return st;
  if (auto st = map(".NodeMeta", s.node_meta); !st) return st;
  return map(".ServiceMeta", s.service_meta);
}

core::Result<std::optional<std::regex>> compile_regexp(const state::PreparedQuery& q) {
  if (q.tmpl.regexp.empty()) return std::optional<std::regex>();
  try {
    return std::optional<std::regex>(std::regex(q.tmpl.regexp, std::regex::ECMAScript));
  } catch (const std::regex_error& e) {
    return make_error(Code::kInvalidArgument, std::string("Bad Regexp: ") + e.what());
  }
}

}  // namespace

core::Status compile_query_template(const state::PreparedQuery& query) {
  if (query.tmpl.type != state::kQueryTemplateNamePrefixMatch) {
    return make_error(Code::kInvalidArgument, "Bad Template.Type '" + query.tmpl.type + "'");
  }
  state::ServiceQuery service = query.service;
  const Scope check{};
  auto st = walk(service, [&](const std::string& path, std::string& value) -> core::Status {
    if (auto r = interpolate(value, check); !r) {
      return make_error(Code::kInvalidArgument, fmt::format("Bad format '{}' in Service{}: {}",
                                                            value, path, r.error().message));
    }
    return core::ok();
  });
  if (!st) return st;
  auto re = compile_regexp(query);
  if (!re) return re.error();
  auto trial = render_query_template(query, query.name);
  if (!trial) return trial.error();
  return core::ok();
}

core::Result<state::PreparedQuery> render_query_template(const state::PreparedQuery& query,
                                                         std::string_view name) {
  auto re = compile_regexp(query);
  if (!re) return re.error();
  std::vector<std::string> matches;
  if (*re) {
    const std::string subject(name);
    std::smatch m;
    if (std::regex_search(subject, m, **re)) {
      for (const auto& group : m) matches.push_back(group.matched ? group.str() : "");
    }
  }
  const std::string_view prefix = query.name;
  std::string_view suffix = name;
  if (suffix.size() >= prefix.size() && suffix.substr(0, prefix.size()) == prefix) {
    suffix.remove_prefix(prefix.size());
  }
  const Scope scope{name, prefix, suffix, &matches};
  state::PreparedQuery out = query;
  auto st = walk(out.service, [&](const std::string& path, std::string& value) -> core::Status {
    auto r = interpolate(value, scope);
    if (!r) {
      return make_error(
          Code::kInvalidArgument,
          fmt::format("Bad evaluation for '{}' in Service{}: {}", value, path, r.error().message));
    }
    value = std::move(*r);
    return core::ok();
  });
  if (!st) return st.error();
  if (out.tmpl.remove_empty_tags) {
    std::erase_if(out.service.tags, [](const std::string& t) { return t.empty(); });
  }
  return out;
}

}  // namespace pc::endpoints
