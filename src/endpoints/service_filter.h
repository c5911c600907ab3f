#pragma once
// The ?filter= fields of every catalog row Consul filters: Node, NodeService, HealthCheck, and
// the rows that join them, ServiceNode (catalog) and CheckServiceNode (health). The joins
// select the same node and service attributes under other names: flat in ServiceNode
// ("ServiceMeta", "NodeMeta"), nested in CheckServiceNode ("Service.Meta", "Node.Meta"), bare
// in Node and NodeService ("Meta"). So each part's fields are listed once, under their bare
// names, and a Layout says how a row type names each part; TableSchema resolves selectors
// through it and RowObject reads the values.
//
// Consul's selectors are go-bexpr's reflection over the Go structs (fields tagged bexpr:"-",
// such as the Raft indexes, are not selectable). Not selectable here: the connect fields
// (Proxy.*, Connect.*), which the catalog does not store yet, and CheckServiceNode's Checks.*,
// which would need the filter library to select into a list of records.
//
// Thread-safety: everything here is immutable once built; schemas and objects may be used
// from any thread.
#include <cstdint>
#include <string_view>

#include "filter/filter.h"
#include "state/types.h"

namespace pc::endpoints::service_filter {

// One id per selectable field (filter::Selector::field_id()). A map field has one id for the
// whole map (keys: `in`, `is empty`) and one for a key's value; a map of ServiceAddress has
// two for a key: its Address and its Port.
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
  kServiceTaggedAddressesAddress,
  kServiceTaggedAddressesPort,
  kServiceMeta,
  kServiceMetaKey,
  kServicePort,
  kServiceWeightsPassing,
  kServiceWeightsWarning,
  kServiceEnableTagOverride,
  kCheckNode,
  kCheckId,
  kCheckName,
  kCheckStatus,
  kCheckNotes,
  kCheckOutput,
  kCheckServiceId,
  kCheckServiceName,
  kCheckServiceTags,
  kCheckType,
};

// How a row type names the fields of one of its parts (its node, service or check).
enum class Naming : std::uint8_t {
  kAbsent,  // the row has no such part
  kBare,    // the part is the row: "ID", "Meta", "Weights.Passing" (Node, NodeService)
  kNested,  // under the part's name: "Node.Meta", "Service.Weights.Passing" (CheckServiceNode)
  kFlat,    // prefixed into the row: "NodeMeta", "ServiceWeights.Passing" (ServiceNode)
};

struct Layout {
  Naming node = Naming::kAbsent;
  Naming service = Naming::kAbsent;
  Naming check = Naming::kAbsent;
};

inline constexpr Layout kNodeLayout{Naming::kBare, Naming::kAbsent, Naming::kAbsent};
inline constexpr Layout kNodeServiceLayout{Naming::kAbsent, Naming::kBare, Naming::kAbsent};
inline constexpr Layout kHealthCheckLayout{Naming::kAbsent, Naming::kAbsent, Naming::kBare};
inline constexpr Layout kServiceNodeLayout{Naming::kFlat, Naming::kFlat, Naming::kAbsent};
inline constexpr Layout kCheckServiceNodeLayout{Naming::kNested, Naming::kNested, Naming::kAbsent};

// The selectors of one row type. Unknown selectors get go-bexpr's message naming the prefix
// up to the first segment that matches nothing (`Selector "Service.Foo" is not valid`).
class TableSchema final : public filter::Schema {
 public:
  explicit TableSchema(Layout layout) : layout_(layout) {}
  core::Result<filter::Field> resolve(const filter::Selector& s) const override;

 private:
  Layout layout_;
};

// One row: the parts its Layout names, borrowed for the life of the object.
struct Row {
  const state::Node* node = nullptr;
  const state::Service* service = nullptr;
  const state::HealthCheck* check = nullptr;
};

// A row as the filter reads it. A field of a part the row lacks reads as missing (a schema
// of the same layout never resolves one).
class RowObject final : public filter::Object {
 public:
  explicit RowObject(Row row) : row_(row) {}
  filter::Value get(const filter::Selector& s) const override;

 private:
  Row row_;
};

// Compiles `text` against the selectors of rows laid out as `layout`.
core::Result<filter::Expression> compile(std::string_view text, Layout layout);

// True if `row` satisfies `expr`, compiled for the row's layout.
bool matches(const filter::Expression& expr, Row row);

}  // namespace pc::endpoints::service_filter
