#pragma once
// The file in which an agent with acl.enable_token_persistence keeps the tokens set through
// PUT /v1/agent/token/<type>: <data_dir>/acl-tokens.json, one JSON object with a string per
// token (docs/formats/acl-tokens.md). Pure: text in, secrets out; AgentTokens reads and
// writes the file itself.
//
// The decoder reads bytes from disk: it accepts only the documented shape (an object whose
// known keys hold strings or null; other keys are ignored, as Consul's decoder ignores them),
// returns kCorruption with the reason otherwise, and never asserts (agent_tokens_file_fuzz).
#include <array>
#include <cstddef>
#include <string>
#include <string_view>

#include "core/result.h"
#include "endpoints/agent_tokens.h"

namespace pc::endpoints {

// Consul's name for the file inside the data directory.
inline constexpr std::string_view kAgentTokensFileName = "acl-tokens.json";

// Six secrets and a few keys: anything near this size is not ours.
inline constexpr std::size_t kAgentTokensFileSizeMax = 64 * 1024;

// Secrets indexed by AgentTokens::Kind; "" means the file holds none of that kind (the
// configured token applies).
using PersistedAgentTokens = std::array<std::string, AgentTokens::kKindCount>;

// Writes only the non-empty secrets, under Consul's keys.
std::string encode_agent_tokens_file(const PersistedAgentTokens& tokens);

// Reads Consul's keys (default, agent, agent_recovery, replication,
// config_file_service_registration, dns) and the older agent_master, which counts when
// agent_recovery is absent or empty.
core::Result<PersistedAgentTokens> decode_agent_tokens_file(std::string_view text);

}  // namespace pc::endpoints
