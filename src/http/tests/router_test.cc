#include "http/router.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace pc::http {
namespace {

// Dispatches synchronously and returns the Response the router or handler replied with.
Response call(const Router& router, std::string method, std::string path,
              std::string raw_query = "") {
  Request req;
  req.method = std::move(method);
  req.path = std::move(path);
  req.raw_query = std::move(raw_query);
  std::optional<Outcome> got;
  router.dispatch(req, [&](Outcome o) { got = std::move(o); });
  EXPECT_TRUE(got.has_value());
  if (!got) return {};
  EXPECT_TRUE(std::holds_alternative<Response>(*got));
  return std::get<Response>(std::move(*got));
}

Handler named(std::string name) {
  return [name](const Request& req, Reply reply) {
    reply(Response::text(200, name + " " + req.path));
  };
}

std::string header(const Response& r, std::string_view name) {
  for (const auto& [k, v] : r.headers) {
    if (k == name) return v;
  }
  return "<none>";
}

TEST(Router, ExactAndPrefix) {
  Router router;
  router.add("/v1/kv/", {"GET", "PUT", "DELETE"}, named("kv"));
  router.add("/v1/status/leader", {"GET"}, named("leader"));
  EXPECT_EQ(call(router, "GET", "/v1/kv/a/b").body, "kv /v1/kv/a/b");
  EXPECT_EQ(call(router, "GET", "/v1/kv/").body, "kv /v1/kv/");
  EXPECT_EQ(call(router, "GET", "/v1/status/leader").body, "leader /v1/status/leader");
  // Exact routes do not match longer paths.
  EXPECT_EQ(call(router, "GET", "/v1/status/leader/x").status, 404);
  EXPECT_EQ(call(router, "GET", "/v1/status/leaderx").status, 404);
}

TEST(Router, LongestMatchWins) {
  Router router;
  router.add("/v1/", {"GET"}, named("v1"));
  router.add("/v1/query", {"GET"}, named("query-general"));
  router.add("/v1/query/", {"GET"}, named("query-specific"));
  router.add("/v1/query/x/explain", {"GET"}, named("explain"));
  router.add("/v1/agent/check/", {"GET"}, named("check"));
  router.add("/v1/agent/check/pass/", {"GET"}, named("pass"));
  EXPECT_EQ(call(router, "GET", "/v1/query").body, "query-general /v1/query");
  EXPECT_EQ(call(router, "GET", "/v1/query/abc").body, "query-specific /v1/query/abc");
  EXPECT_EQ(call(router, "GET", "/v1/query/x/explain").body, "explain /v1/query/x/explain");
  EXPECT_EQ(call(router, "GET", "/v1/agent/check/pass/c1").body, "pass /v1/agent/check/pass/c1");
  EXPECT_EQ(call(router, "GET", "/v1/agent/check/c1").body, "check /v1/agent/check/c1");
  EXPECT_EQ(call(router, "GET", "/v1/other").body, "v1 /v1/other");
}

TEST(Router, NotFoundTexts) {
  Router router;
  router.add("/v1/kv/", {"GET"}, named("kv"));
  Response api = call(router, "GET", "/v1/nope");
  EXPECT_EQ(api.status, 404);
  EXPECT_EQ(api.body, "Invalid URL path: not a recognized HTTP API endpoint\n");
  EXPECT_EQ(api.content_type, "text/plain; charset=utf-8");
  Response other = call(router, "GET", "/favicon.ico");
  EXPECT_EQ(other.status, 404);
  EXPECT_EQ(other.body,
            "Invalid URL path: if attempting to use the HTTP API, ensure the path starts with "
            "'/v1/'\n");
}

TEST(Router, MethodNotAllowedWithAllow) {
  Router router;
  router.add("/v1/kv/", {"GET", "PUT", "DELETE"}, named("kv"));
  Response r = call(router, "POST", "/v1/kv/a");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.body, "method POST not allowed");
  EXPECT_EQ(header(r, "Allow"), "OPTIONS,GET,PUT,DELETE");
}

TEST(Router, OptionsListsMethods) {
  Router router;
  router.add("/v1/session/create", {"PUT"}, named("create"));
  Response r = call(router, "OPTIONS", "/v1/session/create");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(header(r, "Allow"), "OPTIONS,PUT");
}

TEST(Router, EmptyMethodListTakesEveryMethod) {
  Router router;
  router.add("/v1/agent/token/", {}, named("token"));
  EXPECT_EQ(call(router, "PATCH", "/v1/agent/token/x").status, 200);
  EXPECT_EQ(call(router, "OPTIONS", "/v1/agent/token/x").body, "token /v1/agent/token/x");
}

TEST(Router, SubtreeWithoutSlashRedirects) {
  Router router;
  router.add("/v1/kv/", {"GET"}, named("kv"));
  Response r = call(router, "GET", "/v1/kv", "recurse");
  EXPECT_EQ(r.status, 301);
  EXPECT_EQ(header(r, "Location"), "/v1/kv/?recurse");
  EXPECT_EQ(r.body, "<a href=\"/v1/kv/?recurse\">Moved Permanently</a>.\n\n");
}

TEST(Router, DeferredReplyIsHandedThrough) {
  Router router;
  Reply saved;
  router.add("/v1/txn", {"PUT"}, [&](const Request&, Reply reply) { saved = std::move(reply); });
  Request req;
  req.method = "PUT";
  req.path = "/v1/txn";
  std::optional<Outcome> got;
  router.dispatch(req, [&](Outcome o) { got = std::move(o); });
  EXPECT_FALSE(got.has_value());
  ASSERT_TRUE(saved);
  saved(Response::json("{}"));
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(std::get<Response>(*got).body, "{}");
}

TEST(RouterDeathTest, DuplicateRouteAsserts) {
  Router router;
  router.add("/v1/kv/", {"GET"}, named("kv"));
  EXPECT_DEATH(router.add("/v1/kv/", {"PUT"}, named("kv2")), "registered twice");
}

}  // namespace
}  // namespace pc::http
