// /v1/operator/raft/* and /v1/operator/autopilot/* — Consul's operator endpoints for the Raft
// configuration and server health.
#include <ctime>

#include "core/duration.h"
#include "endpoints/operator.h"
#include "http/acl_auth.h"
#include "http/errors.h"
#include "http/handlers/common.h"
#include "http/handlers/handlers.h"
#include "http/query.h"

namespace pc::http::handlers {
namespace {

// Go's time.Time as encoding/json writes it after Consul's Round(time.Second).UTC():
// RFC 3339 with no fraction, "2026-11-27T18:00:05Z".
std::string rfc3339_seconds(core::WallTime t) {
  using namespace std::chrono;
  const auto ns = duration_cast<nanoseconds>(t.time_since_epoch()).count();
  constexpr std::int64_t kNsPerSecond = 1'000'000'000;
  // Round half up, as Go's Time.Round does for a positive remainder.
  std::int64_t secs = ns / kNsPerSecond;
  std::int64_t rem = ns % kNsPerSecond;
  if (rem < 0) {
    rem += kNsPerSecond;
    --secs;
  }
  if (rem >= kNsPerSecond / 2) ++secs;
  const std::time_t tt = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Consul's s.parse for the autopilot configuration read: only the option checks matter
// (?stale changes nothing: every server answers from its own agent configuration).
bool reject_bad_options(const Request& req, Reply& reply) {
  core::Result<QueryOptions> options = parse_query_options(req);
  if (!options) {
    reply(error_response(options.error()));
    return true;
  }
  return false;
}

void render_raft_configuration(const endpoints::RaftConfigurationReply& config, Reply& reply) {
  JsonWriter w;
  w.begin_object();
  w.key("Servers");
  w.begin_array();
  for (const endpoints::RaftPeer& s : config.servers) {
    w.begin_object();
    w.string_field("ID", s.id);
    w.string_field("Node", s.node);
    w.string_field("Address", s.address);
    w.bool_field("Leader", s.leader);
    w.string_field("ProtocolVersion", s.protocol_version);
    w.bool_field("Voter", s.voter);
    w.number_field("LastIndex", s.last_index);
    w.end_object();
  }
  w.end_array();
  w.number_field("Index", config.index);
  w.end_object();
  reply(Response::json(w.take()));
}

void render_autopilot_health(const endpoints::AutopilotHealth& health, Reply& reply) {
  JsonWriter w;
  w.begin_object();
  w.bool_field("Healthy", health.healthy);
  w.number_field("FailureTolerance", health.failure_tolerance);
  w.key("Servers");
  w.begin_array();
  for (const endpoints::ServerHealth& s : health.servers) {
    w.begin_object();
    w.string_field("ID", s.id);
    w.string_field("Name", s.name);
    w.string_field("Address", s.address);
    w.string_field("SerfStatus", s.serf_status);
    w.string_field("Version", s.version);
    w.bool_field("Leader", s.leader);
    w.string_field("LastContact", core::format_go_duration(s.last_contact));
    w.number_field("LastTerm", s.last_term);
    w.number_field("LastIndex", s.last_index);
    w.bool_field("Healthy", s.healthy);
    w.bool_field("Voter", s.voter);
    w.string_field("StableSince", rfc3339_seconds(s.stable_since));
    w.end_object();
  }
  w.end_array();
  w.end_object();
  Response r = Response::json(w.take());
  // Consul answers 429 Too Many Requests, body and all, while any server is unhealthy.
  if (!health.healthy) r.status = 429;
  reply(std::move(r));
}

// Runs `render` with the leader's view of the configuration (asked of the leader from a
// follower, as Consul forwards these reads), or with this server's own view for ?stale.
// Without a leader to ask the answer is Consul's 500 "No cluster leader".
void with_configuration(endpoints::Context& ctx, const Request& req, Reply reply,
                        std::function<void(const consensus::RaftConfiguration&, Reply&)> render) {
  core::Result<QueryOptions> options = parse_query_options(req);
  if (!options) {
    reply(error_response(options.error()));
    return;
  }
  if (options->stale) {
    render(ctx.log.configuration(), reply);
    return;
  }
  ctx.log.leader_configuration(
      [reply, render = std::move(render)](core::Result<consensus::RaftConfiguration> c) mutable {
        if (!c) {
          reply(rpc_error_response(c.error()));
          return;
        }
        render(*c, reply);
      });
}

}  // namespace

void operator_raft_configuration(endpoints::Context& ctx, const Request& req, Reply reply) {
  if (!require_operator(ctx, req, reply, false)) return;
  with_configuration(ctx, req, std::move(reply),
                     [&ctx](const consensus::RaftConfiguration& raft, Reply& reply) {
                       render_raft_configuration(endpoints::raft_configuration(ctx, raft), reply);
                     });
}

void operator_raft_peer(endpoints::Context& ctx, const Request& req, Reply reply) {
  if (!require_operator(ctx, req, reply, true)) return;
  const std::string* id = req.query_param("id");
  const std::string* address = req.query_param("address");
  if (id == nullptr && address == nullptr) {
    reply(bad_request(
        "Must specify either ?id with the server's ID or ?address with IP:port of peer to "
        "remove"));
    return;
  }
  if (id != nullptr && address != nullptr) {
    reply(bad_request("Must specify only one of ?id or ?address"));
    return;
  }
  // Consul answers a removal with an empty 200; its errors come back from an RPC, so 500.
  auto done = [reply](core::Status s) {
    if (!s) {
      reply(rpc_error_response(s.error()));
      return;
    }
    // Consul writes no body and no Content-Type for a nil result.
    Response r;
    r.content_type.clear();
    reply(std::move(r));
  };
  if (address != nullptr) {
    endpoints::raft_remove_peer_by_address(ctx, *address, std::move(done));
  } else {
    endpoints::raft_remove_peer_by_id(ctx, *id, std::move(done));
  }
}

void operator_raft_transfer_leader(endpoints::Context& ctx, const Request& req, Reply reply) {
  if (!require_operator(ctx, req, reply, true)) return;
  const std::string* id = req.query_param("id");
  endpoints::raft_transfer_leader(ctx, id == nullptr ? std::string() : *id,
                                  [reply](core::Status s) {
                                    if (!s) {
                                      reply(rpc_error_response(s.error()));
                                      return;
                                    }
                                    JsonWriter w;
                                    w.begin_object();
                                    w.bool_field("Success", true);
                                    w.end_object();
                                    reply(Response::json(w.take()));
                                  });
}

void operator_autopilot_health(endpoints::Context& ctx, const Request& req, Reply reply) {
  if (!require_operator(ctx, req, reply, false)) return;
  with_configuration(
      ctx, req, std::move(reply), [&ctx](const consensus::RaftConfiguration& raft, Reply& reply) {
        render_autopilot_health(
            endpoints::autopilot_health(ctx, endpoints::ServerStability::process(),
                                        endpoints::autopilot_settings().max_trailing_logs, raft),
            reply);
      });
}

void operator_autopilot_configuration(endpoints::Context& ctx, const Request& req, Reply reply) {
  if (!require_operator(ctx, req, reply, req.method == "PUT")) return;
  if (req.method == "PUT") {
    // The configuration comes from the agent's `autopilot` block until it is stored in the
    // state store, where a PUT could change it on every server at once.
    reply(Response::text(501,
                         "Updating the autopilot configuration is not supported yet: "
                         "set it in the agent configuration's autopilot block"));
    return;
  }
  if (reject_bad_options(req, reply)) return;
  const endpoints::AutopilotSettings settings = endpoints::autopilot_settings();
  JsonWriter w;
  w.begin_object();
  w.bool_field("CleanupDeadServers", settings.cleanup_dead_servers);
  w.string_field("LastContactThreshold", core::format_go_duration(settings.last_contact_threshold));
  w.number_field("MaxTrailingLogs", settings.max_trailing_logs);
  w.number_field("MinQuorum", settings.min_quorum);
  w.string_field("ServerStabilizationTime",
                 core::format_go_duration(settings.server_stabilization_time));
  w.string_field("RedundancyZoneTag", "");
  w.bool_field("DisableUpgradeMigration", false);
  w.string_field("UpgradeVersionTag", "");
  // Never written through the log, so no index has created or modified it.
  w.number_field("CreateIndex", 0);
  w.number_field("ModifyIndex", 0);
  w.end_object();
  reply(Response::json(w.take()));
}

}  // namespace pc::http::handlers
