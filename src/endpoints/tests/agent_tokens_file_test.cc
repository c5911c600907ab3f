// acl.enable_token_persistence: the acl-tokens.json codec (Consul's keys, the legacy
// agent_master, what it refuses) and the token holder's use of the file (saved tokens replace
// configured ones at start, only runtime tokens are written, mode 0600, failures reported).
#include "endpoints/agent_tokens_file.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "telemetry/tests/temp_dir.h"

namespace pc::endpoints {
namespace {

using Kind = AgentTokens::Kind;
using telemetry::testing::TempDir;

std::size_t at(Kind kind) {
  return static_cast<std::size_t>(kind);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
}

TEST(AgentTokensFile, EncodesOnlySetSecretsUnderConsulsKeysInConsulsOrder) {
  PersistedAgentTokens t;
  EXPECT_EQ(encode_agent_tokens_file(t), "{}");
  t[at(Kind::kDefault)] = "d";
  t[at(Kind::kAgent)] = "a";
  t[at(Kind::kAgentRecovery)] = "r";
  t[at(Kind::kReplication)] = "p";
  t[at(Kind::kConfigFileRegistration)] = "c";
  t[at(Kind::kDns)] = "n";
  EXPECT_EQ(encode_agent_tokens_file(t),
            R"({"replication":"p","agent_recovery":"r","default":"d","agent":"a",)"
            R"("config_file_service_registration":"c","dns":"n"})");
  auto back = decode_agent_tokens_file(encode_agent_tokens_file(t));
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, t);
}

TEST(AgentTokensFile, ReadsLegacyAgentMasterNullsAndIgnoresUnknownKeys) {
  auto legacy = decode_agent_tokens_file(R"({"agent_master":"m","future_token":1,"agent":null})");
  ASSERT_TRUE(legacy) << legacy.error().message;
  EXPECT_EQ((*legacy)[at(Kind::kAgentRecovery)], "m");
  EXPECT_EQ((*legacy)[at(Kind::kAgent)], "");
  // The current name wins over the old one when both are there.
  auto both = decode_agent_tokens_file(R"({"agent_master":"m","agent_recovery":"r"})");
  ASSERT_TRUE(both);
  EXPECT_EQ((*both)[at(Kind::kAgentRecovery)], "r");
  auto bare_null = decode_agent_tokens_file("null");
  ASSERT_TRUE(bare_null);
  EXPECT_EQ(*bare_null, PersistedAgentTokens{});
}

TEST(AgentTokensFile, RefusesWhatIsNotItsShape) {
  for (const char* text : {"", "{", "[]", "\"default\"", R"({"default":1})", R"({"dns":["x"]})",
                           R"({"agent_master":{}})", "{} x"}) {
    auto r = decode_agent_tokens_file(text);
    ASSERT_FALSE(r) << text;
    EXPECT_EQ(r.error().code, core::Code::kCorruption) << text;
    EXPECT_TRUE(r.error().message.starts_with("acl-tokens.json: ")) << r.error().message;
  }
  std::string big = R"({"default":")" + std::string(kAgentTokensFileSizeMax, 'x') + "\"}";
  EXPECT_FALSE(decode_agent_tokens_file(big));
}

TEST(AgentTokensPersistence, RuntimeTokensAreWrittenPrivatelyAndConfiguredOnesAreNot) {
  TempDir dir;
  const std::string path = dir.path() + "/acl-tokens.json";
  AgentTokens tokens({.acl_enabled = true, .default_token = "cfg-default", .agent = "cfg-agent"});
  ASSERT_TRUE(tokens.enable_persistence(path));  // no file yet: the configured tokens stay
  EXPECT_EQ(tokens.default_token(), "cfg-default");
  EXPECT_FALSE(std::filesystem::exists(path));

  ASSERT_TRUE(tokens.set(Kind::kAgent, "api-agent"));
  EXPECT_EQ(read_file(path), R"({"agent":"api-agent"})");
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_TRUE(tokens.set(Kind::kDns, "api-dns"));
  EXPECT_EQ(read_file(path), R"({"agent":"api-agent","dns":"api-dns"})");
  // An empty token set through the API is not saved: the next start uses the configured one.
  ASSERT_TRUE(tokens.set(Kind::kAgent, ""));
  EXPECT_EQ(read_file(path), R"({"dns":"api-dns"})");
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(AgentTokensPersistence, SavedTokensReplaceConfiguredOnesAtStart) {
  TempDir dir;
  const std::string path = dir.path() + "/acl-tokens.json";
  write_file(path, R"({"default":"saved-default","agent_master":"saved-recovery"})");
  AgentTokens tokens({.acl_enabled = true,
                      .default_token = "cfg-default",
                      .agent = "cfg-agent",
                      .replication = "cfg-replication"});
  const std::uint64_t before = tokens.version();
  ASSERT_TRUE(tokens.enable_persistence(path));
  EXPECT_GT(tokens.version(), before);  // caches built before the load are stale
  EXPECT_EQ(tokens.default_token(), "saved-default");
  EXPECT_EQ(tokens.get(Kind::kAgentRecovery), "saved-recovery");
  EXPECT_EQ(tokens.agent_token(), "cfg-agent");  // not in the file: the configuration's
  EXPECT_EQ(tokens.get(Kind::kReplication), "cfg-replication");

  // The loaded tokens count as runtime ones: a later change keeps them in the file (the
  // legacy key is written back under its current name); configured ones stay out.
  ASSERT_TRUE(tokens.set(Kind::kDns, "api-dns"));
  EXPECT_EQ(read_file(path),
            R"({"agent_recovery":"saved-recovery","default":"saved-default","dns":"api-dns"})");
}

TEST(AgentTokensPersistence, ACorruptFileIsReportedAndTheConfiguredTokensStay) {
  TempDir dir;
  const std::string path = dir.path() + "/acl-tokens.json";
  write_file(path, R"({"default": 42})");
  AgentTokens tokens({.acl_enabled = true, .default_token = "cfg-default"});
  auto loaded = tokens.enable_persistence(path);
  ASSERT_FALSE(loaded);
  EXPECT_EQ(loaded.error().code, core::Code::kCorruption);
  EXPECT_EQ(tokens.default_token(), "cfg-default");
  // Persistence is still on: the next change replaces the bad file.
  ASSERT_TRUE(tokens.set(Kind::kAgent, "api-agent"));
  EXPECT_EQ(read_file(path), R"({"agent":"api-agent"})");
}

TEST(AgentTokensPersistence, AFailedWriteIsReportedAndTheTokenStillApplies) {
  TempDir dir;
  const std::string data_dir = dir.path() + "/data";
  AgentTokens tokens({.acl_enabled = true});
  ASSERT_TRUE(tokens.enable_persistence(data_dir + "/acl-tokens.json"));  // nothing there yet
  // Then the data directory's place is taken by a file: the tokens file cannot be written.
  write_file(data_dir, "");
  auto saved = tokens.set(Kind::kDefault, "api-default");
  ASSERT_FALSE(saved);
  EXPECT_EQ(saved.error().code, core::Code::kIoError);
  EXPECT_EQ(tokens.default_token(), "api-default");
}

}  // namespace
}  // namespace pc::endpoints
