#include "endpoints/query.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

#include "core/duration.h"
#include "core/rand.h"
#include "core/strings.h"
#include "endpoints/acl_filter.h"
#include "endpoints/coordinate.h"
#include "endpoints/query_rpc.h"
#include "endpoints/query_template.h"
#include "proto/commands.pb.h"
#include "state/query_proto.h"

namespace pc::endpoints {
namespace {

using core::Code;
using core::make_error;

constexpr std::string_view kQueryNotFound = "Query not found";

// Consul's GetACLPrefix: a template's Name (even ""), else a non-empty Name, else none.
std::optional<std::string> acl_prefix(const state::PreparedQuery& q) {
  if (q.is_template() || !q.name.empty()) return q.name;
  return std::nullopt;
}

bool may_write(const ResolvedToken& who, const state::PreparedQuery& q) {
  auto prefix = acl_prefix(q);
  return !prefix || acl::allowed(who.authz->query_write(*prefix));
}

// Consul's PreparedQueryWriteAllowed / ReadAllowed denial: the rule and the query's prefix.
core::Error denied(const ResolvedToken& who, const state::PreparedQuery& q, bool write) {
  auto prefix = acl_prefix(q);
  return permission_denied(who, "query", write ? "write" : "read",
                           prefix ? std::optional<std::string_view>(*prefix) : std::nullopt);
}

// Consul's redactPreparedQueryTokens: with ACLs on, only acl:write sees the stored token.
void redact(const Context& ctx, const ResolvedToken& who, state::PreparedQuery& q) {
  if (ctx.acl == nullptr || !ctx.acl->enabled()) return;
  if (!q.token.empty() && !acl::allowed(who.authz->acl_write())) q.token = kRedactedToken;
}

// Consul's ValidateNodeMetadata (reserved "consul-" keys allowed, as for queries).
core::Status validate_meta(const std::map<std::string, std::string>& meta) {
  constexpr std::size_t kPairsMax = 64, kKeyMax = 128, kValueMax = 512;
  if (meta.size() > kPairsMax) {
    return make_error(
        Code::kInvalidArgument,
        fmt::format("Node metadata cannot contain more than {} key/value pairs", kPairsMax));
  }
  for (const auto& [k, v] : meta) {
    if (k.empty()) return make_error(Code::kInvalidArgument, "Key cannot be blank");
    const bool ok_chars = std::all_of(k.begin(), k.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
    });
    if (!ok_chars) {
      return make_error(Code::kInvalidArgument,
                        fmt::format("Key contains invalid characters: {}", k));
    }
    if (k.size() > kKeyMax) {
      return make_error(Code::kInvalidArgument,
                        fmt::format("Key is too long (limit: {} characters)", kKeyMax));
    }
    if (v.size() > kValueMax) {
      return make_error(Code::kInvalidArgument,
                        fmt::format("Value is too long (limit: {} characters)", kValueMax));
    }
  }
  return core::ok();
}

core::Error invalid(const core::Error& e) {
  return make_error(Code::kInvalidArgument, "Invalid prepared query: " + e.message);
}

// Everything of Apply after the ID and ACL checks: validation, the template's compile (which
// Consul does in the state store, hence its different wording), and the log.
void propose(Context& ctx, state::PreparedQuery query, Done<bool> done) {
  if (auto st = validate_prepared_query(query); !st) return done(invalid(st.error()));
  if (query.is_template()) {
    if (auto st = compile_query_template(query); !st) {
      return done(
          make_error(Code::kInvalidArgument, "failed compiling template: " + st.error().message));
    }
  }
  proto::Command c;
  state::to_proto(query, c.mutable_prepared_query_set()->mutable_query());
  submit(ctx, std::move(c), [done = std::move(done)](core::Result<state::ApplyResult> r) {
    if (!r) return done(r.error());
    done(true);
  });
}

bool all_tags_ok(const state::Service& s, const std::vector<std::string>& tags) {
  std::set<std::string> have;
  for (const auto& t : s.tags) have.insert(core::to_lower(t));
  for (const auto& t : tags) {
    std::string want = core::to_lower(t);
    if (want.starts_with('!')) {
      if (have.contains(want.substr(1))) return false;
    } else if (!have.contains(want)) {
      return false;
    }
  }
  return true;
}

bool meta_ok(const std::map<std::string, std::string>& have,
             const std::map<std::string, std::string>& want) {
  for (const auto& [k, v] : want) {
    auto it = have.find(k);
    if (it == have.end() || it->second != v) return false;
  }
  return true;
}

// Consul's CheckServiceNodes.FilterIgnore.
bool healthy(const std::vector<state::HealthCheck>& checks, const state::ServiceQuery& s) {
  for (const auto& c : checks) {
    if (std::find(s.ignore_check_ids.begin(), s.ignore_check_ids.end(), c.check_id) !=
        s.ignore_check_ids.end()) {
      continue;
    }
    if (c.status == state::kHealthPassing) continue;
    if (c.status == state::kHealthWarning && !s.only_passing) continue;
    return false;
  }
  return true;
}

template <class T>
void shuffle(std::vector<T>& v, core::Rand& rand) {
  for (std::size_t i = v.size(); i > 1; --i) {
    std::swap(v[i - 1], v[rand.next_u64() % i]);
  }
}

// The token execution filters with: the query's own, else the caller's.
core::Result<ResolvedToken> execution_token(const Context& ctx, const state::PreparedQuery& q,
                                            const std::string& caller_secret) {
  if (ctx.acl == nullptr || !ctx.acl->enabled()) return ResolvedToken{"", acl::allow_all()};
  return ctx.acl->resolve(q.token.empty() ? caller_secret : q.token);
}

// Consul's queryFailover, one datacenter after another until one has instances.
struct Failover : std::enable_shared_from_this<Failover> {
  Context* ctx = nullptr;
  std::vector<std::string> dcs;
  std::size_t next = 0;
  std::string request;
  QueryResult last;
  Done<QueryResult> done;

  void step() {
    if (next == dcs.size()) {
      last.failovers = static_cast<int>(dcs.size());
      return done(std::move(last));
    }
    const std::string dc = dcs[next++];
    auto self = shared_from_this();
    ctx_call(dc, [self, dc](core::Result<std::string> reply) {
      if (reply) {
        auto decoded = decode_query_reply(*reply);
        if (decoded && !decoded->nodes.empty()) {
          decoded->failovers = static_cast<int>(self->next);
          return self->done(std::move(*decoded));
        }
        if (decoded) {
          self->last.datacenter = decoded->datacenter;
          // Nothing there may be the ACLs' doing too.
          self->last.filtered = self->last.filtered || decoded->filtered;
        }
      }
      // A datacenter that fails or has nothing: on to the next (Consul logs and continues).
      self->step();
    });
  }
  void ctx_call(const std::string& dc, Done<std::string> cb) {
    ctx->query_federation->call(dc, request, std::move(cb));
  }
};

}  // namespace

core::Status validate_prepared_query(const state::PreparedQuery& q) {
  if (q.name.empty() && !q.is_template() && q.session.empty()) {
    return make_error(Code::kInvalidArgument, "Must be bound to a session");
  }
  if (q.token == kRedactedToken) {
    return make_error(Code::kInvalidArgument,
                      fmt::format("Bad Token '{}', it looks like a query definition with a "
                                  "redacted token was submitted",
                                  q.token));
  }
  if (q.service.service.empty()) {
    return make_error(Code::kInvalidArgument, "Must provide a Service name to query");
  }
  if (q.service.failover.nearest_n < 0) {
    return make_error(Code::kInvalidArgument,
                      fmt::format("Bad NearestN '{}', must be >= 0", q.service.failover.nearest_n));
  }
  if (auto st = validate_meta(q.service.node_meta); !st) return st;
  if (!q.dns_ttl.empty()) {
    auto ttl = core::parse_go_duration(q.dns_ttl);
    if (!ttl) {
      return make_error(Code::kInvalidArgument,
                        fmt::format("Bad DNS TTL '{}': {}", q.dns_ttl, ttl.error().message));
    }
    if (ttl->count() < 0) {
      return make_error(Code::kInvalidArgument,
                        fmt::format("DNS TTL '{}', must be >=0", ttl->count()));
    }
  }
  return core::ok();
}

void query_create(Context& ctx, const ResolvedToken& who, state::PreparedQuery query,
                  Done<std::string> done) {
  if (!query.id.empty()) {
    return done(
        make_error(Code::kInvalidArgument, "ID must be empty when creating a new prepared query"));
  }
  // A random UUID not in use; collisions are only checked here, as Consul does.
  const state::Snapshot snap = ctx.store.snapshot();
  do {
    query.id = core::make_uuid(ctx.rand);
  } while (snap.prepared_query(query.id));
  if (!may_write(who, query)) return done(denied(who, query, true));
  std::string id = query.id;
  propose(ctx, std::move(query), [id, done = std::move(done)](core::Result<bool> r) {
    if (!r) return done(r.error());
    done(id);
  });
}

void query_update(Context& ctx, const ResolvedToken& who, state::PreparedQuery query,
                  Done<bool> done) {
  if (!may_write(who, query)) return done(denied(who, query, true));
  auto existing = ctx.store.snapshot().prepared_query(query.id);
  if (!existing) {
    return done(make_error(Code::kInvalidArgument,
                           "Cannot modify non-existent prepared query: '" + query.id + "'"));
  }
  if (!may_write(who, *existing)) return done(denied(who, *existing, true));
  propose(ctx, std::move(query), std::move(done));
}

void query_delete(Context& ctx, const ResolvedToken& who, const std::string& id, Done<bool> done) {
  auto existing = ctx.store.snapshot().prepared_query(id);
  if (!existing) {
    return done(make_error(Code::kInvalidArgument,
                           "Cannot modify non-existent prepared query: '" + id + "'"));
  }
  if (!may_write(who, *existing)) return done(denied(who, *existing, true));
  proto::Command c;
  c.mutable_prepared_query_delete()->set_id(id);
  submit(ctx, std::move(c), [done = std::move(done)](core::Result<state::ApplyResult> r) {
    if (!r) return done(r.error());
    done(true);
  });
}

QueryRead query_list(const Context& ctx, state::WatchSet& ws, const ResolvedToken& who) {
  ctx.store.watch_table(ws, state::Table::kPreparedQueries);
  const state::Snapshot snap = ctx.store.snapshot();
  QueryRead out;
  out.index = snap.table_index(state::Table::kPreparedQueries);
  out.queries = snap.prepared_queries();
  const std::size_t before = out.queries.size();
  std::erase_if(out.queries, [&](const state::PreparedQuery& q) {
    auto prefix = acl_prefix(q);
    return !prefix || !acl::allowed(who.authz->query_read(*prefix));
  });
  out.filtered = out.queries.size() != before;
  for (auto& q : out.queries) redact(ctx, who, q);
  return out;
}

core::Result<QueryRead> query_get(const Context& ctx, state::WatchSet& ws, const ResolvedToken& who,
                                  std::string_view id) {
  ctx.store.watch_table(ws, state::Table::kPreparedQueries);
  const state::Snapshot snap = ctx.store.snapshot();
  auto q = snap.prepared_query(id);
  if (!q) return make_error(Code::kNotFound, std::string(kQueryNotFound));
  if (auto prefix = acl_prefix(*q); prefix && !acl::allowed(who.authz->query_read(*prefix))) {
    return denied(who, *q, false);
  }
  redact(ctx, who, *q);
  QueryRead out;
  out.index = snap.table_index(state::Table::kPreparedQueries);
  out.queries.push_back(std::move(*q));
  return out;
}

core::Result<state::PreparedQuery> query_resolve(const state::Snapshot& snap,
                                                 std::string_view id_or_name) {
  if (id_or_name.empty()) return make_error(Code::kInvalidArgument, "Missing query ID");
  if (core::is_uuid(id_or_name)) {
    if (auto q = snap.prepared_query(id_or_name)) {
      if (q->is_template()) {
        return make_error(Code::kInvalidArgument,
                          "prepared query templates can only be resolved up by name, not by ID");
      }
      return *q;
    }
  }
  auto q = snap.prepared_query_by_name(id_or_name);
  if (!q) q = snap.prepared_query_template_for(id_or_name);
  if (!q) return make_error(Code::kNotFound, std::string(kQueryNotFound));
  if (!q->is_template()) return *q;
  return render_query_template(*q, id_or_name);
}

core::Result<state::PreparedQuery> query_explain(const Context& ctx, const ResolvedToken& who,
                                                 std::string_view id_or_name) {
  auto q = query_resolve(ctx.store.snapshot(), id_or_name);
  if (!q) return q.error();
  auto prefix = acl_prefix(*q);
  if (!prefix || !acl::allowed(who.authz->query_read(*prefix))) return denied(who, *q, false);
  redact(ctx, who, *q);
  return q;
}

QueryResult query_execute_here(const Context& ctx, const state::Snapshot& snap,
                               const state::PreparedQuery& query) {
  const state::ServiceQuery& s = query.service;
  QueryResult out;
  out.service = s.service;
  out.dns_ttl = query.dns_ttl;
  out.datacenter = ctx.identity.datacenter;
  out.index = snap.table_index(state::Table::kPreparedQueries);
  auto all = health_service_nodes(snap, s.service, {}, {}, false, nullptr);
  for (auto& csn : all.nodes) {
    if (s.connect && csn.service.kind != "connect-proxy") continue;
    if (!healthy(csn.checks, s)) continue;
    if (!meta_ok(csn.node.meta, s.node_meta)) continue;
    if (!meta_ok(csn.service.meta, s.service_meta)) continue;
    if (!all_tags_ok(csn.service, s.tags)) continue;
    out.nodes.push_back(std::move(csn));
  }
  return out;
}

std::vector<std::string> query_failover_order(const state::QueryFailover& failover,
                                              const std::vector<std::string>& nearest) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < nearest.size() && static_cast<int>(i) < failover.nearest_n; ++i) {
    out.push_back(nearest[i]);
  }
  for (const auto& dc : failover.datacenters) {
    // Unknown datacenters are skipped, as Consul does, and none is tried twice.
    if (std::find(nearest.begin(), nearest.end(), dc) == nearest.end()) continue;
    if (std::find(out.begin(), out.end(), dc) != out.end()) continue;
    out.push_back(dc);
  }
  return out;
}

std::vector<std::string> datacenters_by_distance(const Context& ctx,
                                                 std::vector<std::string> known) {
  const std::string& local = ctx.identity.datacenter;
  std::erase(known, local);
  std::sort(known.begin(), known.end());
  known.erase(std::unique(known.begin(), known.end()), known.end());
  if (!ctx.wan_coordinates) return known;
  const auto servers = ctx.wan_coordinates();
  const gossip::Coordinate* self = nullptr;
  for (const auto& s : servers) {
    if (s.datacenter == local &&
        (s.node == ctx.identity.node_name + "." + local || s.node == ctx.identity.node_name)) {
      self = &s.coordinate;
    }
  }
  if (self == nullptr) return known;
  std::map<std::string, std::vector<double>> rtts;
  for (const auto& s : servers) {
    if (s.datacenter == local) continue;
    if (auto rtt = gossip::estimate_rtt_ms(*self, s.coordinate)) rtts[s.datacenter].push_back(*rtt);
  }
  auto median = [&](const std::string& dc) -> std::optional<double> {
    auto it = rtts.find(dc);
    if (it == rtts.end() || it->second.empty()) return std::nullopt;
    auto v = it->second;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  std::stable_sort(known.begin(), known.end(), [&](const std::string& a, const std::string& b) {
    auto ra = median(a), rb = median(b);
    if (ra && rb) return *ra < *rb;
    return ra.has_value() && !rb.has_value();
  });
  return known;
}

void query_execute(Context& ctx, std::string_view id_or_name, QueryExecuteOptions options,
                   Done<QueryResult> done) {
  const state::Snapshot snap = ctx.store.snapshot();
  auto query = query_resolve(snap, id_or_name);
  if (!query) return done(query.error());
  auto who = execution_token(ctx, *query, options.secret);
  if (!who) return done(who.error());
  QueryResult result = query_execute_here(ctx, snap, *query);
  result.filtered = filter_check_service_nodes(*who, result.nodes);
  shuffle(result.nodes, ctx.rand);
  // The node to sort from: the request's, else the query's; "_agent" is this agent, "_ip"
  // the catalog node whose address is the client's.
  std::string near = options.near.empty() ? query->service.near : options.near;
  if (near == "_agent") near = ctx.identity.node_name;
  if (near == "_ip") {
    near.clear();
    if (!options.source_ip.empty()) {
      for (const auto& n : snap.node_list()) {
        if (n.address == options.source_ip) {
          near = n.node;
          break;
        }
      }
    }
  }
  if (!near.empty()) {
    sort_near(snap, near, result.nodes,
              [](const CheckServiceNode& c) -> const std::string& { return c.node.node; });
  }
  if (options.limit > 0 && result.nodes.size() > static_cast<std::size_t>(options.limit)) {
    result.nodes.resize(static_cast<std::size_t>(options.limit));
  }
  const bool can_fail_over =
      ctx.query_federation != nullptr && ctx.query_federation->call &&
      (query->service.failover.nearest_n > 0 || !query->service.failover.datacenters.empty());
  if (!result.nodes.empty() || !can_fail_over) return done(std::move(result));
  std::vector<std::string> known;
  if (ctx.query_federation->known_datacenters) known = ctx.query_federation->known_datacenters();
  auto failover = std::make_shared<Failover>();
  failover->ctx = &ctx;
  failover->dcs =
      query_failover_order(query->service.failover, datacenters_by_distance(ctx, std::move(known)));
  failover->request = encode_query_request(*query, options.limit, options.secret);
  failover->last = std::move(result);
  failover->done = std::move(done);
  failover->step();
}

core::Result<std::string> query_execute_remote(const Context& ctx, std::string_view request) {
  auto req = decode_query_request(request);
  if (!req) return req.error();
  auto who = execution_token(ctx, req->query, req->secret);
  if (!who) return who.error();
  const state::Snapshot snap = ctx.store.snapshot();
  QueryResult result = query_execute_here(ctx, snap, req->query);
  result.filtered = filter_check_service_nodes(*who, result.nodes);
  // Another datacenter's client: no RTT sort here, only a shuffle to spread the load.
  shuffle(result.nodes, ctx.rand);
  if (req->limit > 0 && result.nodes.size() > static_cast<std::size_t>(req->limit)) {
    result.nodes.resize(static_cast<std::size_t>(req->limit));
  }
  return encode_query_reply(result);
}

}  // namespace pc::endpoints
