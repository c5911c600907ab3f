#include "http/handlers/common.h"

#include "http/errors.h"
#include "http/query.h"

namespace pc::http::handlers {

void reply_blocking(const Request& req, Reply& reply,
                    std::function<ReadOutcome(state::WatchSet&)> run) {
  auto options = parse_query_options(req);
  if (!options) {
    reply(error_response(options.error()));
    return;
  }
  // With one server every mode reads the same committed state; the header still tells the
  // client which mode it got, as Consul's does.
  std::string consistency = options->stale        ? "stale"
                            : options->consistent ? "consistent"
                                                  : "leader";
  BlockingRead read;
  read.min_index = options->min_index;
  read.wait = options->wait;
  read.run = [run = std::move(run), consistency](state::WatchSet& ws) {
    ReadOutcome out = run(ws);
    out.response.headers.emplace_back("X-Consul-Effective-Consistency", consistency);
    return out;
  };
  reply(std::move(read));
}

Response bool_response(bool value) {
  return Response::json(value ? "true" : "false");
}

std::string_view path_suffix(const Request& req, std::string_view prefix) {
  std::string_view path = req.path;
  if (path.substr(0, prefix.size()) == prefix) path.remove_prefix(prefix.size());
  return path;
}

void write_dir_entry(JsonWriter& w, const state::DirEntry& e, bool with_value) {
  w.begin_object();
  w.key("LockIndex");
  w.number(e.lock_index);
  w.key("Key");
  w.string(e.key);
  w.key("Flags");
  w.number(e.flags);
  w.key("Value");
  // Go marshals a nil []byte as null: Consul stores an empty body as nil.
  if (with_value && !e.value.empty()) {
    w.base64(e.value);
  } else {
    w.null();
  }
  if (!e.session.empty()) {
    w.key("Session");
    w.string(e.session);
  }
  w.key("CreateIndex");
  w.number(e.create_index);
  w.key("ModifyIndex");
  w.number(e.modify_index);
  w.end_object();
}

void write_session(JsonWriter& w, const state::Session& s) {
  w.begin_object();
  w.key("ID");
  w.string(s.id);
  w.key("Name");
  w.string(s.name);
  w.key("Node");
  w.string(s.node);
  w.key("LockDelay");
  w.number(s.lock_delay_ns);
  w.key("Behavior");
  w.string(s.behavior);
  w.key("TTL");
  w.string(s.ttl);
  w.key("NodeChecks");
  if (s.node_checks.empty()) {
    w.null();
  } else {
    w.begin_array();
    for (const auto& c : s.node_checks) w.string(c);
    w.end_array();
  }
  w.key("ServiceChecks");
  if (s.service_checks.empty()) {
    w.null();
  } else {
    w.begin_array();
    for (const auto& c : s.service_checks) {
      w.begin_object();
      w.key("ID");
      w.string(c.id);
      w.key("Namespace");
      w.string(c.ns);
      w.end_object();
    }
    w.end_array();
  }
  w.key("CreateIndex");
  w.number(s.create_index);
  w.key("ModifyIndex");
  w.number(s.modify_index);
  w.end_object();
}

}  // namespace pc::http::handlers
