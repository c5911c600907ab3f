// The `audit` block: Consul's keys from JSON files, merged across files, and its load-time
// checks with errors that name the sink and the key.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "core/config.h"

namespace pc::core {
namespace {

namespace fs = std::filesystem;

class AuditConfigTest : public ::testing::Test {
 protected:
  AuditConfigTest() {
    std::string tmpl = (fs::temp_directory_path() / "pc-audit-config-XXXXXX").string();
    EXPECT_NE(mkdtemp(tmpl.data()), nullptr);
    dir_ = tmpl;
  }
  ~AuditConfigTest() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  Result<AgentConfig> load(const std::vector<std::string>& contents) {
    std::vector<std::string> args = {"-dev"};
    for (std::size_t i = 0; i < contents.size(); ++i) {
      const std::string path = dir_ + "/" + std::to_string(i) + ".json";
      std::ofstream(path) << contents[i];
      args.push_back("-config-file=" + path);
    }
    return load_agent_config(args);
  }
  std::string error_of(const std::string& json) {
    Result<AgentConfig> r = load({json});
    EXPECT_FALSE(r) << json;
    return r ? "" : r.error().message;
  }

  std::string dir_;
};

TEST_F(AuditConfigTest, ReadsConsulsKeysAndMergesSinksAcrossFiles) {
  Result<AgentConfig> r = load({
      R"({"acl": {"enabled": true}, "audit": {"enabled": true, "sink": {"My Sink": {
          "type": "file", "format": "json", "path": "/tmp/audit/audit.json",
          "delivery_guarantee": "best-effort", "rotate_duration": "24h",
          "rotate_max_files": 15, "rotate_bytes": 25165824}}}})",
      R"({"audit": {"sink": {"My Sink": {"mode": "0640"}, "another": {"type": "file",
          "format": "json", "path": "/tmp/b.json", "rotate_bytes": 100}}}})",
  });
  ASSERT_TRUE(r) << r.error().message;
  const AuditConfig& a = r->audit;
  EXPECT_TRUE(a.enabled);
  ASSERT_EQ(a.sinks.size(), 2u);
  const AuditSinkConfig& s = a.sinks[0];  // sorted by name: "My Sink" < "another"
  EXPECT_EQ(s.name, "My Sink");
  EXPECT_EQ(s.type, "file");
  EXPECT_EQ(s.format, "json");
  EXPECT_EQ(s.path, "/tmp/audit/audit.json");
  EXPECT_EQ(s.delivery_guarantee, "best-effort");
  EXPECT_EQ(s.mode, "0640");
  EXPECT_EQ(s.rotate_duration, "24h");
  EXPECT_EQ(s.rotate_bytes, 25165824);
  EXPECT_EQ(s.rotate_max_files, 15);
  EXPECT_EQ(a.sinks[1].name, "another");
  EXPECT_EQ(a.sinks[1].delivery_guarantee, "best-effort");  // the default
  EXPECT_EQ(a.sinks[1].mode, "0600");
  EXPECT_TRUE(r->warnings.empty());
}

TEST_F(AuditConfigTest, HclBlocksWithLabelsAreSinks) {
  const std::string path = dir_ + "/audit.hcl";
  std::ofstream(path) << R"(
acl { enabled = true }
audit {
  enabled = true
  sink "My Sink" {
    type               = "file"
    format             = "json"
    path               = "/tmp/audit/audit.json"
    delivery_guarantee = "best-effort"
    rotate_duration    = "24h"
    rotate_max_files   = 15
    rotate_bytes       = 25165824
  }
  sink "second" {
    type         = "file"
    format       = "json"
    path         = "/tmp/second.json"
    rotate_bytes = 1024
  }
}
)";
  Result<AgentConfig> r = load_agent_config({"-dev", "-config-file=" + path});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->audit.sinks.size(), 2u);
  EXPECT_TRUE(r->audit.enabled);
  EXPECT_EQ(r->audit.sinks[0].name, "My Sink");
  EXPECT_EQ(r->audit.sinks[0].rotate_bytes, 25165824);
  EXPECT_EQ(r->audit.sinks[0].rotate_max_files, 15);
  EXPECT_EQ(r->audit.sinks[0].rotate_duration, "24h");
  EXPECT_EQ(r->audit.sinks[1].name, "second");
  EXPECT_EQ(r->audit.sinks[1].path, "/tmp/second.json");

  std::ofstream(path) << "audit { sink \"s\" { type = \"syslog\" } }";
  Result<AgentConfig> bad = load_agent_config({"-dev", "-config-file=" + path});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.rfind("audit.sink[\"s\"].type: unknown sink type", 0), 0u)
      << bad.error().message;
}

TEST_F(AuditConfigTest, DisabledByDefault) {
  Result<AgentConfig> r = load({});
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->audit.enabled);
  EXPECT_TRUE(r->audit.sinks.empty());
}

TEST_F(AuditConfigTest, AuditWithoutAclsWarns) {
  Result<AgentConfig> r = load({R"({"audit": {"enabled": true, "sink": {"s": {"type": "file",
      "format": "json", "path": "/tmp/a.json", "rotate_bytes": 10}}}})"});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->warnings.size(), 1u);
  EXPECT_NE(r->warnings[0].find("ACLs are disabled"), std::string::npos);
}

TEST_F(AuditConfigTest, SchemaErrorsNameTheKey) {
  const std::string f = dir_ + "/0.json";
  EXPECT_EQ(error_of(R"({"audit": {"enable": true}})"),
            "Error parsing " + f + ": unknown key \"audit.enable\"");
  EXPECT_EQ(error_of(R"({"audit": {"sink": {"s": {"paht": "x"}}}})"),
            "Error parsing " + f + ": unknown key \"audit.sink[\"s\"].paht\"");
  EXPECT_EQ(
      error_of(R"({"audit": {"sink": {"s": {"rotate_bytes": "1MB"}}}})"),
      "Error parsing " + f + ": audit.sink[\"s\"].rotate_bytes: expected a number, got string");
  EXPECT_EQ(error_of(R"({"audit": {"sink": {"s": {"rotate_bytes": -1}}}})"),
            "Error parsing " + f + ": audit.sink[\"s\"].rotate_bytes: value out of range");
  EXPECT_EQ(error_of(R"({"audit": {"sink": {"s": {"rotate_max_files": 1.5}}}})"),
            "Error parsing " + f + ": audit.sink[\"s\"].rotate_max_files: expected an integer");
  EXPECT_EQ(error_of(R"({"audit": {"sink": []}})"),
            "Error parsing " + f + ": audit.sink: expected an object, got array");
}

TEST_F(AuditConfigTest, ValidationErrorsNameSinkAndKey) {
  auto sink = [](const std::string& fields) {
    return R"({"audit": {"enabled": true, "sink": {"s": {)" + fields + "}}}}";
  };
  const std::string ok_fields = R"("type": "file", "format": "json", "path": "/tmp/a.json")";
  struct Case {
    std::string json;
    std::string message;
  };
  const Case cases[] = {
      {sink(R"("type": "syslog", "format": "json", "path": "/x", "rotate_bytes": 1)"),
       "audit.sink[\"s\"].type: unknown sink type \"syslog\"; the only one is \"file\""},
      {sink(R"("format": "json", "path": "/x", "rotate_bytes": 1)"),
       "audit.sink[\"s\"].type: missing; the only sink type is \"file\""},
      {sink(R"("type": "file", "format": "text", "path": "/x", "rotate_bytes": 1)"),
       "audit.sink[\"s\"].format: unknown format \"text\"; the only one is \"json\""},
      {sink(R"("type": "file", "format": "json", "rotate_bytes": 1)"),
       "audit.sink[\"s\"].path: missing; a file sink needs a path"},
      {sink(ok_fields + R"(, "rotate_bytes": 1, "delivery_guarantee": "enforced")"),
       "audit.sink[\"s\"].delivery_guarantee: unknown guarantee \"enforced\"; the only one is "
       "\"best-effort\""},
      {sink(ok_fields + R"(, "rotate_duration": "1 day")"),
       "audit.sink[\"s\"].rotate_duration: invalid duration \"1 day\": "},
      {sink(ok_fields),
       "audit.sink[\"s\"]: at least one of rotate_duration and rotate_bytes must be set"},
      {sink(ok_fields + R"(, "rotate_duration": "0s")"),
       "audit.sink[\"s\"]: at least one of rotate_duration and rotate_bytes must be set"},
      {sink(ok_fields + R"(, "rotate_bytes": 1, "mode": "rw-------")"),
       "audit.sink[\"s\"].mode: \"rw-------\" is not an octal file mode such as \"0600\""},
      {R"({"audit": {"enabled": true}})", "audit.enabled: the audit log needs at least one sink"},
  };
  for (const Case& c : cases) {
    const std::string message = error_of(c.json);
    EXPECT_EQ(message.rfind(c.message, 0), 0u) << c.json << "\n" << message;
  }
}

}  // namespace
}  // namespace pc::core
