#pragma once
// A service-like record and its Schema/Object for filter tests and the fuzz target: the
// shapes the catalog will hand the filter (strings, numbers, a bool, a tag list, meta maps).
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "filter/filter.h"

namespace pc::filter::testing {

struct FakeService {
  std::string id = "web-1";
  std::string name = "web";
  std::string address = "10.0.0.1";
  std::int64_t port = 8080;
  std::uint64_t modify_index = 42;
  double weight = 1.5;
  bool enable_tag_override = false;
  std::vector<std::string> tags = {"primary", "v1", "with space"};
  std::map<std::string, std::string> meta = {
      {"env", "prod"}, {"key with spaces", "yes"}, {"empty", ""}};
  std::map<std::string, std::string> node_meta;  // empty
};

enum FieldId : std::uint32_t {
  kId = 1,
  kName,
  kAddress,
  kPort,
  kModifyIndex,
  kWeight,
  kEnableTagOverride,
  kTags,
  kMeta,
  kMetaKey,
  kNodeMeta,
  kNodeMetaKey,
  kDynamic,
};

// Selectors: ID Service Address Port ModifyIndex Weight EnableTagOverride Tags Meta Meta.<k>
// NodeMeta NodeMeta.<k> Dynamic (kAny: a string "dyn" on this object).
class FakeSchema final : public Schema {
 public:
  core::Result<Field> resolve(const Selector& s) const override {
    struct Top {
      const char* name;
      FieldType type;
      FieldId id;
      FieldId key_id;  // for maps: the id of Map.<key>
    };
    static constexpr Top kTop[] = {
        {"ID", FieldType::kString, kId, kId},
        {"Service", FieldType::kString, kName, kName},
        {"Address", FieldType::kString, kAddress, kAddress},
        {"Port", FieldType::kInt, kPort, kPort},
        {"ModifyIndex", FieldType::kUint, kModifyIndex, kModifyIndex},
        {"Weight", FieldType::kFloat, kWeight, kWeight},
        {"EnableTagOverride", FieldType::kBool, kEnableTagOverride, kEnableTagOverride},
        {"Tags", FieldType::kStringList, kTags, kTags},
        {"Meta", FieldType::kStringMap, kMeta, kMetaKey},
        {"NodeMeta", FieldType::kStringMap, kNodeMeta, kNodeMetaKey},
        {"Dynamic", FieldType::kAny, kDynamic, kDynamic},
    };
    for (const Top& t : kTop) {
      if (s.size() == 0 || s[0] != t.name) continue;
      if (s.size() == 1) return Field{t.type, t.id};
      if (t.type == FieldType::kStringMap && s.size() == 2) {
        return Field{FieldType::kString, t.key_id};
      }
      return selector_not_valid(s, 2);
    }
    return selector_not_valid(s, 1);
  }
};

class FakeObject final : public Object {
 public:
  explicit FakeObject(const FakeService& svc) : svc_(svc) {}
  Value get(const Selector& s) const override {
    switch (s.field_id()) {
      case kId: return Value::string(svc_.id);
      case kName: return Value::string(svc_.name);
      case kAddress: return Value::string(svc_.address);
      case kPort: return Value::integer(svc_.port);
      case kModifyIndex: return Value::unsigned_integer(svc_.modify_index);
      case kWeight: return Value::floating(svc_.weight);
      case kEnableTagOverride: return Value::boolean(svc_.enable_tag_override);
      case kTags: return Value::list(svc_.tags);
      case kMeta: return Value::map(svc_.meta);
      case kNodeMeta: return Value::map(svc_.node_meta);
      case kMetaKey:
      case kNodeMetaKey: {
        const auto& m = s.field_id() == kMetaKey ? svc_.meta : svc_.node_meta;
        auto it = m.find(s[1]);
        return it == m.end() ? Value::missing() : Value::string(it->second);
      }
      case kDynamic: return Value::owned_string("dyn");
      default: return Value::missing();
    }
  }

 private:
  const FakeService& svc_;
};

}  // namespace pc::filter::testing
