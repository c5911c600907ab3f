// Services and checks from configuration files on a local agent: decoded as the API decodes
// them, refused with the file and line, registered with the right token, and brought up to
// date by reloads that leave API registrations and unchanged checks alone.
#include "daemon/config_services.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "agent/tests/agent_test_util.h"
#include "core/log.h"
#include "core/rand.h"
#include "daemon/config_reload.h"

namespace pc::daemon {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

core::ConfigDefinition definition(std::string body, std::uint32_t line = 1,
                                  std::string token = "") {
  return core::ConfigDefinition{"/etc/pc/services.json", line, 3, std::move(body),
                                std::move(token)};
}

class ConfigServicesTest : public ::testing::Test {
 protected:
  explicit ConfigServicesTest(bool local_scripts = false) {
    agent::LocalAgent::Options options;
    options.enable_local_script_checks = local_scripts;
    options.runner.workers = 1;
    agent_ = std::make_unique<agent::LocalAgent>(
        agent::testing::test_node(),
        agent::store_reader(catalog_.store, agent::testing::test_node().name), catalog_.sink(),
        timers_, core::SystemClock::instance(), rand_, options);
    agent_->start();
    services_ = std::make_unique<ConfigServices>(*agent_);
  }
  ~ConfigServicesTest() override {
    agent_->stop();
    timers_.stop();
  }

  core::Status apply(std::vector<core::ConfigDefinition> services,
                     std::vector<core::ConfigDefinition> checks = {},
                     const std::string& fallback = "") {
    core::AgentConfig config;
    config.service_definitions = std::move(services);
    config.check_definitions = std::move(checks);
    auto regs = decode_config_definitions(config, fallback);
    if (!regs) return regs.error();
    return services_->apply(std::move(*regs));
  }

  agent::testing::FakeCatalog catalog_;
  core::TimerThread timers_;
  core::SystemRand rand_{7};
  std::unique_ptr<agent::LocalAgent> agent_;
  std::unique_ptr<ConfigServices> services_;
};

TEST_F(ConfigServicesTest, RegistersServicesAndChecksWithTheTokenOrder) {
  ASSERT_TRUE(apply({definition(R"({"Name":"web","Port":80,"Checks":[{"TTL":"30s"}]})", 1, "own"),
                     definition(R"({"Name":"db","ID":"db-1"})")},
                    {definition(R"({"Name":"mem","TTL":"30s"})")}, "registration"));
  auto web = agent_->local().service("web");
  ASSERT_TRUE(web);
  EXPECT_EQ(web->port, 80);
  EXPECT_EQ(agent_->local().service_token("web"), "own");
  EXPECT_EQ(agent_->local().service_token("db-1"), "registration");
  auto check = agent_->local().check("service:web");
  ASSERT_TRUE(check);
  EXPECT_EQ(check->check.status, "critical");
  EXPECT_TRUE(agent_->local().check("mem"));
  EXPECT_EQ(services_->service_ids(), (std::vector<std::string>{"db-1", "web"}));
  EXPECT_EQ(services_->check_ids(), (std::vector<std::string>{"mem"}));
}

TEST_F(ConfigServicesTest, RefusalsNameTheFileAndLineAndChangeNothing) {
  ASSERT_TRUE(apply({definition(R"({"Name":"web"})")}));
  struct Case {
    std::vector<core::ConfigDefinition> services, checks;
    std::string message;
  };
  const std::vector<Case> cases = {
      {{definition(R"({"Port":80})", 4)},
       {},
       "Error parsing /etc/pc/services.json: At 4:3: service: Missing service name"},
      {{definition(R"({"Name":"web","Checks":[{"HTTP":"http://x/","Interval":"soon"}]})", 5)},
       {},
       "Error parsing /etc/pc/services.json: At 5:3: service: time: invalid duration \"soon\""},
      {{definition(R"({"Name":"web","Checks":[{"HTTP":"http://x/"}]})", 6)},
       {},
       "Error parsing /etc/pc/services.json: At 6:3: service \"web\": Invalid check: "},
      {{definition(R"({"Name":"web"})", 2), definition(R"({"Name":"web"})", 7)},
       {},
       "Error parsing /etc/pc/services.json: At 7:3: service ID \"web\" is defined more than "
       "once"},
      {{},
       {definition(R"({"Name":"disk","Args":["/bin/true"],"Interval":"10s"})", 8)},
       "Error parsing /etc/pc/services.json: At 8:3: check \"disk\": Scripts are disabled on "
       "this agent"},
      {{definition(R"({"Name":"api"})")},
       {definition(R"({"Name":"c","TTL":"10s","ServiceID":"ghost"})", 9)},
       "Error parsing /etc/pc/services.json: At 9:3: check \"c\": ServiceID \"ghost\" does not "
       "exist"},
  };
  for (const Case& c : cases) {
    core::Status st = apply(c.services, c.checks);
    ASSERT_FALSE(st) << c.message;
    EXPECT_EQ(st.error().message.rfind(c.message, 0), 0u) << st.error().message;
    EXPECT_TRUE(agent_->local().service("web")) << c.message;
    EXPECT_FALSE(agent_->local().service("api")) << c.message;
    EXPECT_EQ(services_->service_ids(), (std::vector<std::string>{"web"}));
  }
}

TEST_F(ConfigServicesTest, ReloadUpdatesRemovesAndLeavesTheRestAlone) {
  ASSERT_TRUE(apply({definition(R"({"Name":"web","Port":80,"Checks":[{"TTL":"30s"}]})"),
                     definition(R"({"Name":"db","Checks":[{"TTL":"30s"}]})")},
                    {definition(R"({"Name":"db-extra","TTL":"30s","ServiceID":"db"})")}));
  // One registered through the API, which no reload may touch.
  agent::ServiceRegistration api;
  api.service = agent::testing::service("api-1", "api");
  ASSERT_TRUE(agent_->add_service(api));
  ASSERT_TRUE(agent_->update_ttl("service:web", "passing", "fine"));
  ASSERT_TRUE(agent_->update_ttl("db-extra", "passing", "fine"));

  // web unchanged, db's port changed (its checks come back, the linked one too), cache new.
  ASSERT_TRUE(apply({definition(R"({"Name":"web","Port":80,"Checks":[{"TTL":"30s"}]})"),
                     definition(R"({"Name":"db","Port":5432,"Checks":[{"TTL":"30s"}]})"),
                     definition(R"({"Name":"cache"})")},
                    {definition(R"({"Name":"db-extra","TTL":"30s","ServiceID":"db"})")}));
  EXPECT_EQ(agent_->local().check("service:web")->check.status, "passing");
  EXPECT_EQ(agent_->local().service("db")->port, 5432);
  EXPECT_TRUE(agent_->local().check("service:db"));
  EXPECT_TRUE(agent_->local().check("db-extra"));
  EXPECT_TRUE(agent_->local().service("cache"));
  EXPECT_TRUE(agent_->local().service("api-1"));

  // Everything out of the files: only the API's service stays.
  ASSERT_TRUE(apply({}));
  EXPECT_FALSE(agent_->local().service("web"));
  EXPECT_FALSE(agent_->local().service("db"));
  EXPECT_FALSE(agent_->local().check("db-extra"));
  EXPECT_FALSE(agent_->local().check("service:web"));
  EXPECT_TRUE(agent_->local().service("api-1"));
  EXPECT_TRUE(services_->service_ids().empty());
}

class LocalScriptsTest : public ConfigServicesTest {
 protected:
  LocalScriptsTest() : ConfigServicesTest(true) {}
};

TEST_F(LocalScriptsTest, ScriptChecksFromFilesNeedOnlyLocalScriptChecks) {
  ASSERT_TRUE(
      apply({definition(R"({"Name":"web","Checks":[{"Args":["/bin/true"],"Interval":"10s"}]})")},
            {definition(R"({"Name":"disk","Args":["/bin/true"],"Interval":"10s"})")}));
  EXPECT_TRUE(agent_->local().check("disk"));
  EXPECT_TRUE(agent_->local().check("service:web"));
  // The API still needs enable_script_checks.
  agent::CheckRegistration api;
  api.check.name = "api-script";
  api.spec.args = {"/bin/true"};
  api.spec.interval = 10s;
  core::Status st = agent_->add_check(api);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("Scripts are disabled"), std::string::npos);
}

// A fresh directory, removed with everything in it when the test ends.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "pc-config-services-XXXXXX").string();
    EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    std::string p = (fs::path(path_) / name).string();
    std::ofstream(p) << text;
    return p;
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST_F(ConfigServicesTest, ReloaderReadsTheFilesAgainAndKeepsStateWhenTheyBreak) {
  TempDir dir;
  std::string conf = (fs::path(dir.path()) / "conf.d").string();
  fs::create_directories(conf);
  std::string file = conf + "/web.hcl";
  auto write = [&file](const std::string& text) { std::ofstream(file) << text; };
  write("service {\n  name = \"web\"\n  port = 80\n}\n");
  auto loaded = core::load_agent_config({"-data-dir", dir.path(), "-config-dir", conf});
  ASSERT_TRUE(loaded) << loaded.error().message;
  core::AgentConfig config = *loaded;
  int applied = 0;
  ConfigReloader reloader(
      config, *services_, [] { return std::string("registration"); },
      [&applied](const core::AgentConfig&) { ++applied; });
  ASSERT_TRUE(reloader.register_initial());
  EXPECT_EQ(agent_->local().service("web")->port, 80);
  EXPECT_EQ(agent_->local().service_token("web"), "registration");

  write("service {\n  name = \"web\"\n  port = 81\n}\nlog_level = \"warn\"\n");
  ASSERT_TRUE(reloader.reload());
  EXPECT_EQ(agent_->local().service("web")->port, 81);
  EXPECT_EQ(config.log_level, "warn");
  EXPECT_EQ(applied, 1);

  write("service {\n  name = \"web\"\n  prot = 82\n}\n");
  core::Status broken = reloader.reload();
  ASSERT_FALSE(broken);
  EXPECT_EQ(broken.error().message,
            "Error parsing " + file + ": At 3:3: invalid config key service.prot");
  EXPECT_EQ(agent_->local().service("web")->port, 81);
  EXPECT_EQ(config.log_level, "warn");
  EXPECT_EQ(applied, 1);

  fs::remove(file);
  ASSERT_TRUE(reloader.reload());
  EXPECT_FALSE(agent_->local().service("web"));
  core::log::set_level(core::log::Level::kInfo);
}

}  // namespace
}  // namespace pc::daemon
