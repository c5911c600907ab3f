#include "http/router.h"

#include <algorithm>

#include "core/assert.h"
#include "http/errors.h"

namespace pc::http {
namespace {

// Go's htmlEscape for the redirect body's href.
std::string html_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&#34;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

}  // namespace

void Router::add(std::string_view path, std::initializer_list<std::string_view> methods,
                 Handler handler) {
  PC_ASSERT(!path.empty() && path.front() == '/', "route path must start with '/': {}", path);
  PC_ASSERT(handler != nullptr, "route {} has no handler", path);
  Route route;
  route.path = std::string(path);
  route.allow = "OPTIONS";
  for (std::string_view m : methods) {
    route.methods.emplace_back(m);
    route.allow.push_back(',');
    route.allow.append(m);
  }
  route.handler = std::move(handler);

  const bool duplicate = exact_.contains(route.path) ||
                         std::any_of(prefixes_.begin(), prefixes_.end(),
                                     [&](const Route& r) { return r.path == route.path; });
  PC_ASSERT(!duplicate, "route {} registered twice", path);

  if (path.back() == '/') {
    auto at = std::find_if(prefixes_.begin(), prefixes_.end(),
                           [&](const Route& r) { return r.path.size() < route.path.size(); });
    prefixes_.insert(at, std::move(route));
  } else {
    std::string key = route.path;
    exact_.emplace(std::move(key), std::move(route));
  }
}

const Router::Route* Router::match(std::string_view path) const {
  if (auto it = exact_.find(path); it != exact_.end()) return &it->second;
  for (const Route& r : prefixes_) {
    if (path.size() >= r.path.size() && path.compare(0, r.path.size(), r.path) == 0) return &r;
  }
  return nullptr;
}

void Router::dispatch(const Request& req, Reply reply) const {
  const Route* route = match(req.path);
  if (route == nullptr) {
    // ServeMux redirects "/v1/kv" to the subtree "/v1/kv/" when only the latter is registered.
    if (!req.path.empty() && req.path.back() != '/') {
      std::string with_slash = req.path + "/";
      for (const Route& r : prefixes_) {
        if (r.path != with_slash) continue;
        std::string location = with_slash;
        if (!req.raw_query.empty()) location += "?" + req.raw_query;
        Response res;
        res.status = 301;
        res.content_type.clear();
        if (req.method == "GET" || req.method == "HEAD") {
          res.content_type = "text/html; charset=utf-8";
        }
        if (req.method == "GET") {
          res.body = "<a href=\"" + html_escape(location) + "\">Moved Permanently</a>.\n\n";
        }
        res.headers.emplace_back("Location", std::move(location));
        reply(std::move(res));
        return;
      }
    }
    reply(path_not_found(req.path));
    return;
  }
  if (!route->methods.empty()) {
    if (req.method == "OPTIONS") {
      Response res;
      res.content_type.clear();
      res.headers.emplace_back("Allow", route->allow);
      reply(std::move(res));
      return;
    }
    if (std::find(route->methods.begin(), route->methods.end(), req.method) ==
        route->methods.end()) {
      reply(method_not_allowed(req.method, route->allow));
      return;
    }
  }
  route->handler(req, std::move(reply));
}

}  // namespace pc::http
