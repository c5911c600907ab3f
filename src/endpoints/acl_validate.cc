#include "endpoints/acl_validate.h"

#include <openssl/evp.h>

#include <algorithm>
#include <set>

#include "acl/builtin.h"
#include "core/rand.h"
#include "endpoints/acl.h"

namespace pc::endpoints::acl_detail {
namespace {

using core::Code;
using core::make_error;

// Length-prefixed fields, so that no two different field lists digest the same bytes.
class Digest {
 public:
  void add(std::string_view s) {
    const std::uint64_t n = s.size();
    buf_.append(reinterpret_cast<const char*>(&n), sizeof n);
    buf_.append(s);
  }
  void add_links(const std::vector<acl::PolicyLink>& links) {
    for (const auto& l : links) add(l.id);
  }
  void add_identities(const std::vector<acl::ServiceIdentity>& services,
                      const std::vector<acl::NodeIdentity>& nodes) {
    for (const auto& s : services) {
      add(s.service_name);
      for (const auto& dc : s.datacenters) add(dc);
    }
    for (const auto& n : nodes) {
      add(n.node_name);
      add(n.datacenter);
    }
  }
  std::string base64() const {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    EVP_Digest(buf_.data(), buf_.size(), md, &md_len, EVP_sha256(), nullptr);
    std::string out(4 * ((md_len + 2) / 3) + 1, '\0');
    const int n =
        EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), md, static_cast<int>(md_len));
    out.resize(static_cast<std::size_t>(n));
    return out;
  }

 private:
  std::string buf_;
};

template <class Link, class Find, class FindByName>
core::Status resolve_links(std::vector<Link>& links, std::string_view kind, Find find,
                           FindByName find_by_name) {
  std::vector<Link> out;
  std::set<std::string> seen;
  for (Link link : links) {
    if (link.id.empty()) {
      auto found = find_by_name(link.name);
      if (!found) return invalid("No such ACL " + std::string(kind) + " with name " + link.name);
      link.id = found->id;
    } else {
      auto found = find(link.id);
      if (!found) return invalid("No such ACL " + std::string(kind) + " with ID " + link.id);
      link.name = found->name;
    }
    if (seen.insert(link.id).second) out.push_back(std::move(link));
  }
  links = std::move(out);
  return core::ok();
}

}  // namespace

core::Error invalid(std::string text) {
  return make_error(Code::kInvalidArgument, std::move(text));
}

core::Status check_enabled(const Context& ctx) {
  if (ctx.acl == nullptr || !ctx.acl->enabled()) return acl_disabled();
  return core::ok();
}

core::Status check_acl(const Context& ctx, const ResolvedToken& who, bool write) {
  if (auto st = check_enabled(ctx); !st) return st;
  const acl::Decision d = write ? who.authz->acl_write() : who.authz->acl_read();
  if (!acl::allowed(d)) return permission_denied(who, "acl", write ? "write" : "read", {});
  return core::ok();
}

core::Status resolve_policy_links(const state::Snapshot& snap,
                                  std::vector<acl::PolicyLink>& links) {
  return resolve_links(
      links, "policy", [&](const std::string& id) { return snap.acl_policy(id); },
      [&](const std::string& name) { return snap.acl_policy_by_name(name); });
}

core::Status resolve_role_links(const state::Snapshot& snap, std::vector<acl::RoleLink>& links) {
  return resolve_links(
      links, "role", [&](const std::string& id) { return snap.acl_role(id); },
      [&](const std::string& name) { return snap.acl_role_by_name(name); });
}

core::Status validate_identities(const std::vector<acl::ServiceIdentity>& services,
                                 const std::vector<acl::NodeIdentity>& nodes,
                                 std::string_view owner) {
  const std::string on = " on this " + std::string(owner);
  for (const auto& s : services) {
    if (s.service_name.empty()) {
      return invalid("Service identity is missing the service name field" + on);
    }
    if (!acl::is_valid_identity_name(s.service_name)) {
      return invalid("Service identity \"" + s.service_name +
                     "\" has an invalid name. Only lowercase alphanumeric characters, '-' and '_' "
                     "are allowed");
    }
  }
  for (const auto& n : nodes) {
    if (n.node_name.empty()) return invalid("Node identity is missing the node name field" + on);
    if (!acl::is_valid_identity_name(n.node_name)) {
      return invalid(
          "Node identity has an invalid name. Only lowercase alphanumeric characters, "
          "'-' and '_' are allowed");
    }
    if (n.datacenter.empty()) {
      return invalid("Node identity is missing the datacenter field" + on);
    }
  }
  return core::ok();
}

bool valid_object_name(std::string_view name, std::size_t max) {
  if (name.empty() || name.size() > max) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_';
  });
}

std::string hash_of(const acl::Token& t) {
  Digest d;
  d.add(t.description);
  d.add(t.local ? "local" : "global");
  d.add_links(t.policies);
  d.add_links(t.roles);
  d.add_identities(t.service_identities, t.node_identities);
  return d.base64();
}

std::string hash_of(const acl::Policy& p) {
  Digest d;
  d.add(p.name);
  d.add(p.description);
  d.add(p.rules);
  for (const auto& dc : p.datacenters) d.add(dc);
  return d.base64();
}

std::string hash_of(const acl::Role& r) {
  Digest d;
  d.add(r.name);
  d.add(r.description);
  d.add_links(r.policies);
  d.add_identities(r.service_identities, r.node_identities);
  return d.base64();
}

std::string new_uuid(Context& ctx) {
  return core::make_uuid(ctx.rand);
}

}  // namespace pc::endpoints::acl_detail
