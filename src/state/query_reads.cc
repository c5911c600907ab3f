// Snapshot's prepared-query reads (state/store.h): by ID, by exact name, and the template
// whose name is the longest prefix of a name (Consul's PreparedQueryResolve lookups).
#include "core/assert.h"
#include "core/strings.h"
#include "state/detail/version.h"

namespace pc::state {
namespace {

const Version& query_version(const Snapshot& s) {
  static const Version empty;
  const auto& v = VersionAccess::of(s);
  return v ? *v : empty;
}

std::optional<PreparedQuery> via(const Version& v, const std::string* id) {
  if (id == nullptr) return std::nullopt;
  const PreparedQuery* q = v.prepared_queries.find(*id);
  PC_ASSERT(q != nullptr, "prepared query index names missing query {}", *id);
  return *q;
}

}  // namespace

std::optional<PreparedQuery> Snapshot::prepared_query(std::string_view id) const {
  const PreparedQuery* q = query_version(*this).prepared_queries.find(id);
  if (q == nullptr) return std::nullopt;
  return *q;
}

std::vector<PreparedQuery> Snapshot::prepared_queries() const {
  const Version& v = query_version(*this);
  std::vector<PreparedQuery> out;
  out.reserve(v.prepared_queries.size());
  for (const auto& e : v.prepared_queries) out.push_back(e.value);
  return out;
}

std::optional<PreparedQuery> Snapshot::prepared_query_by_name(std::string_view name) const {
  const Version& v = query_version(*this);
  return via(v, v.prepared_queries_by_name.find(core::to_lower(name)));
}

// One lookup per prefix length, longest first: names are short, templates may be many.
std::optional<PreparedQuery> Snapshot::prepared_query_template_for(std::string_view name) const {
  const Version& v = query_version(*this);
  if (v.query_templates.size() == 0) return std::nullopt;
  const std::string lower = core::to_lower(name);
  for (std::size_t n = lower.size() + 1; n-- > 0;) {
    if (const std::string* id = v.query_templates.find(std::string_view(lower).substr(0, n))) {
      return via(v, id);
    }
  }
  return std::nullopt;
}

}  // namespace pc::state
