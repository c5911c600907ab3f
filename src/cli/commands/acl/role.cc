// `proconsul acl role create|read|update|delete|list`, as Consul's command/acl/role.
#include <ostream>

#include "cli/commands/acl/acl_command.h"
#include "cli/commands/acl/update.h"
#include "cli/commands/commands.h"

namespace pc::cli {
namespace {

using acl_cli::AclCommand;
using acl_cli::Request;

struct RoleFlags {
  std::string name, description;
  std::vector<std::string> policy_ids, policy_names, service_identities, node_identities;

  void add(core::FlagSet& f) {
    f.add_string("name", &name, "The new role's name");
    f.add_string("description", &description, "A description of the role");
    f.add_strings("policy-id", &policy_ids,
                  "ID of a policy to use for this role. May be "
                  "specified multiple times");
    f.add_strings("policy-name", &policy_names,
                  "Name of a policy to use for this role. May be "
                  "specified multiple times");
    f.add_strings("service-identity", &service_identities,
                  "Name of a service identity to use for this role. May be specified multiple "
                  "times. Format is the SERVICENAME or SERVICENAME:DATACENTER1,DATACENTER2,...");
    f.add_strings("node-identity", &node_identities,
                  "Name of a node identity to use for this role. May be specified multiple "
                  "times. Format is NODENAME:DATACENTER");
  }
  std::string body() const {
    boost::json::object b{{"Name", name}, {"Description", description}};
    b["Policies"] = acl_cli::links(policy_ids, policy_names);
    b["ServiceIdentities"] = acl_cli::service_identities(service_identities);
    b["NodeIdentities"] = acl_cli::node_identities(node_identities);
    return boost::json::serialize(b);
  }
};

int print_role(Context& ctx, const std::string& body) {
  return acl_cli::print_response(ctx, body, acl_cli::format_role);
}

class RoleCreate final : public AclCommand {
 public:
  RoleCreate()
      : AclCommand("Create an ACL role",
                   "\nUsage: proconsul acl role create -name NAME [options]\n\n"
                   "  Creates a new ACL role.\n",
                   "Failed to create new role: ") {
    role_.add(flags_);
  }

 private:
  std::optional<Request> build(Context& ctx) override {
    if (role_.name.empty()) {
      *ctx.err << "Missing required '-name' flag\n";
      return std::nullopt;
    }
    return Request{"PUT", "/v1/acl/role", role_.body()};
  }
  int print(Context& ctx, const std::string& body) override { return print_role(ctx, body); }
  RoleFlags role_;
};

class RoleRead final : public AclCommand {
 public:
  RoleRead()
      : AclCommand("Read an ACL role",
                   "\nUsage: proconsul acl role read [options] ROLE\n\n"
                   "  Displays a role's details, selected by -id or -name.\n",
                   "Error reading role: ") {
    flags_.add_string("id", &id_, "The ID of the role to read");
    flags_.add_string("name", &name_, "The name of the role to read");
  }

 private:
  std::optional<Request> build(Context& ctx) override {
    if (!id_.empty()) return Request{"GET", "/v1/acl/role/" + id_, ""};
    if (!name_.empty()) return Request{"GET", "/v1/acl/role/name/" + name_, ""};
    *ctx.err << "Must specify either the -id or -name parameters\n";
    return std::nullopt;
  }
  int print(Context& ctx, const std::string& body) override { return print_role(ctx, body); }
  std::string id_, name_;
};

// Consul's role update: merges into the role as read (a name or description given replaces
// the old one, policies and identities are added), or with -no-merge replaces every field.
class RoleUpdate final : public AclCommand {
 public:
  RoleUpdate()
      : AclCommand("Update an ACL role",
                   "\nUsage: proconsul acl role update [options] -id ROLEID\n\n"
                   "  Updates a role. The flags given are merged into the role as it is, so\n"
                   "  only what they name changes; -no-merge replaces every field instead.\n",
                   "Failed to update role: ") {
    flags_.add_string("id", &id_, "The ID of the role to update");
    role_.add(flags_);
    flags_.add_bool("no-merge", &no_merge_,
                    "Do not merge the current role with the flags given: replace every field "
                    "but the ID");
  }

 private:
  std::optional<Request> build(Context& ctx) override {
    if (id_.empty()) {
      *ctx.err << "Cannot update a role without specifying the -id parameter\n";
      return std::nullopt;
    }
    // Read in both modes, so a missing role fails before anything is sent.
    auto current = acl_cli::read_object(ctx, http_, "/v1/acl/role/" + id_,
                                        "Error when retrieving current role: ");
    if (!current) return std::nullopt;
    set_error_prefix("Error updating role \"" + id_ + "\": ");
    if (no_merge_) return Request{"PUT", "/v1/acl/role/" + id_, role_.body()};
    boost::json::object& role = *current;
    if (!role_.name.empty()) role["Name"] = role_.name;
    if (!role_.description.empty()) role["Description"] = role_.description;
    acl_cli::append_links(role, "Policies", role_.policy_ids, role_.policy_names);
    acl_cli::merge_service_identities(role, acl_cli::service_identities(role_.service_identities));
    acl_cli::merge_node_identities(role, acl_cli::node_identities(role_.node_identities));
    return Request{"PUT", "/v1/acl/role/" + id_, boost::json::serialize(role)};
  }
  int print(Context& ctx, const std::string& body) override { return print_role(ctx, body); }
  std::string id_;
  RoleFlags role_;
  bool no_merge_ = false;
};

class RoleDelete final : public AclCommand {
 public:
  RoleDelete()
      : AclCommand("Delete an ACL role",
                   "\nUsage: proconsul acl role delete [options] -id ROLEID\n\n"
                   "  Deletes an ACL role.\n",
                   "Error deleting role: ") {
    flags_.add_string("id", &id_, "The ID of the role to delete");
  }

 private:
  std::optional<Request> build(Context& ctx) override {
    if (id_.empty()) {
      *ctx.err << "Must specify the -id parameter\n";
      return std::nullopt;
    }
    return Request{"DELETE", "/v1/acl/role/" + id_, ""};
  }
  int print(Context& ctx, const std::string&) override {
    *ctx.out << "Role \"" << id_ << "\" deleted successfully\n";
    return 0;
  }
  std::string id_;
};

class RoleList final : public AclCommand {
 public:
  RoleList()
      : AclCommand("List ACL roles",
                   "\nUsage: proconsul acl role list [options]\n\n  Lists all the ACL roles.\n",
                   "Failed to retrieve the role list: ") {}

 private:
  std::optional<Request> build(Context&) override { return Request{"GET", "/v1/acl/roles", ""}; }
  int print(Context& ctx, const std::string& body) override { return print_role(ctx, body); }
};

}  // namespace

std::unique_ptr<Command> make_acl_role_create_command() {
  return std::make_unique<RoleCreate>();
}
std::unique_ptr<Command> make_acl_role_read_command() {
  return std::make_unique<RoleRead>();
}
std::unique_ptr<Command> make_acl_role_update_command() {
  return std::make_unique<RoleUpdate>();
}
std::unique_ptr<Command> make_acl_role_delete_command() {
  return std::make_unique<RoleDelete>();
}
std::unique_ptr<Command> make_acl_role_list_command() {
  return std::make_unique<RoleList>();
}

}  // namespace pc::cli
