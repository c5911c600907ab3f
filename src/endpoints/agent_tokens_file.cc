#include "endpoints/agent_tokens_file.h"

#include <boost/json.hpp>

namespace pc::endpoints {
namespace {

namespace json = boost::json;
using Kind = AgentTokens::Kind;

struct KeyOfKind {
  Kind kind;
  std::string_view key;
};

// The order in which Consul writes its keys, so that our file reads like Consul's; dns, which
// Consul's file does not hold, comes last.
constexpr std::array<KeyOfKind, AgentTokens::kKindCount> kKeys = {{
    {Kind::kReplication, "replication"},
    {Kind::kAgentRecovery, "agent_recovery"},
    {Kind::kDefault, "default"},
    {Kind::kAgent, "agent"},
    {Kind::kConfigFileRegistration, "config_file_service_registration"},
    {Kind::kDns, "dns"},
}};

// The name agent_recovery had before Consul 1.11; files written then still carry it.
constexpr std::string_view kLegacyRecoveryKey = "agent_master";

core::Error corrupt(std::string why) {
  return core::make_error(core::Code::kCorruption, "acl-tokens.json: " + std::move(why));
}

std::size_t index_of(Kind kind) {
  return static_cast<std::size_t>(kind);
}

// The string under `key`, "" when absent or null (Go's decoder leaves the field empty then).
core::Result<std::string> string_at(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || v->is_null()) return std::string();
  if (!v->is_string()) return corrupt(std::string(key) + " is not a string");
  return std::string(v->get_string());
}

}  // namespace

std::string encode_agent_tokens_file(const PersistedAgentTokens& tokens) {
  json::object o;
  for (const KeyOfKind& k : kKeys) {
    const std::string& secret = tokens[index_of(k.kind)];
    if (!secret.empty()) o[k.key] = secret;
  }
  return json::serialize(o);
}

core::Result<PersistedAgentTokens> decode_agent_tokens_file(std::string_view text) {
  if (text.size() > kAgentTokensFileSizeMax) return corrupt("larger than 64 KiB");
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  if (ec) return corrupt("not JSON: " + ec.message());
  PersistedAgentTokens out;
  if (v.is_null()) return out;  // Go decodes a bare null into an empty set, without error
  if (!v.is_object()) return corrupt("not a JSON object");
  const json::object& o = v.get_object();
  for (const KeyOfKind& k : kKeys) {
    auto secret = string_at(o, k.key);
    if (!secret) return secret.error();
    out[index_of(k.kind)] = std::move(*secret);
  }
  auto legacy = string_at(o, kLegacyRecoveryKey);
  if (!legacy) return legacy.error();
  std::string& recovery = out[index_of(Kind::kAgentRecovery)];
  if (recovery.empty()) recovery = std::move(*legacy);
  return out;
}

}  // namespace pc::endpoints
