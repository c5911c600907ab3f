// /v1/catalog/* — Consul's catalog endpoints (agent/catalog_endpoint.go).
#include <boost/json.hpp>

#include "core/duration.h"
#include "endpoints/acl_checks.h"
#include "endpoints/acl_filter.h"
#include "endpoints/catalog.h"
#include "endpoints/coordinate.h"
#include "endpoints/membership.h"
#include "endpoints/node_filter.h"
#include "http/acl_auth.h"
#include "http/errors.h"
#include "http/handlers/common.h"
#include "http/handlers/handlers.h"
#include "http/json/read.h"
#include "http/query.h"
#include "proto/commands.pb.h"

namespace pc::http::handlers {
namespace {

void set_pairs(const std::map<std::string, std::string>& m,
               google::protobuf::RepeatedPtrField<proto::BytesPair>* out) {
  for (const auto& [k, v] : m) {
    auto* p = out->Add();
    p->set_key(k);
    p->set_value(v);
  }
}

// Reads string fields named in `fields` into the matching setters.
template <typename Msg>
core::Status read_strings(
    const boost::json::object& o, Msg* msg,
    std::initializer_list<std::pair<std::string_view, void (Msg::*)(const std::string&)>> fields) {
  for (const auto& [name, setter] : fields) {
    auto v = get_string(o, name);
    if (!v) return v.error();
    if (*v) (msg->*setter)(**v);
  }
  return core::ok();
}

// A Go time.Duration field of a check definition, kept as Go duration text.
core::Status read_duration(const boost::json::object& o, std::string_view name, std::string* out) {
  auto d = get_duration(o, name);
  if (!d) return d.error();
  if (*d) *out = core::format_go_duration(**d);
  return core::ok();
}

core::Status parse_check(const boost::json::value& v, proto::HealthCheck* c) {
  auto obj = body_object(v);
  if (!obj) return obj.error();
  const auto& o = **obj;
  using H = proto::HealthCheck;
  if (auto st = read_strings<H>(o, c,
                                {{"Node", &H::set_node},
                                 {"CheckID", &H::set_check_id},
                                 {"Name", &H::set_name},
                                 {"Status", &H::set_status},
                                 {"Notes", &H::set_notes},
                                 {"Output", &H::set_output},
                                 {"ServiceID", &H::set_service_id},
                                 {"ServiceName", &H::set_service_name},
                                 {"Type", &H::set_type}});
      !st) {
    return st;
  }
  auto tags = get_string_array(o, "ServiceTags");
  if (!tags) return tags.error();
  if (*tags) {
    for (auto& t : **tags) c->add_service_tags(t);
  }
  auto def = get_object(o, "Definition");
  if (!def) return def.error();
  if (*def != nullptr) {
    const auto& d = **def;
    if (auto st = read_strings<H>(d, c, {{"HTTP", &H::set_http}, {"TCP", &H::set_tcp}}); !st) {
      return st;
    }
    for (auto [name, out] :
         {std::pair<std::string_view, std::string*>{"Interval", c->mutable_interval()},
          {"Timeout", c->mutable_timeout()},
          {"DeregisterCriticalServiceAfter", c->mutable_deregister_critical_service_after()}}) {
      if (auto st = read_duration(d, name, out); !st) return st;
    }
  }
  return core::ok();
}

// A service's TaggedAddresses, as the command carries them.
core::Status parse_service_addresses(const boost::json::object& o, proto::Service* s) {
  std::map<std::string, state::ServiceAddress> tagged;
  if (auto st = read_service_tagged_addresses(o, tagged); !st) return st;
  for (const auto& [key, a] : tagged) {
    auto* pair = s->add_tagged_addresses();
    pair->set_key(key);
    pair->mutable_value()->set_address(a.address);
    pair->mutable_value()->set_port(a.port);
  }
  return core::ok();
}

core::Status parse_service(const boost::json::object& o, proto::Service* s) {
  using S = proto::Service;
  if (auto st = read_strings<S>(o, s,
                                {{"ID", &S::set_id},
                                 {"Service", &S::set_service},
                                 {"Address", &S::set_address},
                                 {"Kind", &S::set_kind}});
      !st) {
    return st;
  }
  auto tags = get_string_array(o, "Tags");
  if (!tags) return tags.error();
  if (*tags) {
    for (auto& t : **tags) s->add_tags(t);
  }
  if (auto st = parse_service_addresses(o, s); !st) return st;
  auto meta = get_string_map(o, "Meta");
  if (!meta) return meta.error();
  if (*meta) set_pairs(**meta, s->mutable_meta());
  auto port = get_int64(o, "Port");
  if (!port) return port.error();
  if (*port) s->set_port(static_cast<std::int32_t>(**port));
  auto eto = get_bool(o, "EnableTagOverride");
  if (!eto) return eto.error();
  if (*eto) s->set_enable_tag_override(**eto);
  auto weights = read_service_weights(o);
  if (!weights) return weights.error();
  if (*weights) {
    s->mutable_weights()->set_passing((*weights)->passing);
    s->mutable_weights()->set_warning((*weights)->warning);
  }
  return core::ok();
}

core::Result<proto::CatalogRegister> parse_register(const std::string& body) {
  proto::CatalogRegister r;
  auto parsed = parse_json_body(body);
  if (!parsed) return parsed.error();
  auto object = body_object(*parsed);
  if (!object) return object.error();
  const auto& o = **object;
  using R = proto::CatalogRegister;
  if (auto st = read_strings<R>(o, &r,
                                {{"ID", &R::set_id},
                                 {"Node", &R::set_node},
                                 {"Address", &R::set_address},
                                 {"Datacenter", &R::set_datacenter}});
      !st) {
    return st.error();
  }
  auto tagged = get_string_map(o, "TaggedAddresses");
  if (!tagged) return tagged.error();
  if (*tagged) set_pairs(**tagged, r.mutable_tagged_addresses());
  auto meta = get_string_map(o, "NodeMeta");
  if (!meta) return meta.error();
  if (*meta) set_pairs(**meta, r.mutable_node_meta());
  auto skip = get_bool(o, "SkipNodeUpdate");
  if (!skip) return skip.error();
  r.set_skip_node_update(skip->value_or(false));
  auto service = get_object(o, "Service");
  if (!service) return service.error();
  if (*service != nullptr) {
    if (auto st = parse_service(**service, r.mutable_service()); !st) return st.error();
  }
  if (const auto* check = find_field(o, "Check"); check != nullptr && !check->is_null()) {
    if (auto st = parse_check(*check, r.mutable_check()); !st) return st.error();
  }
  auto checks = get_array(o, "Checks");
  if (!checks) return checks.error();
  if (*checks != nullptr) {
    for (const auto& c : **checks) {
      if (c.is_null()) continue;  // a nil *HealthCheck in Go's slice registers nothing
      if (auto st = parse_check(c, r.add_checks()); !st) return st.error();
    }
  }
  return r;
}

core::Result<proto::CatalogDeregister> parse_deregister(const std::string& body) {
  proto::CatalogDeregister d;
  auto parsed = parse_json_body(body);
  if (!parsed) return parsed.error();
  auto object = body_object(*parsed);
  if (!object) return object.error();
  using D = proto::CatalogDeregister;
  if (auto st = read_strings<D>(**object, &d,
                                {{"Node", &D::set_node},
                                 {"ServiceID", &D::set_service_id},
                                 {"CheckID", &D::set_check_id}});
      !st) {
    return st.error();
  }
  return d;
}

void write_service_node(JsonWriter& w, const endpoints::ServiceNode& sn) {
  const state::Node& n = sn.node;
  const state::Service& s = sn.service;
  w.begin_object();
  write_node_fields(w, n, "NodeMeta");
  w.string_field("ServiceKind", s.kind);
  w.string_field("ServiceID", s.id);
  w.string_field("ServiceName", s.service);
  w.key("ServiceTags");
  write_tags(w, s.tags);
  w.string_field("ServiceAddress", s.address);
  write_service_tagged_addresses_field(w, "ServiceTaggedAddresses", s.tagged_addresses);
  w.key("ServiceWeights");
  write_weights(w, s.weights);
  w.key("ServiceMeta");
  write_map_or_null(w, s.meta);
  w.number_field("ServicePort", s.port);
  w.bool_field("ServiceEnableTagOverride", s.enable_tag_override);
  w.number_field("CreateIndex", s.create_index);
  w.number_field("ModifyIndex", s.modify_index);
  w.end_object();
}

void reply_write(Reply reply, core::Result<bool> r) {
  if (!r) return reply(rpc_error_response(r.error()));
  reply(bool_response(*r));
}

// Consul's NodeServices (/v1/catalog/node/:node): the node and a map of its services by ID,
// or null for an unknown node.
void write_node_services(JsonWriter& w, const endpoints::CatalogNodeServices& read) {
  if (!read.node) return w.null();
  w.begin_object();
  w.key("Node");
  write_node(w, *read.node);
  w.key("Services");
  w.begin_object();
  for (const auto& s : read.services) {
    w.key(s.id);
    write_node_service(w, s);
  }
  w.end_object();
  w.end_object();
}

// Consul's NodeServiceList (/v1/catalog/node-services/:node): the node (null when unknown)
// and a list of its services. Consul leaves an empty list null when there is no filter; we
// answer [] as for every other empty list (a client that reads Consul's null reads [] too).
void write_node_service_list(JsonWriter& w, const endpoints::CatalogNodeServices& read) {
  w.begin_object();
  w.key("Node");
  if (read.node) {
    write_node(w, *read.node);
  } else {
    w.null();
  }
  w.key("Services");
  w.begin_array();
  for (const auto& s : read.services) write_node_service(w, s);
  w.end_array();
  w.end_object();
}

// /v1/catalog/node/:node and /v1/catalog/node-services/:node: the same read (blocking, with
// ?filter= over the services), rendered by `write`.
void reply_node_services(endpoints::Context& ctx, const Request& req, Reply& reply,
                         std::string_view prefix,
                         void (*write)(JsonWriter&, const endpoints::CatalogNodeServices&)) {
  std::string node(path_suffix(req, prefix));
  if (node.empty()) return reply(Response::text(400, "Missing node name"));
  auto expr = query_filter(req, endpoints::compile_node_service_filter);
  if (!expr) return reply(bad_request(expr.error().message));
  auto who = authorize(ctx, req, reply);
  if (!who) return;
  reply_blocking(
      req, reply, [&ctx, node, expr = std::move(*expr), write, who = *who](state::WatchSet& ws) {
        auto read = endpoints::catalog_node_services(ctx, ws, node, filter_or_null(expr));
        const bool filtered = endpoints::filter_node_services(who, read);
        JsonWriter w;
        write(w, read);
        return ReadOutcome{read.index, filtered_json(w.take(), filtered)};
      });
}

}  // namespace

void catalog_register(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto args = parse_register(req.body);
  if (!args) return reply(error_response(args.error()));
  if (!require(ctx, req, reply, [&ctx, &args](const endpoints::ResolvedToken& who) {
        return endpoints::check_catalog_register(who, ctx.store.snapshot(), *args);
      })) {
    return;
  }
  endpoints::catalog_register(ctx, std::move(*args),
                              [reply = std::move(reply)](core::Result<bool> r) mutable {
                                reply_write(std::move(reply), std::move(r));
                              });
}

void catalog_deregister(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto args = parse_deregister(req.body);
  if (!args) return reply(error_response(args.error()));
  if (!require(ctx, req, reply, [&ctx, &args](const endpoints::ResolvedToken& who) {
        return endpoints::check_catalog_deregister(who, ctx.store.snapshot(), *args);
      })) {
    return;
  }
  endpoints::catalog_deregister(ctx, *args,
                                [reply = std::move(reply)](core::Result<bool> r) mutable {
                                  reply_write(std::move(reply), std::move(r));
                                });
}

// The local datacenter and those the WAN pool knows, nearest first (endpoints/membership.h).
void catalog_datacenters(endpoints::Context& ctx, const Request&, Reply reply) {
  std::vector<std::string> dcs = ctx.membership ? ctx.membership->datacenters()
                                                : std::vector<std::string>{ctx.identity.datacenter};
  JsonWriter w;
  w.begin_array();
  for (const std::string& dc : dcs) w.string(dc);
  w.end_array();
  reply(Response::json(w.take()));
}

void catalog_services(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto who = authorize(ctx, req, reply);
  if (!who) return;
  auto expr = query_filter(req, endpoints::compile_service_node_filter);
  if (!expr) return reply(bad_request(expr.error().message));
  auto node_meta = node_meta_filter(req);
  reply_blocking(
      req, reply, [&ctx, node_meta, expr = std::move(*expr), who = *who](state::WatchSet& ws) {
        auto read = endpoints::catalog_services(ctx, ws, node_meta, filter_or_null(expr));
        const bool filtered = endpoints::filter_service_names(who, read.services);
        JsonWriter w;
        w.begin_object();  // {} when there are none, never null
        for (const auto& [name, tags] : read.services) {
          w.key(name);
          write_tags(w, tags);
        }
        w.end_object();
        return ReadOutcome{read.index, filtered_json(w.take(), filtered)};
      });
}

void catalog_service_nodes(endpoints::Context& ctx, const Request& req, Reply reply) {
  std::string name(path_suffix(req, "/v1/catalog/service/"));
  if (name.empty()) return reply(Response::text(400, "Missing service name"));
  std::vector<std::string> tags;
  for (const auto& [k, v] : req.query) {
    if (k == "tag") tags.push_back(v);
  }
  auto expr = query_filter(req, endpoints::compile_service_node_filter);
  if (!expr) return reply(bad_request(expr.error().message));
  auto node_meta = node_meta_filter(req);
  auto who = authorize(ctx, req, reply);
  if (!who) return;
  if (acl_filters(ctx)) {
    // Under ACLs each token may see different rows: no shared rendering. A service the token
    // may not read answers an empty list (Consul's ServiceNodes returns nothing for it).
    return reply_blocking(
        req, reply,
        [&ctx, name, tags, node_meta, near = near_origin(ctx, req), expr = std::move(*expr),
         who = *who](state::WatchSet& ws) {
          auto read = endpoints::catalog_service_nodes(ctx, ws, name, tags, node_meta,
                                                       filter_or_null(expr));
          if (near) {
            endpoints::sort_near(ctx.store.snapshot(), *near, read.nodes,
                                 [](const auto& sn) -> const std::string& { return sn.node.node; });
          }
          bool filtered = endpoints::filter_service_nodes(who, read.nodes);
          JsonWriter w;
          w.begin_array();
          for (const auto& sn : read.nodes) write_service_node(w, sn);
          w.end_array();
          return ReadOutcome{read.index, filtered_json(w.take(), filtered)};
        });
  }
  reply_blocking(
      req, reply,
      [&ctx, key = rendering_key(req), name, tags, node_meta, near = near_origin(ctx, req),
       expr = std::move(*expr)](state::WatchSet& ws) {
        ctx.store.watch_service(ws, name);
        state::Snapshot snap = ctx.store.snapshot();
        const std::uint64_t index = endpoints::catalog_service_index(snap, name);
        auto render = [&] {
          auto read =
              endpoints::catalog_service_nodes(snap, name, tags, node_meta, filter_or_null(expr));
          if (near) {
            endpoints::sort_near(snap, *near, read.nodes,
                                 [](const auto& sn) -> const std::string& { return sn.node.node; });
          }
          JsonWriter w;
          w.reserve(256 + read.nodes.size() * 512);  // about 350 bytes each
          w.begin_array();
          for (const auto& sn : read.nodes) write_service_node(w, sn);
          w.end_array();
          return w.take();
        };
        // A ?near= order follows coordinates, which the index does not cover: never shared.
        if (near) return ReadOutcome{index, Response::json(render())};
        return shared_rendering(ctx, key, index, render);
      });
}

void catalog_nodes(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto who = authorize(ctx, req, reply);
  if (!who) return;
  auto expr = query_filter(req, endpoints::compile_node_filter);
  if (!expr) return reply(bad_request(expr.error().message));
  auto node_meta = node_meta_filter(req);
  reply_blocking(req, reply,
                 [&ctx, node_meta, near = near_origin(ctx, req), expr = std::move(*expr),
                  who = *who](state::WatchSet& ws) {
                   auto read = endpoints::catalog_nodes(ctx, ws, node_meta, filter_or_null(expr));
                   if (near) {
                     endpoints::sort_near(
                         ctx.store.snapshot(), *near, read.nodes,
                         [](const state::Node& n) -> const std::string& { return n.node; });
                   }
                   const bool filtered = endpoints::filter_nodes(who, read.nodes);
                   JsonWriter w;
                   w.begin_array();
                   for (const auto& n : read.nodes) write_node(w, n);
                   w.end_array();
                   return ReadOutcome{read.index, filtered_json(w.take(), filtered)};
                 });
}

void catalog_node_services(endpoints::Context& ctx, const Request& req, Reply reply) {
  reply_node_services(ctx, req, reply, "/v1/catalog/node/", write_node_services);
}

void catalog_node_service_list(endpoints::Context& ctx, const Request& req, Reply reply) {
  reply_node_services(ctx, req, reply, "/v1/catalog/node-services/", write_node_service_list);
}

}  // namespace pc::http::handlers
