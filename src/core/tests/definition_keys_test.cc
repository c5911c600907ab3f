// The shared table of service and check definition keys: how keys are matched, and that each
// key a nested definition refers to has its own table.
#include "core/definition_keys.h"

#include <gtest/gtest.h>

#include <set>

namespace pc::core {
namespace {

TEST(DefinitionKeys, CaseAndUnderscoresAreNotSignificant) {
  EXPECT_EQ(normalize_definition_key("Enable_Tag_Override"), "enabletagoverride");
  for (std::string_view written :
       {"enable_tag_override", "EnableTagOverride", "ENABLETAGOVERRIDE"}) {
    const DefinitionKey* k = find_definition_key(service_definition_keys(), written);
    ASSERT_NE(k, nullptr) << written;
    EXPECT_EQ(k->api_name, "EnableTagOverride");
    EXPECT_EQ(k->field, DefinitionField::kBool);
  }
  EXPECT_EQ(find_definition_key(service_definition_keys(), "prot"), nullptr);
  // A check's key is not a service's key.
  EXPECT_EQ(find_definition_key(service_definition_keys(), "ttl"), nullptr);
  const DefinitionKey* ttl = find_definition_key(check_definition_keys(), "TTL");
  ASSERT_NE(ttl, nullptr);
  EXPECT_EQ(ttl->field, DefinitionField::kDuration);
}

TEST(DefinitionKeys, AliasesShareTheirApiName) {
  EXPECT_EQ(find_definition_key(check_definition_keys(), "id")->api_name, "CheckID");
  EXPECT_EQ(find_definition_key(check_definition_keys(), "check_id")->api_name, "CheckID");
  EXPECT_EQ(find_definition_key(check_definition_keys(), "args")->api_name, "ScriptArgs");
  EXPECT_EQ(find_definition_key(check_definition_keys(), "ScriptArgs")->api_name, "ScriptArgs");
}

TEST(DefinitionKeys, EveryTableIsNormalizedAndUnique) {
  for (auto keys : {service_definition_keys(), check_definition_keys(), weights_definition_keys(),
                    tagged_address_definition_keys()}) {
    std::set<std::string_view> seen;
    for (const DefinitionKey& k : keys) {
      EXPECT_EQ(normalize_definition_key(k.key), k.key);
      EXPECT_TRUE(seen.insert(k.key).second) << k.key;
      // Only a token has no place in the body.
      EXPECT_EQ(k.api_name.empty(), k.field == DefinitionField::kToken) << k.key;
    }
  }
}

}  // namespace
}  // namespace pc::core
