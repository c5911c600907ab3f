// /v1/operator/keyring — Consul's gossip keyring operations (agent/operator_endpoint.go
// OperatorKeyringEndpoint): GET lists the keys of every pool, POST installs, PUT makes a key
// the primary, DELETE removes one, each on every member of the pools this agent has.
#include <charconv>

#include "http/errors.h"
#include "http/handlers/common.h"
#include "http/handlers/gossip.h"
#include "http/json/read.h"
#include "http/query.h"

namespace pc::http::handlers {
namespace {

// Consul's -relay-factor bound (agent.ParseRelayFactor).
constexpr int kRelayFactorMax = 5;

void write_counts(JsonWriter& w, std::string_view name, const std::map<std::string, int>& m) {
  w.key(name);
  w.begin_object();
  for (const auto& [k, n] : m) {
    w.key(k);
    w.number(n);
  }
  w.end_object();
}

// Consul's structs.KeyringResponse.
void write_pool(JsonWriter& w, const endpoints::KeyringPoolResult& r) {
  w.begin_object();
  w.key("WAN");
  w.boolean(r.wan);
  w.string_field("Datacenter", r.datacenter);
  w.string_field("Segment", r.segment);
  w.key("Messages");
  w.begin_object();
  for (const auto& [node, message] : r.messages) w.string_field(node, message);
  w.end_object();
  write_counts(w, "Keys", r.keys);
  write_counts(w, "PrimaryKeys", r.primary_keys);
  w.key("NumNodes");
  w.number(r.num_nodes);
  w.string_field("Error", r.error);
  w.end_object();
}

// The request's options and key, or the 400 Consul answers.
core::Result<endpoints::KeyringRequest> parse_request(const Request& req) {
  endpoints::KeyringRequest out;
  if (req.method == "GET") {
    out.op = endpoints::KeyringOp::kList;
  } else {
    out.op = req.method == "POST"  ? endpoints::KeyringOp::kInstall
             : req.method == "PUT" ? endpoints::KeyringOp::kUse
                                   : endpoints::KeyringOp::kRemove;
    auto parsed = parse_json_body(req.body);
    if (!parsed) return parsed.error();
    auto object = body_object(*parsed);
    if (!object) return object.error();
    auto key = get_string(**object, "Key");
    if (!key) return key.error();
    out.key = key->value_or("");
  }
  if (const std::string* rf = req.query_param("relay-factor"); rf != nullptr && !rf->empty()) {
    int n = 0;
    auto [end, ec] = std::from_chars(rf->data(), rf->data() + rf->size(), n);
    if (ec != std::errc() || end != rf->data() + rf->size()) {
      return core::make_error(core::Code::kInvalidArgument,
                              "Error parsing relay factor: invalid syntax: " + *rf);
    }
    if (n < 0 || n > kRelayFactorMax) {
      return core::make_error(core::Code::kInvalidArgument,
                              "Invalid relay-factor: Relay factor must be in range: [0, 5]");
    }
    out.relay_factor = n;
  }
  if (const std::string* lo = req.query_param("local-only"); lo != nullptr && !lo->empty()) {
    if (*lo != "true" && *lo != "false" && *lo != "1" && *lo != "0") {
      return core::make_error(core::Code::kInvalidArgument,
                              "Error parsing local-only: invalid syntax: " + *lo);
    }
    out.local_only = *lo == "true" || *lo == "1";
    if (out.local_only && out.op != endpoints::KeyringOp::kList) {
      return core::make_error(core::Code::kInvalidArgument,
                              "Invalid use of local-only: local-only can only be set for list "
                              "requests");
    }
  }
  return out;
}

}  // namespace

void operator_keyring(const endpoints::GossipOps& ops, const Request& req, Reply reply) {
  auto request = parse_request(req);
  if (!request) return reply(bad_request(request.error().message));
  if (!ops.keyring)
    return reply(Response::text(500, "No gossip pool: keyring operations need one"));
  const bool list = request->op == endpoints::KeyringOp::kList;
  ops.keyring(*request, [list, reply = std::move(reply)](
                            core::Result<std::vector<endpoints::KeyringPoolResult>> results) {
    if (!results) return reply(Response::text(500, results.error().message));
    // Consul answers any pool's failure with a 500 and its multierror text.
    if (std::string errors = endpoints::keyring_errors(*results); !errors.empty()) {
      return reply(Response::text(500, errors));
    }
    if (!list) return reply(Response::json(""));
    JsonWriter w;
    w.begin_array();
    for (const endpoints::KeyringPoolResult& r : *results) write_pool(w, r);
    w.end_array();
    reply(Response::json(w.take()));
  });
}

}  // namespace pc::http::handlers
