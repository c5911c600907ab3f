#pragma once
// The ACL API's logic (Consul's ACL RPC endpoint, agent/consul/acl_endpoint.go): bootstrap,
// tokens, policies and roles. Validation with Consul's texts, permission checks (acl:read for
// reads, acl:write for writes), links resolved by name or ID, IDs and secrets generated, the
// Hash computed; writes go through the log. Parsing and rendering JSON live in http/.
//
// Every function first checks that ACLs are enabled (ctx.acl set and enabled), and otherwise
// answers Consul's 401 "ACL support disabled" as core::Code::kUnavailable with that message;
// the HTTP edge turns that one message into a 401 (see acl_disabled()).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "acl/types.h"
#include "endpoints/acl_resolver.h"
#include "endpoints/context.h"
#include "proto/commands.pb.h"

namespace pc::endpoints {

// The error every ACL endpoint answers while ACLs are off.
core::Error acl_disabled();
bool is_acl_disabled(const core::Error& error);

// Reads: `index` is the table index a blocking query reports.
template <class T>
struct AclRead {
  std::uint64_t index = 0;
  T value;
};

// Links are shown with their objects' current names, and links to deleted objects dropped
// (Consul's fixup on read).
acl::Token acl_fix_links(const state::Snapshot& snap, acl::Token token);
acl::Role acl_fix_links(const state::Snapshot& snap, acl::Role role);

// ---- bootstrap ----
void acl_bootstrap(Context& ctx, Done<acl::Token> done);

// ---- tokens ----
// `input`: what the client sent. Policy and role links may name the object by ID or by name;
// expiration_ttl, when non-zero, sets the expiration time from now.
void acl_token_create(Context& ctx, const ResolvedToken& who, acl::Token input,
                      Done<acl::Token> done);
void acl_token_update(Context& ctx, const ResolvedToken& who, acl::Token input,
                      Done<acl::Token> done);
void acl_token_clone(Context& ctx, const ResolvedToken& who, std::string_view accessor_id,
                     std::optional<std::string> description, Done<acl::Token> done);
void acl_token_delete(Context& ctx, const ResolvedToken& who, std::string_view request_secret,
                      std::string_view accessor_id, Done<bool> done);
core::Result<AclRead<acl::Token>> acl_token_read(const Context& ctx, const ResolvedToken& who,
                                                 state::WatchSet& ws, std::string_view accessor);
core::Result<AclRead<acl::Token>> acl_token_self(const Context& ctx, state::WatchSet& ws,
                                                 std::string_view secret);
// ?policy= and ?role= filter by link (IDs).
core::Result<AclRead<std::vector<acl::Token>>> acl_token_list(const Context& ctx,
                                                              const ResolvedToken& who,
                                                              state::WatchSet& ws,
                                                              std::string_view policy_id,
                                                              std::string_view role_id);

// ---- policies ----
void acl_policy_set(Context& ctx, const ResolvedToken& who, acl::Policy input, bool create,
                    Done<acl::Policy> done);
void acl_policy_delete(Context& ctx, const ResolvedToken& who, std::string_view id,
                       Done<bool> done);
// By ID, or by name when `by_name`.
core::Result<AclRead<acl::Policy>> acl_policy_read(const Context& ctx, const ResolvedToken& who,
                                                   state::WatchSet& ws, std::string_view key,
                                                   bool by_name);
core::Result<AclRead<std::vector<acl::Policy>>> acl_policy_list(const Context& ctx,
                                                                const ResolvedToken& who,
                                                                state::WatchSet& ws);

// ---- roles ----
void acl_role_set(Context& ctx, const ResolvedToken& who, acl::Role input, bool create,
                  Done<acl::Role> done);
void acl_role_delete(Context& ctx, const ResolvedToken& who, std::string_view id, Done<bool> done);
core::Result<AclRead<acl::Role>> acl_role_read(const Context& ctx, const ResolvedToken& who,
                                               state::WatchSet& ws, std::string_view key,
                                               bool by_name);
core::Result<AclRead<std::vector<acl::Role>>> acl_role_list(const Context& ctx,
                                                            const ResolvedToken& who,
                                                            state::WatchSet& ws,
                                                            std::string_view policy_id);

// What the leader proposes when ACLs are enabled (Consul's initializeACLs): the
// global-management policy, the anonymous token and, when configured, the
// initial_management token, each created only if absent. Nothing to do: nullopt. The
// initial_management token goes through an AclBootstrap command (after the builtin objects,
// on a later call) while no bootstrap has happened, which closes /v1/acl/bootstrap as Consul
// does; after a bootstrap it goes in an AclInit.
std::optional<proto::Command> acl_init_command(Context& ctx);

}  // namespace pc::endpoints
