#include "state/acl_proto.h"

namespace pc::state {
namespace {

template <class Links>
void links_to(const std::vector<AclLink>& in, Links* out) {
  for (const AclLink& l : in) {
    auto* m = out->Add();
    m->set_id(l.id);
    m->set_name(l.name);
  }
}

template <class Links>
std::vector<AclLink> links_from(const Links& in) {
  std::vector<AclLink> out;
  out.reserve(in.size());
  for (const auto& m : in) out.push_back(AclLink{m.id(), m.name()});
  return out;
}

template <class Out>
void identities_to(const std::vector<AclServiceIdentity>& services,
                   const std::vector<AclNodeIdentity>& nodes, Out* out) {
  for (const auto& s : services) {
    auto* m = out->add_service_identities();
    m->set_service_name(s.service_name);
    for (const auto& dc : s.datacenters) m->add_datacenters(dc);
  }
  for (const auto& n : nodes) {
    auto* m = out->add_node_identities();
    m->set_node_name(n.node_name);
    m->set_datacenter(n.datacenter);
  }
}

template <class In>
void identities_from(const In& in, std::vector<AclServiceIdentity>& services,
                     std::vector<AclNodeIdentity>& nodes) {
  for (const auto& m : in.service_identities()) {
    services.push_back(AclServiceIdentity{
        m.service_name(),
        std::vector<std::string>(m.datacenters().begin(), m.datacenters().end())});
  }
  for (const auto& m : in.node_identities()) {
    nodes.push_back(AclNodeIdentity{m.node_name(), m.datacenter()});
  }
}

}  // namespace

void to_proto(const AclToken& t, proto::AclToken* out) {
  out->set_accessor_id(t.accessor_id);
  out->set_secret_id(t.secret_id);
  out->set_description(t.description);
  links_to(t.policies, out->mutable_policies());
  links_to(t.roles, out->mutable_roles());
  identities_to(t.service_identities, t.node_identities, out);
  out->set_local(t.local);
  out->set_auth_method(t.auth_method);
  out->set_has_expiration_time(t.expiration_time_unix_ns.has_value());
  out->set_expiration_time_unix_ns(t.expiration_time_unix_ns.value_or(0));
  out->set_create_time_unix_ns(t.create_time_unix_ns);
  out->set_hash(t.hash);
}

void to_proto(const AclPolicy& p, proto::AclPolicy* out) {
  out->set_id(p.id);
  out->set_name(p.name);
  out->set_description(p.description);
  out->set_rules(p.rules);
  for (const auto& dc : p.datacenters) out->add_datacenters(dc);
  out->set_hash(p.hash);
}

void to_proto(const AclRole& r, proto::AclRole* out) {
  out->set_id(r.id);
  out->set_name(r.name);
  out->set_description(r.description);
  links_to(r.policies, out->mutable_policies());
  identities_to(r.service_identities, r.node_identities, out);
  out->set_hash(r.hash);
}

AclToken from_proto(const proto::AclToken& m) {
  AclToken t;
  t.accessor_id = m.accessor_id();
  t.secret_id = m.secret_id();
  t.description = m.description();
  t.policies = links_from(m.policies());
  t.roles = links_from(m.roles());
  identities_from(m, t.service_identities, t.node_identities);
  t.local = m.local();
  t.auth_method = m.auth_method();
  if (m.has_expiration_time()) t.expiration_time_unix_ns = m.expiration_time_unix_ns();
  t.create_time_unix_ns = m.create_time_unix_ns();
  t.hash = m.hash();
  return t;
}

AclPolicy from_proto(const proto::AclPolicy& m) {
  AclPolicy p;
  p.id = m.id();
  p.name = m.name();
  p.description = m.description();
  p.rules = m.rules();
  p.datacenters.assign(m.datacenters().begin(), m.datacenters().end());
  p.hash = m.hash();
  return p;
}

AclRole from_proto(const proto::AclRole& m) {
  AclRole r;
  r.id = m.id();
  r.name = m.name();
  r.description = m.description();
  r.policies = links_from(m.policies());
  identities_from(m, r.service_identities, r.node_identities);
  r.hash = m.hash();
  return r;
}

}  // namespace pc::state
