// /v1/txn — Consul's transaction endpoint for KV operations: all applied, or none.
#include <boost/json.hpp>

#include "core/limits.h"
#include "endpoints/acl_filter.h"
#include "endpoints/kv.h"
#include "http/acl_auth.h"
#include "http/errors.h"
#include "http/handlers/common.h"
#include "http/handlers/handlers.h"
#include "http/json/read.h"
#include "proto/commands.pb.h"

namespace pc::http::handlers {
namespace {

struct VerbName {
  std::string_view name;
  proto::KvOp::Verb verb;
};

constexpr VerbName kVerbs[] = {
    {"set", proto::KvOp::SET},
    {"delete", proto::KvOp::DELETE},
    {"delete-tree", proto::KvOp::DELETE_TREE},
    {"delete-cas", proto::KvOp::DELETE_CAS},
    {"cas", proto::KvOp::CAS},
    {"lock", proto::KvOp::LOCK},
    {"unlock", proto::KvOp::UNLOCK},
    {"get", proto::KvOp::GET},
    {"get-tree", proto::KvOp::GET_TREE},
    {"check-index", proto::KvOp::CHECK_INDEX},
    {"check-session", proto::KvOp::CHECK_SESSION},
    {"check-not-exists", proto::KvOp::CHECK_NOT_EXISTS},
};

Response parse_error(const std::string& what) {
  return Response::text(400, "Failed to parse body: " + what);
}

Response conflict(std::size_t op_index, const std::string& what) {
  JsonWriter w;
  w.begin_object();
  w.key("Results");
  w.null();
  w.key("Errors");
  w.begin_array();
  w.begin_object();
  w.key("OpIndex");
  w.number(static_cast<std::uint64_t>(op_index));
  w.key("What");
  w.string(what);
  w.end_object();
  w.end_array();
  w.end_object();
  Response r = Response::json(w.take());
  r.status = 409;
  return r;
}

}  // namespace

void txn(endpoints::Context& ctx, const Request& req, Reply reply) {
  if (req.body.size() > core::limits::txn_request_size_max) {
    reply(Response::text(413, "Request body too large, max size: " +
                                  std::to_string(core::limits::txn_request_size_max) + " bytes"));
    return;
  }
  constexpr std::string_view kContext = "Failed to parse body";
  auto body = parse_json_body(req.body, kContext);
  if (!body) return reply(Response::text(400, body.error().message));
  if (!body->is_array()) return reply(parse_error("the body must be a JSON array of operations"));
  const auto& items = body->as_array();
  if (items.size() > core::limits::txn_ops_max) {
    reply(Response::text(413, "Transaction contains too many operations (" +
                                  std::to_string(items.size()) + " > " +
                                  std::to_string(core::limits::txn_ops_max) + ")"));
    return;
  }
  std::vector<proto::KvOp> ops;
  ops.reserve(items.size());
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (!items[i].is_object())
      return reply(parse_error("operation " + std::to_string(i) + " is not an object"));
    const auto& item = items[i].as_object();
    const boost::json::value* kv = find_field(item, "KV");
    if (kv == nullptr || kv->is_null()) {
      if (find_field(item, "Node") || find_field(item, "Service") || find_field(item, "Check")) {
        return reply(parse_error("operation " + std::to_string(i) +
                                 ": Node, Service and Check operations are not supported yet"));
      }
      return reply(parse_error("operation " + std::to_string(i) + " has no KV member"));
    }
    if (!kv->is_object())
      return reply(parse_error("operation " + std::to_string(i) + ": KV is not an object"));
    const auto& o = kv->as_object();
    auto verb = get_string(o, "Verb", kContext);
    auto key = get_string(o, "Key", kContext);
    auto session = get_string(o, "Session", kContext);
    auto value = get_bytes(o, "Value", kContext);
    auto flags = get_uint64(o, "Flags", kContext);
    auto index = get_uint64(o, "Index", kContext);
    for (const core::Error* e :
         {verb ? nullptr : &verb.error(), key ? nullptr : &key.error(),
          session ? nullptr : &session.error(), value ? nullptr : &value.error(),
          flags ? nullptr : &flags.error(), index ? nullptr : &index.error()}) {
      if (e != nullptr) return reply(Response::text(400, e->message));
    }
    std::string decoded = value->value_or("");
    if (decoded.size() > core::limits::kv_value_size_max) {
      reply(Response::text(413, "Value for key \"" + key->value_or("") + "\" is too large (" +
                                    std::to_string(decoded.size()) + " > " +
                                    std::to_string(core::limits::kv_value_size_max) + " bytes)"));
      return;
    }
    const VerbName* known = nullptr;
    for (const auto& v : kVerbs) {
      if (v.name == verb->value_or("")) known = &v;
    }
    if (known == nullptr) {
      // Consul lets the state store reject it, which rolls the transaction back.
      return reply(conflict(i, "unknown KV verb \"" + verb->value_or("") + "\""));
    }
    proto::KvOp op;
    op.set_verb(known->verb);
    op.set_key(key->value_or(""));
    op.set_value(std::move(decoded));
    op.set_flags(flags->value_or(0));
    op.set_index(index->value_or(0));
    op.set_session(session->value_or(""));
    ops.push_back(std::move(op));
  }
  // Consul's Txn preCheck: an op the token may not perform fails the whole transaction.
  auto who = authorize(ctx, req, reply);
  if (!who) return;
  for (std::size_t i = 0; i < ops.size(); ++i) {
    if (auto st = endpoints::check_kv_op(*who, ops[i]); !st) {
      return reply(conflict(i, st.error().message));
    }
  }
  const bool read_only = endpoints::kv_txn_is_read_only(ops);
  // Consul serves a read-only transaction like a read and says so in the leader headers.
  std::vector<std::pair<std::string, std::string>> headers;
  if (read_only) {
    auto leader = ctx.log.leader();
    headers = {{"X-Consul-KnownLeader", leader.known_leader ? "true" : "false"},
               {"X-Consul-LastContact", std::to_string(leader.last_contact_ms)}};
  }
  endpoints::kv_txn(ctx, ops,
                    [reply = std::move(reply),
                     headers = std::move(headers)](core::Result<endpoints::TxnOutcome> r) {
                      if (!r) return reply(rpc_error_response(r.error()));
                      JsonWriter w;
                      w.begin_object();
                      if (!r->errors.empty()) {
                        w.key("Results");
                        w.null();
                        w.key("Errors");
                        w.begin_array();
                        for (const auto& e : r->errors) {
                          w.begin_object();
                          w.key("OpIndex");
                          w.number(static_cast<std::uint64_t>(e.op_index));
                          w.key("What");
                          w.string(e.what);
                          w.end_object();
                        }
                        w.end_array();
                        w.end_object();
                        Response resp = Response::json(w.take());
                        resp.status = 409;
                        resp.headers = headers;
                        return reply(std::move(resp));
                      }
                      w.key("Results");
                      bool any = false;
                      for (const auto& result : r->results) any = any || result.has_value();
                      if (!any) {
                        w.null();
                      } else {
                        w.begin_array();
                        for (const auto& result : r->results) {
                          if (!result) continue;
                          w.begin_object();
                          w.key("KV");
                          write_dir_entry(w, *result, true);
                          w.end_object();
                        }
                        w.end_array();
                      }
                      w.key("Errors");
                      w.null();
                      w.end_object();
                      Response resp = Response::json(w.take());
                      resp.headers = headers;
                      reply(std::move(resp));
                    });
}

}  // namespace pc::http::handlers
