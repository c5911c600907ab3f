#include "state/query_proto.h"

namespace pc::state {
namespace {

template <class Pairs>
void map_to(const std::map<std::string, std::string>& in, Pairs* out) {
  for (const auto& [k, v] : in) {
    auto* p = out->Add();
    p->set_key(k);
    p->set_value(v);
  }
}

template <class Pairs>
std::map<std::string, std::string> map_from(const Pairs& in) {
  std::map<std::string, std::string> out;
  for (const auto& p : in) out[p.key()] = p.value();
  return out;
}

}  // namespace

void to_proto(const PreparedQuery& q, proto::PreparedQuery* out) {
  out->set_id(q.id);
  out->set_name(q.name);
  out->set_session(q.session);
  out->set_token(q.token);
  auto* t = out->mutable_template_();
  t->set_type(q.tmpl.type);
  t->set_regexp(q.tmpl.regexp);
  t->set_remove_empty_tags(q.tmpl.remove_empty_tags);
  auto* s = out->mutable_service();
  const ServiceQuery& in = q.service;
  s->set_service(in.service);
  s->mutable_failover()->set_nearest_n(in.failover.nearest_n);
  for (const auto& dc : in.failover.datacenters) s->mutable_failover()->add_datacenters(dc);
  s->set_only_passing(in.only_passing);
  for (const auto& id : in.ignore_check_ids) s->add_ignore_check_ids(id);
  s->set_near(in.near);
  for (const auto& tag : in.tags) s->add_tags(tag);
  map_to(in.node_meta, s->mutable_node_meta());
  map_to(in.service_meta, s->mutable_service_meta());
  s->set_connect(in.connect);
  out->set_dns_ttl(q.dns_ttl);
}

PreparedQuery from_proto(const proto::PreparedQuery& m) {
  PreparedQuery q;
  q.id = m.id();
  q.name = m.name();
  q.session = m.session();
  q.token = m.token();
  q.tmpl.type = m.template_().type();
  q.tmpl.regexp = m.template_().regexp();
  q.tmpl.remove_empty_tags = m.template_().remove_empty_tags();
  const proto::ServiceQuery& s = m.service();
  q.service.service = s.service();
  q.service.failover.nearest_n = s.failover().nearest_n();
  q.service.failover.datacenters.assign(s.failover().datacenters().begin(),
                                        s.failover().datacenters().end());
  q.service.only_passing = s.only_passing();
  q.service.ignore_check_ids.assign(s.ignore_check_ids().begin(), s.ignore_check_ids().end());
  q.service.near = s.near();
  q.service.tags.assign(s.tags().begin(), s.tags().end());
  q.service.node_meta = map_from(s.node_meta());
  q.service.service_meta = map_from(s.service_meta());
  q.service.connect = s.connect();
  q.dns_ttl = m.dns_ttl();
  return q;
}

}  // namespace pc::state
