// The audit hook over a real store with ACLs on: both events per request with the token's
// accessor id and the status, for answers given at once and for blocking reads; nothing for
// unknown tokens or with ACLs off; never the secret.
#include "http/audit_hook.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <future>

#include "endpoints/acl.h"
#include "endpoints/acl_resolver.h"
#include "http/tests/handler_world.h"
#include "state/watch.h"
#include "telemetry/audit_log.h"
#include "telemetry/rotating_file.h"

namespace pc::http {
namespace {

namespace fs = std::filesystem;

constexpr const char* kRootSecret = "audit-root-secret";

endpoints::AclSettings acl_on() {
  endpoints::AclSettings s;
  s.enabled = true;
  s.initial_management = kRootSecret;
  return s;
}

class AuditHookTest : public ::testing::Test {
 protected:
  AuditHookTest() : world_("audit-node") {
    std::string tmpl = (fs::temp_directory_path() / "pc-audit-hook-XXXXXX").string();
    EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
    world_.ctx().acl = &resolver_;
    while (auto init = endpoints::acl_init_command(world_.ctx())) {
      std::promise<void> done;
      endpoints::submit(world_.ctx(), std::move(*init),
                        [&](core::Result<state::ApplyResult>) { done.set_value(); });
      done.get_future().get();
    }
    root_accessor_ = world_.store().snapshot().acl_token_by_secret(kRootSecret)->accessor_id;
    std::vector<telemetry::AuditSinkSpec> sinks(1);
    sinks[0].name = "test";
    sinks[0].file.path = dir_ + "/audit.json";
    log_ = std::make_shared<telemetry::AuditLog>(sinks, core::SystemClock::instance());
    EXPECT_TRUE(log_->start());
  }
  ~AuditHookTest() override {
    log_->stop();
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  std::vector<std::string> lines() {
    log_->flush();
    telemetry::RotatingFile probe(telemetry::FileSinkOptions{dir_ + "/audit.json"},
                                  core::SystemClock::instance());
    std::vector<std::string> out;
    for (const std::string& file : probe.files()) {
      std::ifstream in(file);
      for (std::string line; std::getline(in, line);) out.push_back(line);
    }
    return out;
  }

  static Request request(std::string query_token) {
    Request req;
    req.method = "GET";
    req.path = "/v1/kv/app";
    req.remote_addr = "127.0.0.1:40000";
    req.headers = {{"host", "127.0.0.1:8500"}, {"user-agent", "test/1"}};
    req.query = {{"recurse", ""}};
    if (!query_token.empty()) req.query.emplace_back("token", std::move(query_token));
    return req;
  }

  static std::string field(const std::string& line, const std::string& name) {
    const std::string key = "\"" + name + "\":\"";
    auto at = line.find(key);
    if (at == std::string::npos) return "<none>";
    at += key.size();
    return line.substr(at, line.find('"', at) - at);
  }

  http::testing::HandlerWorld world_;
  endpoints::AclResolver resolver_{world_.store(), acl_on(), "dc1", core::SystemClock::instance()};
  std::string dir_;
  std::string root_accessor_;
  std::shared_ptr<telemetry::AuditLog> log_;
};

TEST_F(AuditHookTest, ResponseGetsStartAndCompletionWithoutTheSecret) {
  AuditHook hook(resolver_, world_.store(), log_, core::SystemClock::instance());
  int delivered = 0;
  Reply reply = hook.wrap(request(kRootSecret), [&](Outcome o) {
    ++delivered;
    EXPECT_EQ(std::get<Response>(o).status, 404);
  });
  ASSERT_EQ(lines().size(), 1u);  // the start is written before the handler answers
  reply(Response::text(404, "not found"));
  EXPECT_EQ(delivered, 1);
  std::vector<std::string> got = lines();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(field(got[0], "stage"), "OperationStart");
  EXPECT_EQ(field(got[1], "stage"), "OperationComplete");
  EXPECT_EQ(field(got[0], "id"), field(got[1], "id"));
  EXPECT_TRUE(core::is_uuid(field(got[0], "id")));
  for (const std::string& line : got) {
    EXPECT_EQ(field(line, "accessor_id"), root_accessor_);
    EXPECT_EQ(field(line, "endpoint"), "/v1/kv/app");
    EXPECT_EQ(field(line, "operation"), "GET");
    EXPECT_EQ(field(line, "remote_addr"), "127.0.0.1:40000");
    EXPECT_EQ(field(line, "host"), "127.0.0.1:8500");
    EXPECT_EQ(field(line, "user_agent"), "test/1");
    EXPECT_NE(line.find("\"query_params\":{\"recurse\":[\"\"]}"), std::string::npos) << line;
    EXPECT_EQ(line.find(kRootSecret), std::string::npos) << line;
  }
  EXPECT_EQ(got[0].find("\"response\""), std::string::npos);
  EXPECT_EQ(field(got[1], "status"), "404");
}

TEST_F(AuditHookTest, BlockingReadCompletesWhenTheServerIsDoneWithTheLastRunsStatus) {
  AuditHook hook(resolver_, world_.store(), log_, core::SystemClock::instance());
  std::optional<Outcome> held;
  Request req = request("");
  req.headers.emplace_back("x-consul-token", kRootSecret);
  Reply reply = hook.wrap(req, [&](Outcome o) { held = std::move(o); });
  int runs = 0;
  BlockingRead read;
  read.min_index = 5;
  read.run = [&](state::WatchSet&) {
    ++runs;
    ReadOutcome out;
    out.index = 5 + runs;
    out.response = Response::text(runs == 1 ? 404 : 200, "");
    return out;
  };
  reply(std::move(read));
  reply = nullptr;  // the server keeps the outcome, not the Reply
  ASSERT_TRUE(held.has_value());
  EXPECT_EQ(lines().size(), 1u);  // not complete while the server still runs the read
  auto& wrapped = std::get<BlockingRead>(*held);
  state::WatchSet ws(false);
  EXPECT_EQ(wrapped.run(ws).response.status, 404);
  EXPECT_EQ(wrapped.run(ws).response.status, 200);
  EXPECT_EQ(runs, 2);
  EXPECT_EQ(lines().size(), 1u);
  held.reset();  // answered: the server drops the read
  std::vector<std::string> got = lines();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(field(got[1], "stage"), "OperationComplete");
  EXPECT_EQ(field(got[1], "status"), "200");
  EXPECT_EQ(field(got[1], "accessor_id"), root_accessor_);
  EXPECT_EQ(got[1].find(kRootSecret), std::string::npos);
}

TEST_F(AuditHookTest, NoTokenIsTheAnonymousTokenAndAnUnansweredRequestStillCompletes) {
  AuditHook hook(resolver_, world_.store(), log_, core::SystemClock::instance());
  {
    Reply reply = hook.wrap(request(""), [](Outcome) {});
  }  // the server stopped before the handler answered
  std::vector<std::string> got = lines();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(field(got[0], "accessor_id"), "00000000-0000-0000-0000-000000000002");
  EXPECT_EQ(field(got[1], "stage"), "OperationComplete");
  EXPECT_EQ(got[1].find("\"response\""), std::string::npos);
}

TEST_F(AuditHookTest, UnknownTokenOrAclsOffAreNotAudited) {
  AuditHook hook(resolver_, world_.store(), log_, core::SystemClock::instance());
  int delivered = 0;
  hook.wrap(request("no-such-secret"), [&](Outcome) { ++delivered; })(Response::text(403, ""));
  EXPECT_EQ(delivered, 1);

  endpoints::AclResolver off(world_.store(), endpoints::AclSettings{}, "dc1",
                             core::SystemClock::instance());
  AuditHook quiet(off, world_.store(), log_, core::SystemClock::instance());
  quiet.wrap(request(kRootSecret), [&](Outcome) { ++delivered; })(Response::text(200, ""));
  EXPECT_EQ(delivered, 2);
  EXPECT_TRUE(lines().empty());
}

}  // namespace
}  // namespace pc::http
