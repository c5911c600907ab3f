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

namespace {

template <class Pairs>
void put_pairs(const std::map<std::string, std::string>& m, Pairs* out) {
  for (const auto& [k, v] : m) {
    auto* p = out->Add();
    p->set_key(k);
    p->set_value(v);
  }
}

template <class Pairs>
std::map<std::string, std::string> map_from(Pairs* pairs) {
  std::map<std::string, std::string> out;
  // A repeated key keeps its last value, as apply's to_map does (the writer never repeats).
  for (auto& p : *pairs) out[take_field(p.mutable_key())] = take_field(p.mutable_value());
  return out;
}

}  // namespace

void fill(proto::NodeRow& m, const Node& n) {
  auto* out = m.mutable_node();
  out->set_id(n.id);
  out->set_node(n.node);
  out->set_address(n.address);
  out->set_datacenter(n.datacenter);
  put_pairs(n.tagged_addresses, out->mutable_tagged_addresses());
  put_pairs(n.meta, out->mutable_meta());
  m.set_create_index(n.create_index);
  m.set_modify_index(n.modify_index);
}

void fill(proto::ServiceRow& m, const Service& s) {
  m.set_node(s.node);
  to_proto(s, m.mutable_service());
  m.set_create_index(s.create_index);
  m.set_modify_index(s.modify_index);
}

void fill(proto::CheckRow& m, const HealthCheck& c) {
  to_proto(c, m.mutable_check());
  m.set_create_index(c.create_index);
  m.set_modify_index(c.modify_index);
}

Node row_from(proto::NodeRow& m) {
  proto::NodeRegister& in = *m.mutable_node();
  Node n;
  n.id = take_field(in.mutable_id());
  n.node = take_field(in.mutable_node());
  n.address = take_field(in.mutable_address());
  n.datacenter = take_field(in.mutable_datacenter());
  n.tagged_addresses = map_from(in.mutable_tagged_addresses());
  n.meta = map_from(in.mutable_meta());
  n.create_index = m.create_index();
  n.modify_index = m.modify_index();
  return n;
}

// Field 5 (legacy_tagged_addresses) is not read: the writer never fills it, and a row is
// restored exactly as it was stored, with no defaulting (the id stays as it is, weights
// absent are {1, 1} only because the writer always writes them).
Service row_from(proto::ServiceRow& m) {
  proto::Service& in = *m.mutable_service();
  Service s;
  s.node = take_field(m.mutable_node());
  s.id = take_field(in.mutable_id());
  s.service = take_field(in.mutable_service());
  s.tags = take_list(in.mutable_tags());
  s.address = take_field(in.mutable_address());
  for (auto& p : *in.mutable_tagged_addresses()) {
    s.tagged_addresses[take_field(p.mutable_key())] =
        ServiceAddress{take_field(p.mutable_value()->mutable_address()), p.value().port()};
  }
  s.meta = map_from(in.mutable_meta());
  s.port = in.port();
  if (in.has_weights()) s.weights = Weights{in.weights().passing(), in.weights().warning()};
  s.enable_tag_override = in.enable_tag_override();
  s.kind = take_field(in.mutable_kind());
  s.create_index = m.create_index();
  s.modify_index = m.modify_index();
  return s;
}

HealthCheck row_from(proto::CheckRow& m) {
  proto::HealthCheck& in = *m.mutable_check();
  HealthCheck c;
  c.node = take_field(in.mutable_node());
  c.check_id = take_field(in.mutable_check_id());
  c.name = take_field(in.mutable_name());
  c.status = take_field(in.mutable_status());
  c.notes = take_field(in.mutable_notes());
  c.output = take_field(in.mutable_output());
  c.service_id = take_field(in.mutable_service_id());
  c.service_name = take_field(in.mutable_service_name());
  c.service_tags = take_list(in.mutable_service_tags());
  c.type = take_field(in.mutable_type());
  c.http = take_field(in.mutable_http());
  c.tcp = take_field(in.mutable_tcp());
  c.interval = take_field(in.mutable_interval());
  c.timeout = take_field(in.mutable_timeout());
  c.deregister_critical_service_after = take_field(in.mutable_deregister_critical_service_after());
  c.create_index = m.create_index();
  c.modify_index = m.modify_index();
  return c;
}

std::vector<std::string> take_list(google::protobuf::RepeatedPtrField<std::string>* in) {
  std::vector<std::string> out;
  out.reserve(static_cast<std::size_t>(in->size()));
  for (auto& s : *in) out.push_back(std::move(s));
  return out;
}

}  // namespace pc::state
