// `proconsul acl token create|read|update|delete|list`, as Consul's command/acl/token.
#include <ostream>

#include "cli/commands/acl/acl_command.h"
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

class TokenUpdate final : public AclCommand {
 public:
  TokenUpdate()
      : AclCommand("Update an ACL token",
                   "\nUsage: proconsul acl token update [options] -id TOKENID\n\n"
                   "  Replaces a token's description, policies, roles and identities.\n",
                   "Failed to update token: ") {
    flags_.add_string("id", &id_, "The Accessor ID of the token to update");
    token_.add(flags_);
  }

 private:
  std::optional<Request> build(Context& ctx) override {
    if (id_.empty()) {
      *ctx.err << "Cannot update a token without specifying the -id parameter\n";
      return std::nullopt;
    }
    boost::json::object body;
    token_.fill(body);
    return Request{"PUT", "/v1/acl/token/" + id_, boost::json::serialize(body)};
  }
  int print(Context& ctx, const std::string& body) override {
    return acl_cli::print_response(ctx, body, acl_cli::format_token);
  }
  std::string id_;
  TokenFlags token_;
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
