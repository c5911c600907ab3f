#include "endpoints/session.h"

#include "core/duration.h"
#include "core/limits.h"
#include "endpoints/session_timers.h"
#include "proto/commands.pb.h"

namespace pc::endpoints {
namespace {

core::Error server_error(std::string message) {
  // Consul's Session.Apply returns plain errors, which its HTTP edge answers with 500.
  return core::make_error(core::Code::kInternal, std::move(message));
}

core::Result<proto::Session> build_session(const Context& ctx, SessionCreateArgs& args,
                                           core::Duration& ttl_out) {
  proto::Session s;
  s.set_name(args.name);
  if (args.node && args.node->empty()) return server_error("Must provide Node");
  s.set_node(args.node.value_or(ctx.identity.node_name));
  if (args.behavior.empty()) args.behavior = "release";
  if (args.behavior != "release" && args.behavior != "delete") {
    return server_error("Invalid Behavior setting '" + args.behavior + "'");
  }
  s.set_behavior(args.behavior);
  ttl_out = core::Duration(0);
  if (!args.ttl.empty()) {
    auto ttl = core::parse_go_duration(args.ttl);
    if (!ttl) return server_error("Session TTL '" + args.ttl + "' invalid: " + ttl.error().message);
    core::Duration max = core::limits::session_ttl_max;
    if (ttl->count() != 0 && (*ttl < ctx.identity.session_ttl_min || *ttl > max)) {
      return server_error("Invalid Session TTL '" + std::to_string(ttl->count()) +
                          "', must be between [" +
                          core::format_go_duration(ctx.identity.session_ttl_min) + "=" +
                          core::format_go_duration(max) + "]");
    }
    ttl_out = *ttl;
  }
  s.set_ttl(args.ttl);
  // Consul accepts any lock delay here and clamps it to its 60 s maximum when the session is
  // invalidated; the apply path does the same.
  std::int64_t lock_delay =
      args.lock_delay_ns.value_or(core::Duration(core::limits::session_lock_delay_default).count());
  s.set_lock_delay_ns(lock_delay);
  if (!args.node_checks) args.node_checks = {"serfHealth"};
  std::size_t checks = (args.node_checks ? args.node_checks->size() : 0) +
                       (args.service_checks ? args.service_checks->size() : 0);
  if (checks > core::limits::session_checks_max) {
    return server_error("Too many session checks: " + std::to_string(checks) + " > " +
                        std::to_string(core::limits::session_checks_max));
  }
  if (args.node_checks) {
    for (const auto& c : *args.node_checks) s.add_node_checks(c);
  }
  if (args.service_checks) {
    for (const auto& c : *args.service_checks) {
      auto* ref = s.add_service_checks();
      ref->set_id(c.id);
      ref->set_namespace_(c.ns);
    }
  }
  return s;
}

}  // namespace

void session_create(Context& ctx, SessionCreateArgs args, Done<std::string> done) {
  core::Duration ttl{0};
  auto session = build_session(ctx, args, ttl);
  if (!session) {
    done(session.error());
    return;
  }
  // The ID is chosen before the command enters the log, so apply stays deterministic.
  state::Snapshot snap = ctx.store.snapshot();
  std::string id;
  do {
    id = core::make_uuid(ctx.rand);
  } while (snap.session_get(id));
  session->set_id(id);
  proto::Command cmd;
  *cmd.mutable_session_create()->mutable_session() = std::move(*session);
  SessionTimers* timers = ctx.session_timers;
  submit(ctx, std::move(cmd),
         [done = std::move(done), id, ttl, timers](core::Result<state::ApplyResult> r) {
           if (!r) {
             done(server_error(r.error().message));
             return;
           }
           if (timers != nullptr && ttl.count() > 0) timers->arm(id, ttl);
           done(id);
         });
}

void session_destroy(Context& ctx, const std::string& id, Done<bool> done) {
  if (id.empty()) {
    done(core::make_error(core::Code::kInvalidArgument, "Missing session"));
    return;
  }
  proto::Command cmd;
  cmd.mutable_session_destroy()->set_id(id);
  SessionTimers* timers = ctx.session_timers;
  submit(ctx, std::move(cmd),
         [done = std::move(done), timers, id](core::Result<state::ApplyResult> r) {
           if (!r) {
             done(r.error());  // the session lives on, and so does its TTL timer
             return;
           }
           if (timers != nullptr) timers->cancel(id);
           done(true);
         });
}

core::Result<std::vector<state::Session>> session_renew(Context& ctx, const std::string& id) {
  auto session = ctx.store.snapshot().session_get(id);
  if (!session) {
    return core::make_error(core::Code::kNotFound, "Session id '" + id + "' not found");
  }
  if (!session->ttl.empty() && ctx.session_timers != nullptr) {
    auto ttl = core::parse_go_duration(session->ttl);
    if (ttl) ctx.session_timers->arm(id, *ttl);
  }
  return std::vector<state::Session>{std::move(*session)};
}

SessionsRead session_info(const Context& ctx, state::WatchSet& ws, const std::string& id) {
  // Consul watches the one row: other sessions coming and going wake nothing.
  ctx.store.watch_session(ws, id);
  state::Snapshot snap = ctx.store.snapshot();
  SessionsRead out;
  out.index = snap.table_index(state::Table::kSessions);
  if (auto s = snap.session_get(id)) out.sessions.push_back(std::move(*s));
  return out;
}

SessionsRead session_node(const Context& ctx, state::WatchSet& ws, const std::string& node) {
  ctx.store.watch_table(ws, state::Table::kSessions);
  state::Snapshot snap = ctx.store.snapshot();
  return SessionsRead{snap.table_index(state::Table::kSessions), snap.session_list_node(node)};
}

SessionsRead session_list(const Context& ctx, state::WatchSet& ws) {
  ctx.store.watch_table(ws, state::Table::kSessions);
  state::Snapshot snap = ctx.store.snapshot();
  return SessionsRead{snap.table_index(state::Table::kSessions), snap.session_list()};
}

}  // namespace pc::endpoints
