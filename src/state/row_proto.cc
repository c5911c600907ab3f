#include "state/row_proto.h"

namespace pc::state {

void to_proto(const Service& s, proto::Service* out) {
  out->set_id(s.id);
  out->set_service(s.service);
  for (const auto& t : s.tags) out->add_tags(t);
  out->set_address(s.address);
  for (const auto& [k, v] : s.tagged_addresses) {
    auto* pair = out->add_tagged_addresses();
    pair->set_key(k);
    pair->mutable_value()->set_address(v.address);
    pair->mutable_value()->set_port(v.port);
  }
  for (const auto& [k, v] : s.meta) {
    auto* pair = out->add_meta();
    pair->set_key(k);
    pair->set_value(v);
  }
  out->set_port(s.port);
  out->mutable_weights()->set_passing(s.weights.passing);
  out->mutable_weights()->set_warning(s.weights.warning);
  out->set_enable_tag_override(s.enable_tag_override);
  out->set_kind(s.kind);
}

void to_proto(const HealthCheck& c, proto::HealthCheck* out) {
  out->set_node(c.node);
  out->set_check_id(c.check_id);
  out->set_name(c.name);
  out->set_status(c.status);
  out->set_notes(c.notes);
  out->set_output(c.output);
  out->set_service_id(c.service_id);
  out->set_service_name(c.service_name);
  for (const auto& t : c.service_tags) out->add_service_tags(t);
  out->set_type(c.type);
  out->set_http(c.http);
  out->set_tcp(c.tcp);
  out->set_interval(c.interval);
  out->set_timeout(c.timeout);
  out->set_deregister_critical_service_after(c.deregister_critical_service_after);
}

}  // namespace pc::state
