// /v1/query and /v1/query/<id>[/execute|/explain] — Consul's prepared query endpoints
// (agent/prepared_query_endpoint.go): create with POST, list, read, update with PUT, delete,
// execute and explain by ID or name.
#include <boost/json.hpp>

#include <charconv>

#include "endpoints/query.h"
#include "http/acl_auth.h"
#include "http/errors.h"
#include "http/handlers/common.h"
#include "http/handlers/handlers.h"
#include "http/json/read.h"

namespace pc::http::handlers {
namespace {

using Obj = boost::json::object;

// Reads an optional sub-object of `o` into `fill`.
template <class Fn>
core::Status with_object(const Obj& o, std::string_view name, Fn fill) {
  auto sub = get_object(o, name);
  if (!sub) return sub.error();
  if (*sub == nullptr) return core::ok();
  return fill(**sub);
}

core::Status read_string(const Obj& o, std::string_view name, std::string& out) {
  auto v = get_string(o, name);
  if (!v) return v.error();
  if (*v) out = std::move(**v);
  return core::ok();
}

core::Status read_bool(const Obj& o, std::string_view name, bool& out) {
  auto v = get_bool(o, name);
  if (!v) return v.error();
  if (*v) out = **v;
  return core::ok();
}

core::Status read_list(const Obj& o, std::string_view name, std::vector<std::string>& out) {
  auto v = get_string_array(o, name);
  if (!v) return v.error();
  if (*v) out = std::move(**v);
  return core::ok();
}

core::Status read_map(const Obj& o, std::string_view name,
                      std::map<std::string, std::string>& out) {
  auto v = get_string_map(o, name);
  if (!v) return v.error();
  if (*v) out = std::move(**v);
  return core::ok();
}

core::Status read_service(const Obj& o, state::ServiceQuery& s) {
  if (auto st = read_string(o, "Service", s.service); !st) return st;
  if (auto st =
          with_object(o, "Failover",
                      [&](const Obj& f) -> core::Status {
                        auto n = get_int64(f, "NearestN");
                        if (!n) return n.error();
                        if (*n) {
                          if (**n < INT32_MIN || **n > INT32_MAX) {
                            return core::make_error(
                                core::Code::kInvalidArgument,
                                "Request decode failed: json: cannot unmarshal number into Go "
                                "struct field QueryFailoverOptions.Service.Failover.NearestN of "
                                "type int");
                          }
                          s.failover.nearest_n = static_cast<int>(**n);
                        }
                        return read_list(f, "Datacenters", s.failover.datacenters);
                      });
      !st) {
    return st;
  }
  if (auto st = read_bool(o, "OnlyPassing", s.only_passing); !st) return st;
  if (auto st = read_list(o, "IgnoreCheckIDs", s.ignore_check_ids); !st) return st;
  if (auto st = read_string(o, "Near", s.near); !st) return st;
  if (auto st = read_list(o, "Tags", s.tags); !st) return st;
  if (auto st = read_map(o, "NodeMeta", s.node_meta); !st) return st;
  if (auto st = read_map(o, "ServiceMeta", s.service_meta); !st) return st;
  return with_object(o, "Connect",
                     [&](const Obj& c) { return read_bool(c, "Enabled", s.connect); });
}

// A PreparedQuery body as Go's decoder reads it (field names matched as Go matches them).
core::Result<state::PreparedQuery> parse_query(const std::string& body) {
  state::PreparedQuery q;
  if (body.empty()) return q;
  auto parsed = parse_json_body(body);
  if (!parsed) return parsed.error();
  auto object = body_object(*parsed);
  if (!object) return object.error();
  const Obj& o = **object;
  for (auto [name, out] : {std::pair<std::string_view, std::string*>{"ID", &q.id},
                           {"Name", &q.name},
                           {"Session", &q.session},
                           {"Token", &q.token}}) {
    if (auto st = read_string(o, name, *out); !st) return st.error();
  }
  if (auto st = with_object(o, "Template",
                            [&](const Obj& t) -> core::Status {
                              if (auto st = read_string(t, "Type", q.tmpl.type); !st) return st;
                              if (auto st = read_string(t, "Regexp", q.tmpl.regexp); !st) return st;
                              return read_bool(t, "RemoveEmptyTags", q.tmpl.remove_empty_tags);
                            });
      !st) {
    return st.error();
  }
  if (auto st = with_object(o, "Service", [&](const Obj& s) { return read_service(s, q.service); });
      !st) {
    return st.error();
  }
  if (auto st =
          with_object(o, "DNS", [&](const Obj& d) { return read_string(d, "TTL", q.dns_ttl); });
      !st) {
    return st.error();
  }
  return q;
}

void write_list(JsonWriter& w, std::string_view name, const std::vector<std::string>& items) {
  w.key(name);
  write_tags(w, items);
}

void write_query(JsonWriter& w, const state::PreparedQuery& q, bool with_indexes = true) {
  w.begin_object();
  w.string_field("ID", q.id);
  w.string_field("Name", q.name);
  w.string_field("Session", q.session);
  w.string_field("Token", q.token);
  w.key("Template");
  w.begin_object();
  w.string_field("Type", q.tmpl.type);
  w.string_field("Regexp", q.tmpl.regexp);
  w.key("RemoveEmptyTags");
  w.boolean(q.tmpl.remove_empty_tags);
  w.end_object();
  w.key("Service");
  w.begin_object();
  const state::ServiceQuery& s = q.service;
  w.string_field("Service", s.service);
  w.key("Failover");
  w.begin_object();
  w.number_field("NearestN", s.failover.nearest_n);
  write_list(w, "Datacenters", s.failover.datacenters);
  w.end_object();
  w.key("OnlyPassing");
  w.boolean(s.only_passing);
  write_list(w, "IgnoreCheckIDs", s.ignore_check_ids);
  w.string_field("Near", s.near);
  write_list(w, "Tags", s.tags);
  w.key("NodeMeta");
  write_map_or_null(w, s.node_meta);
  w.key("ServiceMeta");
  write_map_or_null(w, s.service_meta);
  w.key("Connect");
  w.begin_object();
  w.key("Enabled");
  w.boolean(s.connect);
  w.end_object();
  w.end_object();
  w.key("DNS");
  w.begin_object();
  w.string_field("TTL", q.dns_ttl);
  w.end_object();
  if (with_indexes) {
    w.number_field("CreateIndex", q.create_index);
    w.number_field("ModifyIndex", q.modify_index);
  }
  w.end_object();
}

Response queries_json(const std::vector<state::PreparedQuery>& queries, bool filtered) {
  JsonWriter w;
  w.begin_array();
  for (const auto& q : queries) write_query(w, q);
  w.end_array();
  return filtered_json(w.take(), filtered);
}

Response result_json(const endpoints::QueryResult& r) {
  JsonWriter w;
  w.begin_object();
  w.string_field("Service", r.service);
  w.key("Nodes");
  w.begin_array();
  for (const auto& csn : r.nodes) write_check_service_node(w, csn);
  w.end_array();
  w.key("DNS");
  w.begin_object();
  w.string_field("TTL", r.dns_ttl);
  w.end_object();
  w.string_field("Datacenter", r.datacenter);
  w.number_field("Failovers", r.failovers);
  w.end_object();
  Response resp = filtered_json(w.take(), r.filtered);
  resp.headers.emplace_back("X-Consul-Index", std::to_string(std::max<std::uint64_t>(r.index, 1)));
  return resp;
}

// Consul answers "Query not found" with 404 and the rest of the RPC's errors with 500 (403
// for a denial).
Response query_error(const core::Error& e) {
  if (e.code == core::Code::kNotFound) return Response::text(404, e.message);
  return rpc_error_response(e);
}

// Consul's parseLimit (strconv.Atoi); a bad one is a 500 "Bad limit: ...".
core::Result<int> parse_limit(const Request& req) {
  const std::string* v = req.query_param("limit");
  if (v == nullptr || v->empty()) return 0;
  int n = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || end != v->data() + v->size()) {
    return core::make_error(core::Code::kInternal,
                            "Bad limit: strconv.Atoi: parsing \"" + *v + "\": invalid syntax");
  }
  return n;
}

void query_execute_or_explain(endpoints::Context& ctx, const Request& req, Reply& reply,
                              const std::string& id, bool explain) {
  auto limit = parse_limit(req);
  if (!limit) return reply(Response::text(500, limit.error().message));
  auto who = authorize(ctx, req, reply);
  if (!who) return;
  if (explain) {
    auto q = endpoints::query_explain(ctx, *who, id);
    if (!q) return reply(query_error(q.error()));
    JsonWriter w;
    w.begin_object();
    w.key("Query");
    write_query(w, *q);
    w.end_object();
    return reply(Response::json(w.take()));
  }
  endpoints::QueryExecuteOptions options;
  if (const auto* near = req.query_param("near")) options.near = *near;
  options.source_ip = req.remote_addr;
  options.limit = *limit;
  options.secret = request_token(req);
  endpoints::query_execute(ctx, id, std::move(options),
                           [reply](core::Result<endpoints::QueryResult> r) {
                             if (!r) return reply(query_error(r.error()));
                             reply(result_json(*r));
                           });
}

}  // namespace

void query_general(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto who = authorize(ctx, req, reply);
  if (!who) return;
  if (req.method == "POST") {
    auto q = parse_query(req.body);
    if (!q) return reply(Response::text(400, q.error().message));
    return endpoints::query_create(ctx, *who, std::move(*q), [reply](core::Result<std::string> r) {
      if (!r) return reply(query_error(r.error()));
      JsonWriter w;
      w.begin_object();
      w.string_field("ID", *r);
      w.end_object();
      reply(Response::json(w.take()));
    });
  }
  reply_blocking(req, reply, [&ctx, who = *who](state::WatchSet& ws) {
    auto read = endpoints::query_list(ctx, ws, who);
    return ReadOutcome{read.index, queries_json(read.queries, read.filtered)};
  });
}

void query_specific(endpoints::Context& ctx, const Request& req, Reply reply) {
  std::string id(path_suffix(req, "/v1/query/"));
  for (auto [suffix, explain] : {std::pair{std::string_view("/execute"), false},
                                 std::pair{std::string_view("/explain"), true}}) {
    if (id.ends_with(suffix)) {
      if (req.method != "GET") return reply(method_not_allowed(req.method, "OPTIONS,GET"));
      id.resize(id.size() - suffix.size());
      return query_execute_or_explain(ctx, req, reply, id, explain);
    }
  }
  auto who = authorize(ctx, req, reply);
  if (!who) return;
  auto done_empty = [reply](core::Result<bool> r) {
    if (!r) return reply(query_error(r.error()));
    reply(Response::json(""));
  };
  if (req.method == "PUT") {
    auto q = parse_query(req.body);
    if (!q) return reply(Response::text(400, q.error().message));
    q->id = id;  // the path's ID, not the body's
    return endpoints::query_update(ctx, *who, std::move(*q), done_empty);
  }
  if (req.method == "DELETE") return endpoints::query_delete(ctx, *who, id, done_empty);
  reply_blocking(req, reply, [&ctx, id, who = *who](state::WatchSet& ws) {
    auto read = endpoints::query_get(ctx, ws, who, id);
    if (!read) {
      Response r = read.error().code == core::Code::kNotFound
                       ? Response::text(404, read.error().message)
                       : acl_error_response(read.error());
      return ReadOutcome{ctx.store.snapshot().table_index(state::Table::kPreparedQueries),
                         std::move(r)};
    }
    return ReadOutcome{read->index, queries_json(read->queries, false)};
  });
}

}  // namespace pc::http::handlers
