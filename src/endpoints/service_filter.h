#pragma once
// The ?filter= fields shared by the catalog's ServiceNode and the health endpoint's
// CheckServiceNode: both select the same node and service attributes, under different names
// (flat "ServiceMeta" in one, nested "Service.Meta" in the other). Each schema is a table of
// names onto the same field ids, resolved and read by the functions here.
#include <cstdint>
#include <span>
#include <string_view>

#include "filter/filter.h"
#include "state/types.h"

namespace pc::endpoints::service_filter {

enum FieldId : std::uint32_t {
  kNodeId = 1,
  kNodeName,
  kNodeAddress,
  kNodeDatacenter,
  kNodeTaggedAddresses,
  kNodeTaggedAddressesKey,
  kNodeMeta,
  kNodeMetaKey,
  kServiceKind,
  kServiceId,
  kServiceName,
  kServiceTags,
  kServiceAddress,
  kServiceTaggedAddresses,
  kServiceTaggedAddressesKey,
  kServiceMeta,
  kServiceMetaKey,
  kServicePort,
  kServiceWeightsPassing,
  kServiceWeightsWarning,
  kServiceEnableTagOverride,
};

// One selectable name: up to three segments ("Service", "Weights", "Passing"). A map field
// also accepts one more segment, the key, which resolves to `key_id` as a string.
struct FieldName {
  std::string_view path[3];
  std::size_t segments;
  filter::FieldType type;
  FieldId id;
  FieldId key_id;
};

// Resolves `s` against `names`; unknown selectors get go-bexpr's message naming the prefix up
// to the first segment that matches nothing.
core::Result<filter::Field> resolve(std::span<const FieldName> names, const filter::Selector& s);

// The value of field `s.field_id()` on one instance; a map key is the selector's last segment.
filter::Value value(const filter::Selector& s, const state::Node& node,
                    const state::Service& service);

}  // namespace pc::endpoints::service_filter
