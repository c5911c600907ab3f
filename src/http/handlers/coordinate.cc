// /v1/coordinate/* — Consul's coordinate endpoints (agent/coordinate_endpoint.go), and the
// ?near= origin the catalog and health reads sort from.
#include <boost/json.hpp>

#include "endpoints/acl_checks.h"
#include "endpoints/coordinate.h"
#include "http/acl_auth.h"
#include "http/errors.h"
#include "http/handlers/common.h"
#include "http/handlers/handlers.h"
#include "http/json/coordinate.h"
#include "http/json/read.h"
#include "proto/commands.pb.h"

namespace pc::http::handlers {
namespace {

// structs.Coordinate: {Node, Segment, Coord} (Partition is omitted outside Enterprise).
void write_node_coordinate(JsonWriter& w, std::string_view node, std::string_view segment,
                           const gossip::Coordinate& c) {
  w.begin_object();
  w.string_field("Node", node);
  w.string_field("Segment", segment);
  w.key("Coord");
  write_coordinate(w, c);
  w.end_object();
}

std::string render_rows(const std::vector<state::CoordinateRow>& rows) {
  JsonWriter w;
  w.begin_array();
  for (const auto& r : rows) {
    write_node_coordinate(w, r.node, r.segment, endpoints::to_coordinate(r));
  }
  w.end_array();
  return w.take();
}

// A number field of the Coord object: absent or null is 0, as Go leaves a float64.
core::Status read_number(const boost::json::object& o, std::string_view name, double* out) {
  auto v = get_double(o, name);
  if (!v) return v.error();
  if (*v) *out = **v;
  return core::ok();
}

// structs.CoordinateUpdateRequest: {Node, Segment, Coord: {Vec, Error, Adjustment, Height}}.
core::Result<proto::CoordinateUpdate> parse_update(std::string_view body) {
  auto parsed = parse_json_body(body);
  if (!parsed) return parsed.error();
  auto obj = body_object(*parsed);
  if (!obj) return obj.error();
  proto::CoordinateUpdate u;
  for (auto [name, setter] :
       {std::pair<std::string_view, std::string* (proto::CoordinateUpdate::*)()>{
            "Node", &proto::CoordinateUpdate::mutable_node},
        {"Segment", &proto::CoordinateUpdate::mutable_segment}}) {
    auto v = get_string(**obj, name);
    if (!v) return v.error();
    if (*v) *(u.*setter)() = std::move(**v);
  }
  auto coord = get_object(**obj, "Coord");
  if (!coord) return coord.error();
  if (*coord == nullptr) {
    // Consul dereferences a nil Coord; refuse it as the unusable coordinate it is.
    return core::make_error(core::Code::kInvalidArgument, "invalid coordinate");
  }
  const auto& c = **coord;
  auto vec = get_array(c, "Vec");
  if (!vec) return vec.error();
  if (*vec != nullptr) {
    // More than any coordinate has is refused by validation; bound what we copy.
    if ((*vec)->size() > gossip::kCoordinateDimensionalityMax + 1) {
      return core::make_error(core::Code::kInvalidArgument, "invalid coordinate");
    }
    for (const auto& x : **vec) {
      if (!x.is_number()) return type_error(x, "Coord.Vec", "float64");
      u.add_vec(x.to_number<double>());
    }
  }
  double error = 0, adjustment = 0, height = 0;
  for (auto [name, out] : {std::pair<std::string_view, double*>{"Error", &error},
                           {"Adjustment", &adjustment},
                           {"Height", &height}}) {
    if (auto st = read_number(c, name, out); !st) return st.error();
  }
  u.set_error(error);
  u.set_adjustment(adjustment);
  u.set_height(height);
  return u;
}

}  // namespace

void coordinate_datacenters(endpoints::Context& ctx, const Request&, Reply reply) {
  std::vector<endpoints::WanServerCoordinate> servers;
  if (ctx.wan_coordinates) servers = ctx.wan_coordinates();
  const auto dcs = endpoints::coordinate_datacenters(ctx.identity.datacenter, std::move(servers));
  JsonWriter w;
  w.begin_array();
  for (const auto& dc : dcs) {
    w.begin_object();
    w.string_field("Datacenter", dc.datacenter);
    w.string_field("AreaID", dc.area_id);
    w.key("Coordinates");
    w.begin_array();
    for (const auto& s : dc.coordinates) write_node_coordinate(w, s.node, "", s.coordinate);
    w.end_array();
    w.end_object();
  }
  w.end_array();
  reply(Response::json(w.take()));
}

void coordinate_nodes(endpoints::Context& ctx, const Request& req, Reply reply) {
  std::optional<std::string> segment;
  if (const auto* s = req.query_param("segment")) segment = *s;
  auto who = authorize(ctx, req, reply);
  if (!who) return;
  reply_blocking(req, reply, [&ctx, segment, who = *who](state::WatchSet& ws) {
    auto read = endpoints::coordinate_nodes(ctx, ws, segment ? &*segment : nullptr);
    const bool filtered = endpoints::filter_coordinates(who, read.rows);
    return ReadOutcome{read.index, filtered_json(render_rows(read.rows), filtered)};
  });
}

void coordinate_node(endpoints::Context& ctx, const Request& req, Reply reply) {
  std::string node(path_suffix(req, "/v1/coordinate/node/"));
  if (node.empty()) return reply(Response::text(400, "Missing node name"));
  std::optional<std::string> segment;
  if (const auto* s = req.query_param("segment")) segment = *s;
  auto who = authorize(ctx, req, reply);
  if (!who) return;
  reply_blocking(req, reply, [&ctx, node, segment, who = *who](state::WatchSet& ws) {
    auto read = endpoints::coordinate_node(ctx, ws, node, segment ? &*segment : nullptr);
    // Consul answers a node without coordinates with an empty 404, and so one the token may
    // not read (node:read) once its rows are filtered out.
    const bool filtered = endpoints::filter_coordinates(who, read.rows);
    if (read.rows.empty()) {
      Response none = Response::text(404, "");
      if (filtered) none.headers.emplace_back(std::string(kResultsFilteredHeader), "true");
      return ReadOutcome{read.index, std::move(none)};
    }
    return ReadOutcome{read.index, Response::json(render_rows(read.rows))};
  });
}

void coordinate_update(endpoints::Context& ctx, const Request& req, Reply reply) {
  auto update = parse_update(req.body);
  if (!update) {
    // Decode errors are the edge's (400); an unusable Coord is the RPC's answer (500).
    if (update.error().message == "invalid coordinate") {
      return reply(rpc_error_response(update.error()));
    }
    return reply(error_response(update.error()));
  }
  if (!require(ctx, req, reply, [&update](const endpoints::ResolvedToken& who) {
        return endpoints::require_rule(who, acl::Resource::kNode, update->node(),
                                       acl::AccessLevel::kWrite);
      })) {
    return;
  }
  endpoints::coordinate_update(ctx, ctx.coordinate_batcher, *update, ctx.coordinate_dimensionality,
                               [reply = std::move(reply)](core::Result<bool> r) mutable {
                                 if (!r) return reply(rpc_error_response(r.error()));
                                 // Consul's handler returns no object: an empty 200.
                                 Response ok = Response::json("");
                                 reply(std::move(ok));
                               });
}

std::optional<std::string> near_origin(const endpoints::Context& ctx, const Request& req) {
  const std::string* near = req.query_param("near");
  if (near == nullptr || near->empty()) return std::nullopt;
  if (*near == "_agent") return ctx.identity.node_name;
  return *near;
}

}  // namespace pc::http::handlers
