// Snapshot's ACL reads (state/store.h): one lookup in a table or a unique index per read.
#include <algorithm>

#include "core/assert.h"
#include "state/detail/version.h"

namespace pc::state {
namespace {

const Version& acl_version(const Snapshot& s) {
  static const Version empty;
  const auto& v = VersionAccess::of(s);
  return v ? *v : empty;
}

template <class Row>
std::optional<Row> row_of(const PMap<Row>& table, std::string_view key) {
  const Row* row = table.find(key);
  if (row == nullptr) return std::nullopt;
  return *row;
}

// A row found through a unique index (name -> id, secret -> accessor).
template <class Row>
std::optional<Row> row_via(const PMap<std::string>& index, const PMap<Row>& table,
                           std::string_view key) {
  const std::string* id = index.find(key);
  if (id == nullptr) return std::nullopt;
  const Row* row = table.find(*id);
  PC_ASSERT(row != nullptr, "ACL index entry names missing row {}", *id);
  return *row;
}

template <class Row>
std::vector<Row> all_rows(const PMap<Row>& table) {
  std::vector<Row> out;
  out.reserve(table.size());
  for (const auto& e : table) out.push_back(e.value);
  return out;
}

}  // namespace

std::optional<AclToken> Snapshot::acl_token(std::string_view accessor_id) const {
  return row_of(acl_version(*this).acl_tokens, accessor_id);
}
std::optional<AclToken> Snapshot::acl_token_by_secret(std::string_view secret_id) const {
  const Version& v = acl_version(*this);
  return row_via(v.acl_tokens_by_secret, v.acl_tokens, secret_id);
}
std::vector<AclToken> Snapshot::acl_tokens() const {
  return all_rows(acl_version(*this).acl_tokens);
}
std::vector<std::string> Snapshot::acl_expired_token_ids(std::int64_t now_unix_ns, std::size_t max,
                                                         bool local_only) const {
  std::vector<std::string> out;
  for (const auto& e : acl_version(*this).acl_tokens) {
    if (out.size() >= max) break;
    if (local_only && !e.value.local) continue;
    if (e.value.is_expired(now_unix_ns)) out.push_back(e.value.accessor_id);
  }
  return out;
}
std::optional<AclPolicy> Snapshot::acl_policy(std::string_view id) const {
  return row_of(acl_version(*this).acl_policies, id);
}
std::optional<AclPolicy> Snapshot::acl_policy_by_name(std::string_view name) const {
  const Version& v = acl_version(*this);
  return row_via(v.acl_policies_by_name, v.acl_policies, name);
}
std::vector<AclPolicy> Snapshot::acl_policies() const {
  return all_rows(acl_version(*this).acl_policies);
}
std::optional<AclRole> Snapshot::acl_role(std::string_view id) const {
  return row_of(acl_version(*this).acl_roles, id);
}
std::optional<AclRole> Snapshot::acl_role_by_name(std::string_view name) const {
  const Version& v = acl_version(*this);
  return row_via(v.acl_roles_by_name, v.acl_roles, name);
}
std::vector<AclRole> Snapshot::acl_roles() const {
  return all_rows(acl_version(*this).acl_roles);
}
std::uint64_t Snapshot::acl_bootstrap_index() const {
  return acl_version(*this).acl_bootstrap_index;
}
std::uint64_t Snapshot::acl_index() const {
  return max_index({Table::kAclTokens, Table::kAclPolicies, Table::kAclRoles});
}

}  // namespace pc::state
