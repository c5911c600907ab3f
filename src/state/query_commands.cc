// What the prepared-query commands do to the state (Consul's agent/consul/state/
// prepared_query.go): queries by ID, unique by lower-cased name, one template per name prefix
// (the empty name included), names that may not alias another query's ID, and queries bound
// to a session that go with it. The endpoint validates the rest (service, TTL, template)
// before proposing; apply re-checks what depends on the state at the entry's index.
#include <algorithm>
#include <string>
#include <string_view>

#include "core/strings.h"
#include "proto/commands.pb.h"
#include "state/detail/acl_apply.h"
#include "state/query_proto.h"

namespace pc::state {
namespace {

using core::Code;
using core::make_error;

// Consul's isUUID: 8-4-4-4-12 hex digits, any case.
bool looks_like_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (c != '-') return false;
    } else if (!std::isxdigit(static_cast<unsigned char>(c))) {
      return false;
    }
  }
  return true;
}

void bump_queries(ApplyContext& ctx) {
  ctx.v.table_indexes[static_cast<std::size_t>(Table::kPreparedQueries)] = ctx.index;
  ctx.changes.table(Table::kPreparedQueries);
}

void index_remove(Version& v, const PreparedQuery& q) {
  const std::string key = core::to_lower(q.name);
  if (!q.name.empty()) v.prepared_queries_by_name = v.prepared_queries_by_name.erase(key);
  if (q.is_template()) v.query_templates = v.query_templates.erase(key);
}

void query_remove(ApplyContext& ctx, const std::string& id) {
  const PreparedQuery* existing = ctx.v.prepared_queries.find(id);
  if (existing == nullptr) return;
  index_remove(ctx.v, *existing);
  ctx.v.prepared_queries = ctx.v.prepared_queries.erase(id);
  bump_queries(ctx);
}

core::Status query_put(ApplyContext& ctx, PreparedQuery q) {
  if (q.id.empty()) return make_error(Code::kInvalidArgument, "Missing query ID");
  const PreparedQuery* existing = ctx.v.prepared_queries.find(q.id);
  const std::string key = core::to_lower(q.name);
  if (!q.name.empty()) {
    const std::string* other = ctx.v.prepared_queries_by_name.find(key);
    if (other != nullptr && *other != q.id) {
      return make_error(Code::kInvalidArgument,
                        "name '" + q.name + "' aliases an existing query name");
    }
  } else if (q.is_template()) {
    const std::string* other = ctx.v.query_templates.find("");
    if (other != nullptr && *other != q.id) {
      return make_error(Code::kInvalidArgument,
                        "a query template with an empty name already exists");
    }
  }
  // A name equal to another query's ID could take over lookups of that ID.
  if (looks_like_uuid(q.name) && ctx.v.prepared_queries.contains(q.name)) {
    return make_error(Code::kInvalidArgument, "name '" + q.name + "' aliases an existing query ID");
  }
  if (!q.session.empty() && !ctx.v.sessions.contains(q.session)) {
    return make_error(Code::kInvalidArgument, "invalid session " + core::go_quote(q.session));
  }
  if (existing != nullptr) {
    q.create_index = existing->create_index;
    index_remove(ctx.v, *existing);
  } else {
    q.create_index = ctx.index;
  }
  q.modify_index = ctx.index;
  if (!q.name.empty())
    ctx.v.prepared_queries_by_name = ctx.v.prepared_queries_by_name.set(key, q.id);
  if (q.is_template()) ctx.v.query_templates = ctx.v.query_templates.set(key, q.id);
  std::string id = q.id;
  ctx.v.prepared_queries = ctx.v.prepared_queries.set(std::move(id), std::move(q));
  bump_queries(ctx);
  return core::ok();
}

}  // namespace

ApplyResult apply_prepared_query_set(ApplyContext& ctx, const proto::Command& command) {
  ApplyResult r;
  r.status = query_put(ctx, from_proto(command.prepared_query_set().query()));
  r.ok = static_cast<bool>(r.status);
  return r;
}

// Consul's preparedQueryDeleteTxn: a missing query is a no-op that moves no index.
ApplyResult apply_prepared_query_delete(ApplyContext& ctx, const proto::Command& command) {
  query_remove(ctx, command.prepared_query_delete().id());
  return ApplyResult{};
}

// Session-bound queries are few; a scan of the table keeps the version free of one more index.
void delete_session_queries(ApplyContext& ctx, std::string_view session_id) {
  std::vector<std::string> bound;
  for (const auto& e : ctx.v.prepared_queries) {
    if (e.value.session == session_id) bound.push_back(e.key);
  }
  for (const auto& id : bound) query_remove(ctx, id);
}

}  // namespace pc::state
