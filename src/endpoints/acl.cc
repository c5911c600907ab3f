// Bootstrap and tokens (Consul's ACL.BootstrapTokens, TokenSet, TokenClone, TokenDelete,
// TokenRead, TokenList).
#include "endpoints/acl.h"

#include <algorithm>

#include "acl/builtin.h"
#include "core/strings.h"
#include "endpoints/acl_replication.h"
#include "endpoints/acl_validate.h"
#include "proto/commands.pb.h"
#include "state/acl_proto.h"

namespace pc::endpoints {

using namespace acl_detail;  // NOLINT: this file is that module's one client
using core::Code;
using core::make_error;

namespace {

// Consul's bounds on a token's lifetime (ACLTokenMinExpirationTTL / MaxExpirationTTL).
constexpr auto kTokenTtlMin = std::chrono::minutes(1);
constexpr auto kTokenTtlMax = std::chrono::hours(24);

// Submits `cmd`, then answers with the token as stored (links with current names).
void submit_token(Context& ctx, proto::Command cmd, std::string accessor, Done<acl::Token> done) {
  submit(ctx, std::move(cmd),
         [&ctx, accessor = std::move(accessor),
          done = std::move(done)](core::Result<state::ApplyResult> r) {
           if (!r) return done(r.error());
           const state::Snapshot snap = ctx.store.snapshot();
           auto token = snap.acl_token(accessor);
           if (!token) return done(acl_not_found());  // deleted by a later write already
           done(acl_fix_links(snap, std::move(*token)));
         });
}

proto::Command token_set_command(const acl::Token& token) {
  proto::Command cmd;
  state::to_proto(token, cmd.mutable_acl_token_set()->mutable_token());
  return cmd;
}

// Consul's expiration rules: TTL or time, not both, within [1m, 24h] of now.
core::Status set_expiration(acl::Token& t, std::int64_t now_ns) {
  if (t.expiration_ttl.count() < 0) {
    return invalid("Token Expiration TTL '" + std::to_string(t.expiration_ttl.count()) +
                   "' should be > 0");
  }
  if (t.expiration_ttl.count() > 0) {
    if (t.expiration_time_unix_ns) {
      return invalid("Expiration TTL and Expiration Time cannot both be set");
    }
    t.expiration_time_unix_ns = now_ns + t.expiration_ttl.count();
  }
  if (t.expiration_time_unix_ns) {
    const std::int64_t left = *t.expiration_time_unix_ns - now_ns;
    if (left < std::chrono::nanoseconds(kTokenTtlMin).count()) {
      return invalid("ExpirationTime cannot be before 1m0s from now");
    }
    if (left > std::chrono::nanoseconds(kTokenTtlMax).count()) {
      return invalid("ExpirationTime cannot be after 24h0m0s from now");
    }
  }
  t.expiration_ttl = std::chrono::nanoseconds(0);
  return core::ok();
}

// What create and update share: links resolved, identities checked, hash set.
core::Status finish_token(const state::Snapshot& snap, acl::Token& t) {
  if (auto st = resolve_policy_links(snap, t.policies); !st) return st;
  if (auto st = resolve_role_links(snap, t.roles); !st) return st;
  if (auto st = validate_identities(t.service_identities, t.node_identities, "token"); !st) {
    return st;
  }
  t.hash = hash_of(t);
  return core::ok();
}

}  // namespace

core::Error acl_disabled() {
  return make_error(Code::kUnavailable, "ACL support disabled");
}

bool is_acl_disabled(const core::Error& error) {
  return error.code == Code::kUnavailable && error.message == "ACL support disabled";
}

acl::Token acl_fix_links(const state::Snapshot& snap, acl::Token token) {
  std::erase_if(token.policies, [&](acl::PolicyLink& l) {
    auto p = snap.acl_policy(l.id);
    if (p) l.name = p->name;
    return !p;
  });
  std::erase_if(token.roles, [&](acl::RoleLink& l) {
    auto r = snap.acl_role(l.id);
    if (r) l.name = r->name;
    return !r;
  });
  return token;
}

acl::Role acl_fix_links(const state::Snapshot& snap, acl::Role role) {
  std::erase_if(role.policies, [&](acl::PolicyLink& l) {
    auto p = snap.acl_policy(l.id);
    if (p) l.name = p->name;
    return !p;
  });
  return role;
}

void acl_bootstrap(Context& ctx, Done<acl::Token> done) {
  if (auto st = check_enabled(ctx); !st) return done(st.error());
  // Only the primary bootstraps; a secondary answers as Consul's does (acl.ErrDisabled).
  if (!acl_in_primary(ctx)) return done(acl_disabled());
  acl::Token t;
  t.accessor_id = new_uuid(ctx);
  t.secret_id = new_uuid(ctx);
  t.description = "Bootstrap Token (Global Management)";
  t.policies.push_back(
      {std::string(acl::kGlobalManagementPolicyId), std::string(acl::kGlobalManagementPolicyName)});
  t.create_time_unix_ns = unix_now_ns(ctx);
  t.hash = hash_of(t);
  proto::Command cmd;
  state::to_proto(t, cmd.mutable_acl_bootstrap()->mutable_token());
  // The global-management policy comes from the leader's initialization; a bootstrap that
  // races it would fail on the missing link, so make sure it exists in the same entry.
  if (auto init = acl_init_command(ctx)) {
    submit(ctx, std::move(*init),
           [&ctx, cmd = std::move(cmd), accessor = t.accessor_id,
            done = std::move(done)](core::Result<state::ApplyResult> r) mutable {
             if (!r) return done(r.error());
             submit_token(ctx, std::move(cmd), std::move(accessor), std::move(done));
           });
    return;
  }
  submit_token(ctx, std::move(cmd), t.accessor_id, std::move(done));
}

void acl_token_create(Context& ctx, const ResolvedToken& who, acl::Token t, Done<acl::Token> done) {
  if (auto st = check_acl(ctx, who, true); !st) return done(st.error());
  if (!t.local) {
    if (auto st = acl_check_global_write(ctx, "global tokens"); !st) return done(st.error());
  }
  const state::Snapshot snap = ctx.store.snapshot();
  if (t.accessor_id.empty()) {
    t.accessor_id = new_uuid(ctx);
  } else if (acl::is_reserved_id(t.accessor_id)) {
    return done(invalid("Invalid Token: AccessorID is a reserved ID"));
  } else if (snap.acl_token(t.accessor_id)) {
    return done(invalid("Invalid Token: AccessorID is already in use"));
  }
  if (t.secret_id.empty()) {
    t.secret_id = new_uuid(ctx);
  } else if (acl::is_reserved_id(t.secret_id) || t.secret_id == acl::kAnonymousTokenSecretId) {
    return done(invalid("Invalid Token: SecretID is a reserved ID"));
  } else if (snap.acl_token_by_secret(t.secret_id)) {
    return done(invalid("Invalid Token: SecretID is already in use"));
  }
  t.create_time_unix_ns = unix_now_ns(ctx);
  if (auto st = set_expiration(t, t.create_time_unix_ns); !st) return done(st.error());
  if (auto st = finish_token(snap, t); !st) return done(st.error());
  submit_token(ctx, token_set_command(t), t.accessor_id, std::move(done));
}

void acl_token_update(Context& ctx, const ResolvedToken& who, acl::Token t, Done<acl::Token> done) {
  if (auto st = check_acl(ctx, who, true); !st) return done(st.error());
  const state::Snapshot snap = ctx.store.snapshot();
  auto existing = snap.acl_token(t.accessor_id);
  if (!existing) return done(invalid("Cannot find token " + core::go_quote(t.accessor_id)));
  if (!existing->local) {
    if (auto st = acl_check_global_write(ctx, "global tokens"); !st) return done(st.error());
  }
  if (!t.secret_id.empty() && t.secret_id != existing->secret_id) {
    return done(invalid("Changing a tokens SecretID is not permitted"));
  }
  if (t.local != existing->local) {
    return done(invalid("Cannot toggle local mode of " + t.accessor_id));
  }
  if (t.expiration_ttl.count() != 0 ||
      (t.expiration_time_unix_ns &&
       t.expiration_time_unix_ns != existing->expiration_time_unix_ns)) {
    return done(invalid("Cannot change expiration time of " + t.accessor_id));
  }
  t.secret_id = existing->secret_id;
  t.expiration_time_unix_ns = existing->expiration_time_unix_ns;
  t.create_time_unix_ns = existing->create_time_unix_ns;
  t.auth_method = existing->auth_method;
  if (auto st = finish_token(snap, t); !st) return done(st.error());
  submit_token(ctx, token_set_command(t), t.accessor_id, std::move(done));
}

void acl_token_clone(Context& ctx, const ResolvedToken& who, std::string_view accessor_id,
                     std::optional<std::string> description, Done<acl::Token> done) {
  if (auto st = check_acl(ctx, who, true); !st) return done(st.error());
  const state::Snapshot snap = ctx.store.snapshot();
  auto source = snap.acl_token(accessor_id);
  if (!source) return done(acl_not_found());
  if (!source->auth_method.empty()) {
    return done(invalid("Cannot clone a token created from an auth method"));
  }
  if (!source->local) {
    if (auto st = acl_check_global_write(ctx, "global tokens"); !st) return done(st.error());
  }
  acl::Token t = acl_fix_links(snap, std::move(*source));
  t.accessor_id = new_uuid(ctx);
  t.secret_id = new_uuid(ctx);
  if (description) t.description = std::move(*description);
  t.create_time_unix_ns = unix_now_ns(ctx);
  t.hash = hash_of(t);
  submit_token(ctx, token_set_command(t), t.accessor_id, std::move(done));
}

void acl_token_delete(Context& ctx, const ResolvedToken& who, std::string_view request_secret,
                      std::string_view accessor_id, Done<bool> done) {
  if (auto st = check_acl(ctx, who, true); !st) return done(st.error());
  if (accessor_id == acl::kAnonymousTokenAccessorId) {
    return done(invalid("Delete operation not permitted on the anonymous token"));
  }
  auto existing = ctx.store.snapshot().acl_token(accessor_id);
  if (!existing) return done(acl_not_found());
  if (!existing->local) {
    if (auto st = acl_check_global_write(ctx, "global tokens"); !st) return done(st.error());
  }
  if (!request_secret.empty() && existing->secret_id == request_secret) {
    return done(invalid("Deletion of the request's authorization token is not permitted"));
  }
  proto::Command cmd;
  cmd.mutable_acl_token_delete()->set_accessor_id(std::string(accessor_id));
  submit(ctx, std::move(cmd), [done = std::move(done)](core::Result<state::ApplyResult> r) {
    if (!r) return done(r.error());
    done(true);
  });
}

core::Result<AclRead<acl::Token>> acl_token_read(const Context& ctx, const ResolvedToken& who,
                                                 state::WatchSet& ws, std::string_view accessor) {
  if (auto st = check_acl(ctx, who, false); !st) return st.error();
  ctx.store.watch_table(ws, state::Table::kAclTokens);
  const state::Snapshot snap = ctx.store.snapshot();
  auto token = snap.acl_token(accessor);
  if (!token || token->is_expired(unix_now_ns(ctx))) return acl_not_found();
  return AclRead<acl::Token>{snap.acl_index(), acl_fix_links(snap, std::move(*token))};
}

core::Result<AclRead<acl::Token>> acl_token_self(const Context& ctx, state::WatchSet& ws,
                                                 std::string_view secret) {
  if (auto st = check_enabled(ctx); !st) return st.error();
  ctx.store.watch_table(ws, state::Table::kAclTokens);
  const state::Snapshot snap = ctx.store.snapshot();
  auto token = snap.acl_token_by_secret(secret.empty() ? acl::kAnonymousTokenSecretId : secret);
  if (!token || token->is_expired(unix_now_ns(ctx))) return acl_not_found();
  return AclRead<acl::Token>{snap.acl_index(), acl_fix_links(snap, std::move(*token))};
}

core::Result<AclRead<std::vector<acl::Token>>> acl_token_list(const Context& ctx,
                                                              const ResolvedToken& who,
                                                              state::WatchSet& ws,
                                                              std::string_view policy_id,
                                                              std::string_view role_id) {
  if (auto st = check_acl(ctx, who, false); !st) return st.error();
  ctx.store.watch_table(ws, state::Table::kAclTokens);
  const state::Snapshot snap = ctx.store.snapshot();
  const std::int64_t now = unix_now_ns(ctx);
  AclRead<std::vector<acl::Token>> out;
  out.index = snap.acl_index();
  for (acl::Token& t : snap.acl_tokens()) {
    if (t.is_expired(now)) continue;
    auto links_to = [](const auto& links, std::string_view id) {
      return std::any_of(links.begin(), links.end(), [&](const auto& l) { return l.id == id; });
    };
    if (!policy_id.empty() && !links_to(t.policies, policy_id)) continue;
    if (!role_id.empty() && !links_to(t.roles, role_id)) continue;
    out.value.push_back(acl_fix_links(snap, std::move(t)));
  }
  return out;
}

std::optional<proto::Command> acl_init_command(Context& ctx) {
  if (ctx.acl == nullptr || !ctx.acl->enabled()) return std::nullopt;
  const state::Snapshot snap = ctx.store.snapshot();
  proto::Command cmd;
  proto::AclInit* init = cmd.mutable_acl_init();
  if (!snap.acl_policy(acl::kGlobalManagementPolicyId)) {
    acl::Policy gm = acl::global_management_policy();
    gm.hash = hash_of(gm);
    state::to_proto(gm, init->add_policies());
  }
  if (!snap.acl_token(acl::kAnonymousTokenAccessorId)) {
    acl::Token anon = acl::anonymous_token();
    anon.create_time_unix_ns = unix_now_ns(ctx);
    anon.hash = hash_of(anon);
    state::to_proto(anon, init->add_tokens());
  }
  // A secondary makes the builtin objects under the primary's fixed IDs, so replication
  // overwrites them in place; the initial_management token is the primary's alone (Consul
  // ignores it elsewhere) and reaches a secondary through token replication.
  const std::string& initial = ctx.acl->settings().initial_management;
  if (!initial.empty() && acl_in_primary(ctx) && !snap.acl_token_by_secret(initial)) {
    // A fresh accessor, as Consul's initializeACLs makes: it travels in the command, so every
    // server stores the same one.
    acl::Token t;
    t.accessor_id = new_uuid(ctx);
    t.secret_id = initial;
    t.description = "Initial Management Token";
    t.policies.push_back({std::string(acl::kGlobalManagementPolicyId),
                          std::string(acl::kGlobalManagementPolicyName)});
    t.create_time_unix_ns = unix_now_ns(ctx);
    t.hash = hash_of(t);
    // Consul creates the initial management token through the bootstrap itself, so that
    // /v1/acl/bootstrap is refused from then on (it would otherwise hand anyone a second
    // management token). Once the builtin objects exist and while no bootstrap has happened,
    // so does this; the next check makes it when this command carries those objects.
    if (snap.acl_bootstrap_index() == 0) {
      if (init->policies_size() != 0 || init->tokens_size() != 0) return cmd;
      proto::Command bootstrap;
      state::to_proto(t, bootstrap.mutable_acl_bootstrap()->mutable_token());
      return bootstrap;
    }
    state::to_proto(t, init->add_tokens());
  }
  if (init->policies_size() == 0 && init->tokens_size() == 0) return std::nullopt;
  return cmd;
}

}  // namespace pc::endpoints
