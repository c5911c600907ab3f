#include "endpoints/service_filter.h"

#include <algorithm>
#include <string>

namespace pc::endpoints::service_filter {

core::Result<filter::Field> resolve(std::span<const FieldName> names, const filter::Selector& s) {
  std::size_t longest_prefix = 0;
  for (const FieldName& n : names) {
    std::size_t matched = 0;
    while (matched < n.segments && matched < s.size() && s[matched] == n.path[matched]) {
      ++matched;
    }
    longest_prefix = std::max(longest_prefix, matched);
    if (matched != n.segments) continue;
    if (s.size() == n.segments) return filter::Field{n.type, n.id};
    if (n.type == filter::FieldType::kStringMap && s.size() == n.segments + 1) {
      return filter::Field{filter::FieldType::kString, n.key_id};
    }
  }
  return filter::selector_not_valid(s, std::min(s.size(), longest_prefix + 1));
}

filter::Value value(const filter::Selector& s, const state::Node& n, const state::Service& v) {
  using filter::Value;
  auto key = [&](const std::map<std::string, std::string>& m) {
    auto it = m.find(s[s.size() - 1]);
    return it == m.end() ? Value::missing() : Value::string(it->second);
  };
  switch (s.field_id()) {
    case kNodeId: return Value::string(n.id);
    case kNodeName: return Value::string(n.node);
    case kNodeAddress: return Value::string(n.address);
    case kNodeDatacenter: return Value::string(n.datacenter);
    case kNodeTaggedAddresses: return Value::map(n.tagged_addresses);
    case kNodeTaggedAddressesKey: return key(n.tagged_addresses);
    case kNodeMeta: return Value::map(n.meta);
    case kNodeMetaKey: return key(n.meta);
    case kServiceKind: return Value::string(v.kind);
    case kServiceId: return Value::string(v.id);
    case kServiceName: return Value::string(v.service);
    case kServiceTags: return Value::list(v.tags);
    case kServiceAddress: return Value::string(v.address);
    case kServiceTaggedAddresses: return Value::map(v.tagged_addresses);
    case kServiceTaggedAddressesKey: return key(v.tagged_addresses);
    case kServiceMeta: return Value::map(v.meta);
    case kServiceMetaKey: return key(v.meta);
    case kServicePort: return Value::integer(v.port);
    case kServiceWeightsPassing: return Value::integer(v.weights.passing);
    case kServiceWeightsWarning: return Value::integer(v.weights.warning);
    case kServiceEnableTagOverride: return Value::boolean(v.enable_tag_override);
    default: return Value::missing();
  }
}

}  // namespace pc::endpoints::service_filter
