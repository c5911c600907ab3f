// The HTTP edge's ACL plumbing (acl_auth.h) and a few handlers under default deny, driven
// without sockets: `require` answers Consul's 403 texts and stays silent when allowed, lists
// set X-Consul-Results-Filtered-By-ACLs, writes are refused before they reach the log.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <string>

#include "endpoints/acl.h"
#include "endpoints/acl_checks.h"
#include "endpoints/acl_resolver.h"
#include "endpoints/agent_tokens.h"
#include "http/acl_auth.h"
#include "http/handlers/handlers.h"
#include "http/tests/handler_world.h"
#include "telemetry/tests/temp_dir.h"

namespace pc::http {
namespace {

constexpr const char* kRoot = "root-secret";
constexpr const char* kAnonymous = "00000000-0000-0000-0000-000000000002";

class AclHandlersTest : public ::testing::Test {
 protected:
  AclHandlersTest()
      : world_("n1"), resolver_(world_.store(), settings(), "dc1", core::SystemClock::instance()) {
    world_.ctx().acl = &resolver_;
    while (auto init = endpoints::acl_init_command(world_.ctx())) {
      std::promise<void> done;
      endpoints::submit(world_.ctx(), std::move(*init),
                        [&](core::Result<state::ApplyResult>) { done.set_value(); });
      done.get_future().get();
    }
  }
  static endpoints::AclSettings settings() {
    endpoints::AclSettings s;
    s.enabled = true;
    s.default_policy = acl::DefaultPolicy::kDeny;
    s.initial_management = kRoot;
    return s;
  }
  static Request request(std::string method, std::string path, std::string token = "") {
    Request req;
    req.method = std::move(method);
    req.path = std::move(path);
    if (!token.empty()) req.headers.emplace_back("x-consul-token", std::move(token));
    return req;
  }
  // Runs `require` with a node:read check; the response it sent, or nullopt when allowed.
  std::optional<Response> require_node_read(const Request& req) {
    std::optional<Response> sent;
    Reply reply = [&](Outcome o) { sent = std::get<Response>(std::move(o)); };
    const bool ok = require(world_.ctx(), req, reply, [](const endpoints::ResolvedToken& who) {
      return endpoints::require_rule(who, acl::Resource::kNode, "n1", acl::AccessLevel::kRead);
    });
    EXPECT_EQ(ok, !sent.has_value());
    return sent;
  }

  testing::HandlerWorld world_;
  endpoints::AclResolver resolver_;
};

TEST_F(AclHandlersTest, RequireAnswersConsulsTextsOrNothing) {
  auto anon = require_node_read(request("GET", "/x"));
  ASSERT_TRUE(anon);
  EXPECT_EQ(anon->status, 403);
  EXPECT_EQ(anon->body, std::string("Permission denied: token with AccessorID '") + kAnonymous +
                            "' lacks permission 'node:read' on \"n1\"");
  auto unknown = require_node_read(request("GET", "/x", "no-such-secret"));
  ASSERT_TRUE(unknown);
  EXPECT_EQ(unknown->status, 403);
  EXPECT_EQ(unknown->body, "ACL not found");
  EXPECT_FALSE(require_node_read(request("GET", "/x", kRoot)));
  // Without a resolver (ACLs off) everything passes.
  world_.ctx().acl = nullptr;
  EXPECT_FALSE(require_node_read(request("GET", "/x")));
}

TEST_F(AclHandlersTest, ListsFilterAndSayTheyDid) {
  Response created =
      world_.call(handlers::session_create, request("PUT", "/v1/session/create", kRoot));
  ASSERT_EQ(created.status, 200) << created.body;
  Response anon = world_.call(handlers::session_list, request("GET", "/v1/session/list"));
  EXPECT_EQ(anon.status, 200);
  EXPECT_EQ(anon.body, "[]");
  bool header = false;
  for (const auto& [k, v] : anon.headers) header |= k == kResultsFilteredHeader && v == "true";
  EXPECT_TRUE(header);
  Response root = world_.call(handlers::session_list, request("GET", "/v1/session/list", kRoot));
  EXPECT_NE(root.body, "[]");
  for (const auto& [k, v] : root.headers) EXPECT_NE(k, kResultsFilteredHeader);
}

TEST_F(AclHandlersTest, WritesAreRefusedBeforeTheLog) {
  const std::uint64_t before = world_.store().snapshot().applied_index();
  Request reg = request("PUT", "/v1/catalog/register");
  reg.body = R"({"Node":"n2","Address":"10.0.0.2"})";
  Response r = world_.call(handlers::catalog_register, reg);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, std::string("Permission denied: token with AccessorID '") + kAnonymous +
                        "' lacks permission 'node:write' on \"n2\"");
  Request svc = request("PUT", "/v1/agent/service/register");
  svc.body = R"({"Name":"web"})";
  r = world_.call(handlers::agent_service_register, svc);
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, std::string("Permission denied: token with AccessorID '") + kAnonymous +
                        "' lacks permission 'service:write' on \"web\"");
  EXPECT_EQ(world_.store().snapshot().applied_index(), before);
  reg.headers.emplace_back("x-consul-token", kRoot);
  EXPECT_EQ(world_.call(handlers::catalog_register, reg).status, 200);
}

// acl.enable_token_persistence: a token set through the API is saved before the answer; when
// saving fails the token still applies and the answer is 500 with the reason.
TEST_F(AclHandlersTest, AgentTokenIsSavedOrTheFailureIsAnswered) {
  telemetry::testing::TempDir dir;
  const std::string data_dir = dir.path() + "/data";
  endpoints::AgentTokens tokens({.acl_enabled = true});
  ASSERT_TRUE(tokens.enable_persistence(data_dir + "/acl-tokens.json"));
  world_.ctx().agent_tokens = &tokens;
  Request put = request("PUT", "/v1/agent/token/agent", kRoot);
  put.body = R"({"Token":"agent-secret"})";
  Response r = world_.call(handlers::agent_token, put);
  EXPECT_EQ(r.status, 200) << r.body;
  std::ifstream saved(data_dir + "/acl-tokens.json");
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(saved), {}), R"({"agent":"agent-secret"})");

  std::filesystem::remove_all(data_dir);
  std::ofstream(data_dir) << "";  // a file where the data directory was: the write fails
  put.path = "/v1/agent/token/default";
  put.body = R"({"Token":"default-secret"})";
  r = world_.call(handlers::agent_token, put);
  EXPECT_EQ(r.status, 500);
  EXPECT_TRUE(r.body.starts_with("Failed to persist tokens - ")) << r.body;
  EXPECT_EQ(tokens.default_token(), "default-secret");
  world_.ctx().agent_tokens = nullptr;
}

}  // namespace
}  // namespace pc::http
