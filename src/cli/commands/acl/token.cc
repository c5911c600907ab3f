// `proconsul acl token create|read|update|delete|list`, as Consul's command/acl/token.
#include <ostream>

#include "cli/commands/acl/acl_command.h"
#include "cli/commands/acl/update.h"
#include "cli/commands/commands.h"

namespace pc::cli {
namespace {

using acl_cli::AclCommand;
using acl_cli::Request;

// The flags create and update share (Consul's names).
struct TokenFlags {
  std::string description;
  std::vector<std::string> policy_ids, policy_names, role_ids, role_names;
  std::vector<std::string> service_identities, node_identities;

  void add(core::FlagSet& f) {
    f.add_string("description", &description, "A description of the token");
    f.add_strings("policy-id", &policy_ids,
                  "ID of a policy to use for this token. May be "
                  "specified multiple times");
    f.add_strings("policy-name", &policy_names,
                  "Name of a policy to use for this token. May be "
                  "specified multiple times");
    f.add_strings("role-id", &role_ids,
                  "ID of a role to use for this token. May be specified "
                  "multiple times");
    f.add_strings("role-name", &role_names,
                  "Name of a role to use for this token. May be "
                  "specified multiple times");
    f.add_strings("service-identity", &service_identities,
                  "Name of a service identity to use for this token. May be specified multiple "
                  "times. Format is the SERVICENAME or SERVICENAME:DATACENTER1,DATACENTER2,...");
    f.add_strings("node-identity", &node_identities,
                  "Name of a node identity to use for this token. May be specified multiple "
                  "times. Format is NODENAME:DATACENTER");
  }
  void fill(boost::json::object& body) const {
    body["Description"] = description;
    body["Policies"] = acl_cli::links(policy_ids, policy_names);
    body["Roles"] = acl_cli::links(role_ids, role_names);
    body["ServiceIdentities"] = acl_cli::service_identities(service_identities);
    body["NodeIdentities"] = acl_cli::node_identities(node_identities);
  }
};

class TokenCreate final : public AclCommand {
 public:
  TokenCreate()
      : AclCommand("Create an ACL token",
                   "\nUsage: proconsul acl token create [options]\n\n  Creates a new ACL token.\n",
                   "Failed to create new token: ") {
    token_.add(flags_);
    flags_.add_bool("local", &local_, "Create this as a datacenter local token");
    flags_.add_string("expires-ttl", &ttl_, "Duration of time this token should be valid for");
    flags_.add_string("accessor", &accessor_, "Create the token with this Accessor ID");
    flags_.add_string("secret", &secret_, "Create the token with this Secret ID");
  }

 private:
  std::optional<Request> build(Context&) override {
    boost::json::object body;
    token_.fill(body);
    body["Local"] = local_;
    if (!ttl_.empty()) body["ExpirationTTL"] = ttl_;
    if (!accessor_.empty()) body["AccessorID"] = accessor_;
    if (!secret_.empty()) body["SecretID"] = secret_;
    return Request{"PUT", "/v1/acl/token", boost::json::serialize(body)};
  }
  int print(Context& ctx, const std::string& body) override {
    return acl_cli::print_response(ctx, body, acl_cli::format_token);
  }
  TokenFlags token_;
  bool local_ = false;
  std::string ttl_, accessor_, secret_;
};

class TokenRead final : public AclCommand {
 public:
  TokenRead()
      : AclCommand("Read an ACL token",
                   "\nUsage: proconsul acl token read [options] -id TOKENID\n\n"
                   "  Displays a token's details.\n",
                   "Error reading token: ") {
    flags_.add_string("id", &id_, "The Accessor ID of the token to read");
    flags_.add_bool("self", &self_, "Indicates that the current HTTP token should be read");
  }

 private:
  std::optional<Request> build(Context& ctx) override {
    if (self_) return Request{"GET", "/v1/acl/token/self", ""};
    if (id_.empty()) {
      *ctx.err << "Must specify the -id parameter\n";
      return std::nullopt;
    }
    return Request{"GET", "/v1/acl/token/" + id_, ""};
  }
  int print(Context& ctx, const std::string& body) override {
    return acl_cli::print_response(ctx, body, acl_cli::format_token);
  }
  std::string id_;
  bool self_ = false;
};

// Consul's token update: the token as read, with a description given replacing the old one,
// and each list (policies, roles, service and node identities) replaced only when its flags
// are given, or merged into with -merge-* or the -append-* flags.
class TokenUpdate final : public AclCommand {
 public:
  TokenUpdate()
      : AclCommand("Update an ACL token",
                   "\nUsage: proconsul acl token update [options] -id TOKENID\n\n"
                   "  Updates a token: only what the flags name changes. -policy-*, -role-*,\n"
                   "  -service-identity and -node-identity replace that list; the -append-*\n"
                   "  flags (or -merge-*) add to it. Whether the token is local cannot change.\n",
                   "Failed to update token: ") {
    flags_.add_string("id", &id_, "The Accessor ID of the token to update");
    flags_.add_string("accessor-id", &accessor_id_, "The Accessor ID of the token to update");
    token_.add(flags_);
    flags_.add_strings("append-policy-id", &append_.policy_ids,
                       "ID of a policy to add to this token. May be specified multiple times");
    flags_.add_strings("append-policy-name", &append_.policy_names,
                       "Name of a policy to add to this token. May be specified multiple times");
    flags_.add_strings("append-role-id", &append_.role_ids,
                       "ID of a role to add to this token. May be specified multiple times");
    flags_.add_strings("append-role-name", &append_.role_names,
                       "Name of a role to add to this token. May be specified multiple times");
    flags_.add_strings("append-service-identity", &append_.service_identities,
                       "Service identity to add to this token (SERVICENAME or "
                       "SERVICENAME:DATACENTER1,DATACENTER2,...). May be specified multiple times");
    flags_.add_strings("append-node-identity", &append_.node_identities,
                       "Node identity to add to this token (NODENAME:DATACENTER). May be "
                       "specified multiple times");
    flags_.add_bool("merge-policies", &merge_policies_,
                    "Merge the -policy-* flags into the token's policies (use -append-policy-*)");
    flags_.add_bool("merge-roles", &merge_roles_,
                    "Merge the -role-* flags into the token's roles (use -append-role-*)");
    flags_.add_bool("merge-service-identities", &merge_service_identities_,
                    "Merge -service-identity into the token's (use -append-service-identity)");
    flags_.add_bool("merge-node-identities", &merge_node_identities_,
                    "Merge -node-identity into the token's (use -append-node-identity)");
  }

 private:
  std::optional<Request> build(Context& ctx) override {
    const std::string id = accessor_id_.empty() ? id_ : accessor_id_;
    if (id.empty()) {
      *ctx.err << "Cannot update a token without specifying the -id parameter\n";
      return std::nullopt;
    }
    if (!conflicts_ok(ctx)) return std::nullopt;
    auto current = acl_cli::read_object(ctx, http_, "/v1/acl/token/" + id,
                                        "Error when retrieving current token: ");
    if (!current) return std::nullopt;
    set_error_prefix("Failed to update token " + id + ": ");
    boost::json::object& t = *current;
    if (!token_.description.empty()) t["Description"] = token_.description;
    update_links(t, "Policies", merge_policies_, token_.policy_ids, token_.policy_names,
                 append_.policy_ids, append_.policy_names);
    update_links(t, "Roles", merge_roles_, token_.role_ids, token_.role_names, append_.role_ids,
                 append_.role_names);
    if (merge_service_identities_ || !append_.service_identities.empty()) {
      acl_cli::merge_service_identities(t, acl_cli::service_identities(token_.service_identities));
      acl_cli::merge_service_identities(t, acl_cli::service_identities(append_.service_identities));
    } else if (!token_.service_identities.empty()) {
      t["ServiceIdentities"] = acl_cli::service_identities(token_.service_identities);
    }
    if (merge_node_identities_ || !append_.node_identities.empty()) {
      acl_cli::merge_node_identities(t, acl_cli::node_identities(token_.node_identities));
      acl_cli::merge_node_identities(t, acl_cli::node_identities(append_.node_identities));
    } else if (!token_.node_identities.empty()) {
      t["NodeIdentities"] = acl_cli::node_identities(token_.node_identities);
    }
    return Request{"PUT", "/v1/acl/token/" + id, boost::json::serialize(t)};
  }

  // A list's replacing flags and its -append-* ones together are ambiguous (Consul's texts).
  bool conflicts_ok(Context& ctx) const {
    auto both = [](bool set, bool append) { return set && append; };
    if (both(!token_.policy_ids.empty() || !token_.policy_names.empty(),
             !append_.policy_ids.empty() || !append_.policy_names.empty())) {
      *ctx.err << "Cannot combine the use of policy-id/policy-name flags with append- variants. "
                  "To set or overwrite existing policies, use -policy-id or -policy-name. To "
                  "append to existing policies, use -append-policy-id or -append-policy-name.\n";
      return false;
    }
    if (both(!token_.role_ids.empty() || !token_.role_names.empty(),
             !append_.role_ids.empty() || !append_.role_names.empty())) {
      *ctx.err << "Cannot combine the use of role-id/role-name flags with append- variants. To "
                  "set or overwrite existing roles, use -role-id or -role-name. To append to "
                  "existing roles, use -append-role-id or -append-role-name.\n";
      return false;
    }
    if (both(!token_.service_identities.empty(), !append_.service_identities.empty())) {
      *ctx.err << "Cannot combine the use of service-identity flag with append-service-identity. "
                  "To set or overwrite existing service identities, use -service-identity. To "
                  "append to existing service identities, use -append-service-identity.\n";
      return false;
    }
    if (both(!token_.node_identities.empty(), !append_.node_identities.empty())) {
      *ctx.err << "Cannot combine the use of node-identity flag with append-node-identity. To "
                  "set or overwrite existing node identities, use -node-identity. To append to "
                  "existing node identities, use -append-node-identity.\n";
      return false;
    }
    return true;
  }

  // Replaced when its flags are given, merged into with -merge-*, added to with -append-*.
  static void update_links(boost::json::object& t, std::string_view key, bool merge,
                           const std::vector<std::string>& ids,
                           const std::vector<std::string>& names,
                           const std::vector<std::string>& append_ids,
                           const std::vector<std::string>& append_names) {
    if (!merge && (!ids.empty() || !names.empty())) {
      t[key] = acl_cli::links(ids, names);
    } else {
      acl_cli::append_links(t, key, ids, names);
    }
    acl_cli::append_links(t, key, append_ids, append_names);
  }

  int print(Context& ctx, const std::string& body) override {
    return acl_cli::print_response(ctx, body, acl_cli::format_token);
  }
  std::string id_, accessor_id_;
  TokenFlags token_, append_;
  bool merge_policies_ = false, merge_roles_ = false;
  bool merge_service_identities_ = false, merge_node_identities_ = false;
};

class TokenDelete final : public AclCommand {
 public:
  TokenDelete()
      : AclCommand("Delete an ACL token",
                   "\nUsage: proconsul acl token delete [options] -id TOKENID\n\n"
                   "  Deletes an ACL token.\n",
                   "Error deleting token: ") {
    flags_.add_string("id", &id_, "The Accessor ID of the token to delete");
  }

 private:
  std::optional<Request> build(Context& ctx) override {
    if (id_.empty()) {
      *ctx.err << "Must specify the -id parameter\n";
      return std::nullopt;
    }
    return Request{"DELETE", "/v1/acl/token/" + id_, ""};
  }
  int print(Context& ctx, const std::string&) override {
    *ctx.out << "Token \"" << id_ << "\" deleted successfully\n";
    return 0;
  }
  std::string id_;
};

class TokenList final : public AclCommand {
 public:
  TokenList()
      : AclCommand("List ACL tokens",
                   "\nUsage: proconsul acl token list [options]\n\n  Lists all the ACL tokens.\n",
                   "Failed to retrieve the token list: ") {}

 private:
  std::optional<Request> build(Context&) override { return Request{"GET", "/v1/acl/tokens", ""}; }
  int print(Context& ctx, const std::string& body) override {
    return acl_cli::print_response(ctx, body, acl_cli::format_token);
  }
};

}  // namespace

std::unique_ptr<Command> make_acl_token_create_command() {
  return std::make_unique<TokenCreate>();
}
std::unique_ptr<Command> make_acl_token_read_command() {
  return std::make_unique<TokenRead>();
}
std::unique_ptr<Command> make_acl_token_update_command() {
  return std::make_unique<TokenUpdate>();
}
std::unique_ptr<Command> make_acl_token_delete_command() {
  return std::make_unique<TokenDelete>();
}
std::unique_ptr<Command> make_acl_token_list_command() {
  return std::make_unique<TokenList>();
}

}  // namespace pc::cli
