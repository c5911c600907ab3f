#include "endpoints/service_filter.h"

#include <algorithm>
#include <array>
#include <map>
#include <optional>
#include <span>
#include <string>

namespace pc::endpoints::service_filter {
namespace {

using filter::FieldType;
using filter::Value;

// One field of a part, under its bare name (up to two segments: "Weights", "Passing"). `flat`
// is its first segment once flattened into ServiceNode. A map field (kStringMap) is selected
// whole by its own segments; one more segment, a key, selects the key's value (key_id, a
// string), unless port_id is set: then the values are ServiceAddresses and a key takes one
// more segment, "Address" (key_id) or "Port" (port_id).
struct FieldDef {
  std::string_view bare[2];
  std::size_t segments;
  std::string_view flat;
  FieldType type;
  FieldId id;
  FieldId key_id = FieldId{};
  FieldId port_id = FieldId{};
};

// structs.Node.
constexpr FieldDef kNodeFields[] = {
    {{"ID"}, 1, "ID", FieldType::kString, kNodeId},
    {{"Node"}, 1, "Node", FieldType::kString, kNodeName},
    {{"Address"}, 1, "Address", FieldType::kString, kNodeAddress},
    {{"Datacenter"}, 1, "Datacenter", FieldType::kString, kNodeDatacenter},
    {{"TaggedAddresses"},
     1,
     "TaggedAddresses",
     FieldType::kStringMap,
     kNodeTaggedAddresses,
     kNodeTaggedAddressesKey},
    {{"Meta"}, 1, "NodeMeta", FieldType::kStringMap, kNodeMeta, kNodeMetaKey},
};

// structs.NodeService (flattened: structs.ServiceNode's Service* fields).
constexpr FieldDef kServiceFields[] = {
    {{"Kind"}, 1, "ServiceKind", FieldType::kString, kServiceKind},
    {{"ID"}, 1, "ServiceID", FieldType::kString, kServiceId},
    {{"Service"}, 1, "ServiceName", FieldType::kString, kServiceName},
    {{"Tags"}, 1, "ServiceTags", FieldType::kStringList, kServiceTags},
    {{"Address"}, 1, "ServiceAddress", FieldType::kString, kServiceAddress},
    {{"TaggedAddresses"},
     1,
     "ServiceTaggedAddresses",
     FieldType::kStringMap,
     kServiceTaggedAddresses,
     kServiceTaggedAddressesAddress,
     kServiceTaggedAddressesPort},
    {{"Meta"}, 1, "ServiceMeta", FieldType::kStringMap, kServiceMeta, kServiceMetaKey},
    {{"Port"}, 1, "ServicePort", FieldType::kInt, kServicePort},
    {{"Weights", "Passing"}, 2, "ServiceWeights", FieldType::kInt, kServiceWeightsPassing},
    {{"Weights", "Warning"}, 2, "ServiceWeights", FieldType::kInt, kServiceWeightsWarning},
    {{"EnableTagOverride"},
     1,
     "ServiceEnableTagOverride",
     FieldType::kBool,
     kServiceEnableTagOverride},
};

// structs.HealthCheck (only ever bare).
constexpr FieldDef kCheckFields[] = {
    {{"Node"}, 1, "", FieldType::kString, kCheckNode},
    {{"CheckID"}, 1, "", FieldType::kString, kCheckId},
    {{"Name"}, 1, "", FieldType::kString, kCheckName},
    {{"Status"}, 1, "", FieldType::kString, kCheckStatus},
    {{"Notes"}, 1, "", FieldType::kString, kCheckNotes},
    {{"Output"}, 1, "", FieldType::kString, kCheckOutput},
    {{"ServiceID"}, 1, "", FieldType::kString, kCheckServiceId},
    {{"ServiceName"}, 1, "", FieldType::kString, kCheckServiceName},
    {{"ServiceTags"}, 1, "", FieldType::kStringList, kCheckServiceTags},
    {{"Type"}, 1, "", FieldType::kString, kCheckType},
};

struct Part {
  std::string_view nested_name;  // "Node", "Service": the member a kNested row names
  Naming Layout::*naming;
  std::span<const FieldDef> fields;
};
constexpr Part kParts[] = {
    {"Node", &Layout::node, kNodeFields},
    {"Service", &Layout::service, kServiceFields},
    {"Check", &Layout::check, kCheckFields},
};

// The segments that select `f` in a row naming its part `naming`.
std::size_t field_path(const Part& part, const FieldDef& f, Naming naming,
                       std::array<std::string_view, 3>& out) {
  std::size_t n = 0;
  if (naming == Naming::kNested) out[n++] = part.nested_name;
  for (std::size_t i = 0; i < f.segments; ++i) {
    out[n++] = naming == Naming::kFlat && i == 0 ? f.flat : f.bare[i];
  }
  return n;
}

// What `s` selects below map field `f` (matched in its first `n` segments), if anything;
// `longest` grows to the segments that did match.
std::optional<filter::Field> resolve_map_key(const FieldDef& f, std::size_t n,
                                             const filter::Selector& s, std::size_t& longest) {
  const std::size_t extra = s.size() - n;
  if (f.port_id == FieldId{}) {
    if (extra == 1) return filter::Field{FieldType::kString, f.key_id};
    return std::nullopt;
  }
  // Any key matches; a ServiceAddress itself has no operators, only its two fields.
  longest = std::max(longest, n + 1);
  if (extra != 2) return std::nullopt;
  if (s[n + 1] == "Address") return filter::Field{FieldType::kString, f.key_id};
  if (s[n + 1] == "Port") return filter::Field{FieldType::kInt, f.port_id};
  return std::nullopt;
}

// The value of map `m` at the selector's key (its last segment).
template <typename V>
const V* at_key(const std::map<std::string, V>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? nullptr : &it->second;
}

Value string_at(const std::map<std::string, std::string>& m, const filter::Selector& s) {
  const std::string* v = at_key(m, s[s.size() - 1]);
  return v == nullptr ? Value::missing() : Value::string(*v);
}

Value node_value(const filter::Selector& s, const state::Node& n) {
  switch (s.field_id()) {
    case kNodeId: return Value::string(n.id);
    case kNodeName: return Value::string(n.node);
    case kNodeAddress: return Value::string(n.address);
    case kNodeDatacenter: return Value::string(n.datacenter);
    case kNodeTaggedAddresses: return Value::map(n.tagged_addresses);
    case kNodeTaggedAddressesKey: return string_at(n.tagged_addresses, s);
    case kNodeMeta: return Value::map(n.meta);
    case kNodeMetaKey: return string_at(n.meta, s);
    default: return Value::missing();
  }
}

Value service_value(const filter::Selector& s, const state::Service& v) {
  switch (s.field_id()) {
    case kServiceKind: return Value::string(v.kind);
    case kServiceId: return Value::string(v.id);
    case kServiceName: return Value::string(v.service);
    case kServiceTags: return Value::list(v.tags);
    case kServiceAddress: return Value::string(v.address);
    case kServiceTaggedAddresses: return Value::map(v.tagged_addresses);
    case kServiceTaggedAddressesAddress:
    case kServiceTaggedAddressesPort: {
      // ServiceTaggedAddresses.<key>.Address: the key is the next-to-last segment.
      const state::ServiceAddress* a = at_key(v.tagged_addresses, s[s.size() - 2]);
      if (a == nullptr) return Value::missing();
      return s.field_id() == kServiceTaggedAddressesPort ? Value::integer(a->port)
                                                         : Value::string(a->address);
    }
    case kServiceMeta: return Value::map(v.meta);
    case kServiceMetaKey: return string_at(v.meta, s);
    case kServicePort: return Value::integer(v.port);
    case kServiceWeightsPassing: return Value::integer(v.weights.passing);
    case kServiceWeightsWarning: return Value::integer(v.weights.warning);
    case kServiceEnableTagOverride: return Value::boolean(v.enable_tag_override);
    default: return Value::missing();
  }
}

Value check_value(const filter::Selector& s, const state::HealthCheck& c) {
  switch (s.field_id()) {
    case kCheckNode: return Value::string(c.node);
    case kCheckId: return Value::string(c.check_id);
    case kCheckName: return Value::string(c.name);
    case kCheckStatus: return Value::string(c.status);
    case kCheckNotes: return Value::string(c.notes);
    case kCheckOutput: return Value::string(c.output);
    case kCheckServiceId: return Value::string(c.service_id);
    case kCheckServiceName: return Value::string(c.service_name);
    case kCheckServiceTags: return Value::list(c.service_tags);
    case kCheckType: return Value::string(c.type);
    default: return Value::missing();
  }
}

}  // namespace

core::Result<filter::Field> TableSchema::resolve(const filter::Selector& s) const {
  std::size_t longest = 0;
  for (const Part& part : kParts) {
    const Naming naming = layout_.*part.naming;
    if (naming == Naming::kAbsent) continue;
    for (const FieldDef& f : part.fields) {
      std::array<std::string_view, 3> path;
      const std::size_t n = field_path(part, f, naming, path);
      std::size_t matched = 0;
      while (matched < n && matched < s.size() && s[matched] == path[matched]) ++matched;
      longest = std::max(longest, matched);
      if (matched != n) continue;
      if (s.size() == n) return filter::Field{f.type, f.id};
      if (f.type != FieldType::kStringMap) continue;
      if (auto key = resolve_map_key(f, n, s, longest)) return *key;
    }
  }
  return filter::selector_not_valid(s, std::min(s.size(), longest + 1));
}

filter::Value RowObject::get(const filter::Selector& s) const {
  const std::uint32_t id = s.field_id();
  if (id >= kCheckNode) return row_.check ? check_value(s, *row_.check) : Value::missing();
  if (id >= kServiceKind) return row_.service ? service_value(s, *row_.service) : Value::missing();
  return row_.node ? node_value(s, *row_.node) : Value::missing();
}

core::Result<filter::Expression> compile(std::string_view text, Layout layout) {
  const TableSchema schema(layout);  // consulted only while compiling
  return filter::Expression::compile(text, schema);
}

bool matches(const filter::Expression& expr, Row row) {
  return expr.matches(RowObject(row));
}

}  // namespace pc::endpoints::service_filter
