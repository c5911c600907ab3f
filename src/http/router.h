#pragma once
// The route dispatcher: Consul's one route table (agent/http_register.go on Go's ServeMux).
//
// A path ending in '/' is a prefix route ("/v1/kv/" serves "/v1/kv/a/b"); any other path is
// exact. The longest matching route wins, as in ServeMux. Each route lists its methods:
//   - OPTIONS answers 200 with "Allow: OPTIONS,GET,PUT" and no body (Consul's wrap);
//   - another method not listed answers 405 "method DELETE not allowed" with the same Allow;
//   - an empty method list hands every method to the handler, as Consul's nil list does.
// A path no route matches answers 404 with Consul's Index texts; a path that only misses the
// trailing slash of a prefix route ("/v1/kv") answers ServeMux's 301 to "/v1/kv/".
//
// Lifecycle and thread-safety: add() every route during setup, before the server starts;
// after that the table is immutable and dispatch() may run concurrently on any threads.
#include <functional>
#include <initializer_list>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "http/handler.h"

namespace pc::http {

class Router {
 public:
  // Registers `handler` for `path`. Registering the same path twice is a programming error
  // (PC_ASSERT), as Consul's registerEndpoint panics on it.
  void add(std::string_view path, std::initializer_list<std::string_view> methods, Handler handler);

  // Finds the route for req.path and calls its handler (or answers 404/405/OPTIONS/301 itself)
  // with `reply`; exactly one call of `reply` follows, now or later.
  void dispatch(const Request& req, Reply reply) const;

  std::size_t size() const { return exact_.size() + prefixes_.size(); }

 private:
  struct Route {
    std::string path;
    std::vector<std::string> methods;
    std::string allow;  // "OPTIONS,GET,PUT", precomputed for 405 and OPTIONS answers
    Handler handler;
  };

  // Transparent hashing lets dispatch look a string_view up without copying the path.
  struct PathHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  const Route* match(std::string_view path) const;

  std::unordered_map<std::string, Route, PathHash, std::equal_to<>> exact_;
  // Sorted by descending path length, so the first prefix that matches is the longest.
  std::vector<Route> prefixes_;
};

}  // namespace pc::http
