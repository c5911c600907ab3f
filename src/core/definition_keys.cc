#include "core/definition_keys.h"

#include <algorithm>

namespace pc::core {
namespace {

using F = DefinitionField;

constexpr DefinitionKey kServiceKeys[] = {
    {"kind", "Kind", F::kString},
    {"id", "ID", F::kString},
    {"name", "Name", F::kString},
    {"tags", "Tags", F::kStrings},
    {"address", "Address", F::kString},
    {"taggedaddresses", "TaggedAddresses", F::kTaggedAddresses},
    {"meta", "Meta", F::kStringMap},
    {"port", "Port", F::kInt},
    {"socketpath", "SocketPath", F::kString},
    {"enabletagoverride", "EnableTagOverride", F::kBool},
    {"weights", "Weights", F::kWeights},
    {"token", "", F::kToken},
    {"check", "Check", F::kCheck},
    {"checks", "Checks", F::kChecks},
    {"proxy", "Proxy", F::kAsIs},
    {"connect", "Connect", F::kAsIs},
};

constexpr DefinitionKey kCheckKeys[] = {
    {"id", "CheckID", F::kString},
    {"checkid", "CheckID", F::kString},
    {"name", "Name", F::kString},
    {"notes", "Notes", F::kString},
    {"serviceid", "ServiceID", F::kString},
    {"token", "", F::kToken},
    {"status", "Status", F::kString},
    {"args", "ScriptArgs", F::kStrings},
    {"scriptargs", "ScriptArgs", F::kStrings},
    {"http", "HTTP", F::kString},
    {"header", "Header", F::kAsIs},
    {"method", "Method", F::kString},
    {"body", "Body", F::kString},
    {"disableredirects", "DisableRedirects", F::kBool},
    {"outputmaxsize", "OutputMaxSize", F::kInt},
    {"tcp", "TCP", F::kString},
    {"udp", "UDP", F::kString},
    {"interval", "Interval", F::kDuration},
    {"dockercontainerid", "DockerContainerID", F::kString},
    {"shell", "Shell", F::kString},
    {"grpc", "GRPC", F::kString},
    {"grpcusetls", "GRPCUseTLS", F::kBool},
    {"tlsservername", "TLSServerName", F::kString},
    {"tlsskipverify", "TLSSkipVerify", F::kBool},
    {"aliasnode", "AliasNode", F::kString},
    {"aliasservice", "AliasService", F::kString},
    {"timeout", "Timeout", F::kDuration},
    {"ttl", "TTL", F::kDuration},
    {"h2ping", "H2PING", F::kString},
    {"h2pingusetls", "H2PingUseTLS", F::kBool},
    {"osservice", "OSService", F::kString},
    {"successbeforepassing", "SuccessBeforePassing", F::kInt},
    {"failuresbeforewarning", "FailuresBeforeWarning", F::kInt},
    {"failuresbeforecritical", "FailuresBeforeCritical", F::kInt},
    {"deregistercriticalserviceafter", "DeregisterCriticalServiceAfter", F::kDuration},
};

constexpr DefinitionKey kWeightsKeys[] = {
    {"passing", "Passing", F::kInt},
    {"warning", "Warning", F::kInt},
};

constexpr DefinitionKey kTaggedAddressKeys[] = {
    {"address", "Address", F::kString},
    {"port", "Port", F::kInt},
};

}  // namespace

std::span<const DefinitionKey> service_definition_keys() {
  return kServiceKeys;
}
std::span<const DefinitionKey> check_definition_keys() {
  return kCheckKeys;
}
std::span<const DefinitionKey> weights_definition_keys() {
  return kWeightsKeys;
}
std::span<const DefinitionKey> tagged_address_definition_keys() {
  return kTaggedAddressKeys;
}

std::string normalize_definition_key(std::string_view key) {
  std::string out;
  out.reserve(key.size());
  for (char c : key) {
    if (c == '_') continue;
    out += (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

const DefinitionKey* find_definition_key(std::span<const DefinitionKey> keys,
                                         std::string_view key) {
  std::string norm = normalize_definition_key(key);
  auto it = std::find_if(keys.begin(), keys.end(),
                         [&norm](const DefinitionKey& k) { return k.key == norm; });
  return it == keys.end() ? nullptr : &*it;
}

}  // namespace pc::core
