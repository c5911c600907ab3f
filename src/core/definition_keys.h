#pragma once
// The keys of a service or check definition, as Consul's config files write them and as its
// agent API names them: the one table both readers of definitions share, the agent's config
// loader (detail/config_services.h) and `proconsul services register` (cli/), so a key added
// here is understood by both.
//
// Keys are matched after normalize_definition_key(): lower case, underscores dropped, so
// `enable_tag_override`, `EnableTagOverride` and `enabletagoverride` are one key, and a check's
// `ServiceID` is `serviceid`.
//
// Pure data and a pure lookup: no I/O, no allocation beyond the normalized key.
#include <span>
#include <string>
#include <string_view>

namespace pc::core {

// What a key's value must be, and how it is carried into the API body.
enum class DefinitionField {
  kString,
  kInt,
  kBool,
  kDuration,         // Go duration text, or an integer of nanoseconds (the API takes both)
  kStrings,          // a list of strings
  kStringMap,        // an object of strings ("meta")
  kAsIs,             // passed on as written ("header", "proxy", "connect")
  kToken,            // never in the body: the request's token, not a field
  kCheck,            // one check definition (check_definition_keys())
  kChecks,           // a list of check definitions
  kWeights,          // {passing, warning} (weights_definition_keys())
  kTaggedAddresses,  // {name: {address, port}} (tagged_address_definition_keys())
};

struct DefinitionKey {
  std::string_view key;       // normalized
  std::string_view api_name;  // the API body's field; "" for kToken
  DefinitionField field;
};

// Consul's ServiceDefinition: the keys of a `service` block.
std::span<const DefinitionKey> service_definition_keys();
// Consul's CheckDefinition: the keys of a `check` block, alone or in a service.
std::span<const DefinitionKey> check_definition_keys();
// A service's `weights`.
std::span<const DefinitionKey> weights_definition_keys();
// One entry of a service's `tagged_addresses`.
std::span<const DefinitionKey> tagged_address_definition_keys();

// `key` lower-cased with its underscores dropped.
std::string normalize_definition_key(std::string_view key);

// The entry of `keys` that `key` (as written) names, or nullptr when none does.
const DefinitionKey* find_definition_key(std::span<const DefinitionKey> keys, std::string_view key);

}  // namespace pc::core
