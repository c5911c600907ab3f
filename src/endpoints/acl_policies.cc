// Policies and roles (Consul's ACL.PolicySet, PolicyDelete, PolicyRead, PolicyList and the
// Role* counterparts).
#include <algorithm>

#include "acl/builtin.h"
#include "acl/rules.h"
#include "core/strings.h"
#include "endpoints/acl.h"
#include "endpoints/acl_replication.h"
#include "endpoints/acl_validate.h"
#include "proto/commands.pb.h"
#include "state/acl_proto.h"

namespace pc::endpoints {

using namespace acl_detail;  // NOLINT: this file is that module's one client
using core::Code;
using core::make_error;

namespace {

constexpr std::size_t kPolicyNameSizeMax = 128;  // Consul's validPolicyName
constexpr std::size_t kRoleNameSizeMax = 256;    // Consul's validRoleName

// Submits `cmd`, then answers with what `read` finds in the state the write produced.
template <class T, class Read>
void submit_then_read(Context& ctx, proto::Command cmd, Read read, Done<T> done) {
  submit(
      ctx, std::move(cmd),
      [&ctx, read = std::move(read), done = std::move(done)](core::Result<state::ApplyResult> r) {
        if (!r) return done(r.error());
        const state::Snapshot snap = ctx.store.snapshot();
        std::optional<T> row = read(snap);
        if (!row) return done(acl_not_found());  // deleted by a later write already
        done(std::move(*row));
      });
}

void submit_delete(Context& ctx, proto::Command cmd, Done<bool> done) {
  submit(ctx, std::move(cmd), [done = std::move(done)](core::Result<state::ApplyResult> r) {
    if (!r) return done(r.error());
    done(true);
  });
}

// Create: no ID given (one is made); update: the ID must exist. Returns the existing row.
template <class Row, class Find>
core::Result<std::optional<Row>> check_id(Context& ctx, std::string& id, bool create,
                                          std::string_view kind, Find find) {
  if (create) {
    if (!id.empty()) {
      return invalid("Cannot specify the ID when creating a new " + std::string(kind));
    }
    id = new_uuid(ctx);
    return std::optional<Row>();
  }
  auto existing = find(id);
  if (!existing) return invalid("Cannot find " + std::string(kind) + " " + id);
  return std::optional<Row>(std::move(existing));
}

}  // namespace

void acl_policy_set(Context& ctx, const ResolvedToken& who, acl::Policy p, bool create,
                    Done<acl::Policy> done) {
  if (auto st = check_acl(ctx, who, true); !st) return done(st.error());
  if (auto st = acl_check_global_write(ctx, "policies"); !st) return done(st.error());
  const state::Snapshot snap = ctx.store.snapshot();
  auto existing = check_id<acl::Policy>(ctx, p.id, create, "policy",
                                        [&](const std::string& id) { return snap.acl_policy(id); });
  if (!existing) return done(existing.error());
  if (p.name.empty()) return done(invalid("Invalid Policy: no Name is set"));
  if (!valid_object_name(p.name, kPolicyNameSizeMax)) {
    return done(invalid(
        "Invalid Policy: invalid Name. Only alphanumeric characters, '-' and '_' are allowed"));
  }
  if (auto same = snap.acl_policy_by_name(p.name); same && same->id != p.id) {
    return done(invalid("Invalid Policy: A Policy with Name " + core::go_quote(p.name) +
                        " already exists"));
  }
  if (p.id == acl::kGlobalManagementPolicyId && existing->has_value()) {
    if (p.datacenters != (*existing)->datacenters) {
      return done(invalid(
          "Changing the Datacenters of the builtin global-management policy is not permitted"));
    }
    if (p.rules != (*existing)->rules) {
      return done(
          invalid("Changing the Rules for the builtin global-management policy is not permitted"));
    }
  }
  if (auto rules = acl::parse_rules(p.rules); !rules) return done(rules.error());
  p.hash = hash_of(p);
  proto::Command cmd;
  state::to_proto(p, cmd.mutable_acl_policy_set()->mutable_policy());
  submit_then_read<acl::Policy>(
      ctx, std::move(cmd), [id = p.id](const state::Snapshot& s) { return s.acl_policy(id); },
      std::move(done));
}

void acl_policy_delete(Context& ctx, const ResolvedToken& who, std::string_view id,
                       Done<bool> done) {
  if (auto st = check_acl(ctx, who, true); !st) return done(st.error());
  if (auto st = acl_check_global_write(ctx, "policies"); !st) return done(st.error());
  if (id == acl::kGlobalManagementPolicyId) {
    return done(invalid("Delete operation not permitted on the builtin global-management policy"));
  }
  proto::Command cmd;
  cmd.mutable_acl_policy_delete()->set_id(std::string(id));
  submit_delete(ctx, std::move(cmd), std::move(done));
}

core::Result<AclRead<acl::Policy>> acl_policy_read(const Context& ctx, const ResolvedToken& who,
                                                   state::WatchSet& ws, std::string_view key,
                                                   bool by_name) {
  if (auto st = check_acl(ctx, who, false); !st) return st.error();
  ctx.store.watch_table(ws, state::Table::kAclPolicies);
  const state::Snapshot snap = ctx.store.snapshot();
  auto p = by_name ? snap.acl_policy_by_name(key) : snap.acl_policy(key);
  if (!p) return acl_not_found();
  return AclRead<acl::Policy>{snap.table_index(state::Table::kAclPolicies), std::move(*p)};
}

core::Result<AclRead<std::vector<acl::Policy>>> acl_policy_list(const Context& ctx,
                                                                const ResolvedToken& who,
                                                                state::WatchSet& ws) {
  if (auto st = check_acl(ctx, who, false); !st) return st.error();
  ctx.store.watch_table(ws, state::Table::kAclPolicies);
  const state::Snapshot snap = ctx.store.snapshot();
  return AclRead<std::vector<acl::Policy>>{snap.table_index(state::Table::kAclPolicies),
                                           snap.acl_policies()};
}

void acl_role_set(Context& ctx, const ResolvedToken& who, acl::Role r, bool create,
                  Done<acl::Role> done) {
  if (auto st = check_acl(ctx, who, true); !st) return done(st.error());
  if (auto st = acl_check_global_write(ctx, "roles"); !st) return done(st.error());
  const state::Snapshot snap = ctx.store.snapshot();
  auto existing = check_id<acl::Role>(ctx, r.id, create, "role",
                                      [&](const std::string& id) { return snap.acl_role(id); });
  if (!existing) return done(existing.error());
  if (r.name.empty()) return done(invalid("Invalid Role: no Name is set"));
  if (!valid_object_name(r.name, kRoleNameSizeMax)) {
    return done(invalid(
        "Invalid Role: invalid Name. Only alphanumeric characters, '-' and '_' are allowed"));
  }
  if (auto same = snap.acl_role_by_name(r.name); same && same->id != r.id) {
    return done(
        invalid("Invalid Role: A Role with Name " + core::go_quote(r.name) + " already exists"));
  }
  if (auto st = resolve_policy_links(snap, r.policies); !st) return done(st.error());
  if (auto st = validate_identities(r.service_identities, r.node_identities, "role"); !st) {
    return done(st.error());
  }
  r.hash = hash_of(r);
  proto::Command cmd;
  state::to_proto(r, cmd.mutable_acl_role_set()->mutable_role());
  submit_then_read<acl::Role>(
      ctx, std::move(cmd),
      [id = r.id](const state::Snapshot& s) -> std::optional<acl::Role> {
        auto role = s.acl_role(id);
        if (!role) return std::nullopt;
        return acl_fix_links(s, std::move(*role));
      },
      std::move(done));
}

void acl_role_delete(Context& ctx, const ResolvedToken& who, std::string_view id, Done<bool> done) {
  if (auto st = check_acl(ctx, who, true); !st) return done(st.error());
  if (auto st = acl_check_global_write(ctx, "roles"); !st) return done(st.error());
  proto::Command cmd;
  cmd.mutable_acl_role_delete()->set_id(std::string(id));
  submit_delete(ctx, std::move(cmd), std::move(done));
}

core::Result<AclRead<acl::Role>> acl_role_read(const Context& ctx, const ResolvedToken& who,
                                               state::WatchSet& ws, std::string_view key,
                                               bool by_name) {
  if (auto st = check_acl(ctx, who, false); !st) return st.error();
  ctx.store.watch_table(ws, state::Table::kAclRoles);
  ctx.store.watch_table(ws, state::Table::kAclPolicies);
  const state::Snapshot snap = ctx.store.snapshot();
  auto r = by_name ? snap.acl_role_by_name(key) : snap.acl_role(key);
  if (!r) return acl_not_found();
  return AclRead<acl::Role>{snap.acl_index(), acl_fix_links(snap, std::move(*r))};
}

core::Result<AclRead<std::vector<acl::Role>>> acl_role_list(const Context& ctx,
                                                            const ResolvedToken& who,
                                                            state::WatchSet& ws,
                                                            std::string_view policy_id) {
  if (auto st = check_acl(ctx, who, false); !st) return st.error();
  ctx.store.watch_table(ws, state::Table::kAclRoles);
  ctx.store.watch_table(ws, state::Table::kAclPolicies);
  const state::Snapshot snap = ctx.store.snapshot();
  AclRead<std::vector<acl::Role>> out;
  out.index = snap.acl_index();
  for (acl::Role& r : snap.acl_roles()) {
    if (!policy_id.empty() &&
        std::none_of(r.policies.begin(), r.policies.end(),
                     [&](const acl::PolicyLink& l) { return l.id == policy_id; })) {
      continue;
    }
    out.value.push_back(acl_fix_links(snap, std::move(r)));
  }
  return out;
}

}  // namespace pc::endpoints
