// persist_agent_tokens: which agents keep tokens set through the API in their data directory
// (acl.enable_token_persistence with a data directory, never -dev), and that a restart on the
// same directory starts from them.
#include "daemon/acl_init.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "telemetry/tests/temp_dir.h"

namespace pc::daemon {
namespace {

using Kind = endpoints::AgentTokens::Kind;
using telemetry::testing::TempDir;

core::AgentConfig config_in(const std::string& data_dir, bool persist) {
  core::AgentConfig c;
  c.data_dir = data_dir;
  c.acl.enabled = true;
  c.acl.enable_token_persistence = persist;
  c.acl.default_token = "cfg-default";
  return c;
}

TEST(PersistAgentTokens, ARestartKeepsAnApiTokenOnlyWithTheOption) {
  TempDir dir;
  const std::string file = dir.path() + "/acl-tokens.json";
  for (bool persist : {false, true}) {
    SCOPED_TRACE(persist ? "persistence on" : "persistence off");
    std::filesystem::remove(file);
    const core::AgentConfig config = config_in(dir.path(), persist);
    {
      endpoints::AgentTokens before(agent_tokens_of(config.acl));
      persist_agent_tokens(config, before);
      ASSERT_TRUE(before.set(Kind::kDefault, "api-default"));
    }
    EXPECT_EQ(std::filesystem::exists(file), persist);
    endpoints::AgentTokens after(agent_tokens_of(config.acl));
    persist_agent_tokens(config, after);
    EXPECT_EQ(after.default_token(), persist ? "api-default" : "cfg-default");
  }
}

TEST(PersistAgentTokens, DevModeKeepsNothingOnDisk) {
  TempDir dir;
  core::AgentConfig config = config_in(dir.path(), true);
  config.dev = true;
  endpoints::AgentTokens tokens(agent_tokens_of(config.acl));
  persist_agent_tokens(config, tokens);
  ASSERT_TRUE(tokens.set(Kind::kAgent, "api-agent"));
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

TEST(PersistAgentTokens, ACorruptFileLeavesTheConfiguredTokens) {
  TempDir dir;
  std::ofstream(dir.path() + "/acl-tokens.json") << "{not json";
  const core::AgentConfig config = config_in(dir.path(), true);
  endpoints::AgentTokens tokens(agent_tokens_of(config.acl));
  persist_agent_tokens(config, tokens);  // logged, not fatal
  EXPECT_EQ(tokens.default_token(), "cfg-default");
}

}  // namespace
}  // namespace pc::daemon
