// `proconsul acl policy create|read|update|delete|list`, as Consul's command/acl/policy.
#include <ostream>

#include "cli/commands/acl/acl_command.h"
#include "cli/commands/acl/update.h"
#include "cli/commands/commands.h"
#include "cli/commands/json_fields.h"

namespace pc::cli {
namespace {

using acl_cli::AclCommand;
using acl_cli::Request;

struct PolicyFlags {
  std::string name, description, rules;
  std::vector<std::string> datacenters;

  void add(core::FlagSet& f) {
    f.add_string("name", &name, "The new policy's name");
    f.add_string("description", &description, "A description of the policy");
    f.add_string("rules", &rules,
                 "The policy rules. May be prefixed with '@' to indicate that the value is a "
                 "file path to load the rules from. '-' may also be given to indicate that the "
                 "rules are available on stdin");
    f.add_strings("valid-datacenter", &datacenters,
                  "Datacenter that the policy should be valid within. This flag may be "
                  "specified multiple times");
  }
  std::optional<boost::json::object> body(Context& ctx) const {
    boost::json::object b{{"Name", name}, {"Description", description}};
    if (!rules.empty()) {
      auto text = load_data_source(rules, ctx);
      if (!text) {
        *ctx.err << "Error loading rules: " << text.error().message << "\n";
        return std::nullopt;
      }
      b["Rules"] = *text;
    }
    boost::json::array dcs;
    for (const auto& dc : datacenters) dcs.push_back(boost::json::string(dc));
    b["Datacenters"] = std::move(dcs);
    return b;
  }
};

int print_policy(Context& ctx, const std::string& body) {
  return acl_cli::print_response(ctx, body, acl_cli::format_policy);
}

class PolicyCreate final : public AclCommand {
 public:
  PolicyCreate()
      : AclCommand("Create an ACL policy",
                   "\nUsage: proconsul acl policy create -name NAME [options]\n\n"
                   "  Creates a new ACL policy.\n",
                   "Failed to create new policy: ") {
    policy_.add(flags_);
  }

 private:
  std::optional<Request> build(Context& ctx) override {
    if (policy_.name.empty()) {
      *ctx.err << "Missing require '-name' flag\n";
      return std::nullopt;
    }
    auto body = policy_.body(ctx);
    if (!body) return std::nullopt;
    return Request{"PUT", "/v1/acl/policy", boost::json::serialize(*body)};
  }
  int print(Context& ctx, const std::string& body) override { return print_policy(ctx, body); }
  PolicyFlags policy_;
};

// -id or -name selects the policy (read, update, delete).
class PolicyByIdOrName : public AclCommand {
 public:
  using AclCommand::AclCommand;

 protected:
  void add_selector() { flags_.add_string("id", &id_, "The ID of the policy"); }
  // The policy's ID, looking it up by name when only a name was given.
  std::optional<std::string> policy_id(Context& ctx, const std::string& name) {
    if (!id_.empty()) return id_;
    if (name.empty()) {
      *ctx.err << "Must specify either the -id or -name parameters\n";
      return std::nullopt;
    }
    auto res = call_agent_ok(ctx, http_, CallKind::kRead, "GET", "/v1/acl/policy/name/" + name, {},
                             "Error looking up policy: ");
    if (!res) return std::nullopt;
    auto v = parse_response_json(res->body);
    if (!v || !v->is_object() || !v->as_object().contains("ID") ||
        !v->as_object().at("ID").is_string()) {
      *ctx.err << "Error looking up policy: no ID in the answer\n";
      return std::nullopt;
    }
    return std::string(v->as_object().at("ID").as_string());
  }
  std::string id_;
};

class PolicyRead final : public PolicyByIdOrName {
 public:
  PolicyRead()
      : PolicyByIdOrName("Read an ACL policy",
                         "\nUsage: proconsul acl policy read [options] POLICY\n\n"
                         "  Displays a policy's details, selected by -id or -name.\n",
                         "Error reading policy: ") {
    add_selector();
    flags_.add_string("name", &name_, "The name of the policy to read");
  }

 private:
  std::optional<Request> build(Context& ctx) override {
    if (id_.empty() && name_.empty()) {
      *ctx.err << "Must specify either the -id or -name parameters\n";
      return std::nullopt;
    }
    if (!id_.empty()) return Request{"GET", "/v1/acl/policy/" + id_, ""};
    return Request{"GET", "/v1/acl/policy/name/" + name_, ""};
  }
  int print(Context& ctx, const std::string& body) override { return print_policy(ctx, body); }
  std::string name_;
};

// Consul's policy update: merged into the policy as read (each of name, description, rules
// and datacenters replaced only when given), or with -no-merge every field replaced.
class PolicyUpdate final : public PolicyByIdOrName {
 public:
  PolicyUpdate()
      : PolicyByIdOrName("Update an ACL policy",
                         "\nUsage: proconsul acl policy update [options]\n\n"
                         "  Updates a policy. The flags given are merged into the policy as it\n"
                         "  is, so only what they name changes; -no-merge replaces every field.\n",
                         "Failed to update policy: ") {
    add_selector();
    policy_.add(flags_);
    flags_.add_bool("no-merge", &no_merge_,
                    "Do not merge the current policy with the flags given: replace every field "
                    "but the ID");
  }

 private:
  std::optional<Request> build(Context& ctx) override {
    auto id = policy_id(ctx, policy_.name);
    if (!id) return std::nullopt;
    auto body = policy_.body(ctx);
    if (!body) return std::nullopt;
    if (!no_merge_) {
      auto current = acl_cli::read_object(ctx, http_, "/v1/acl/policy/" + *id,
                                          "Error reading policy \"" + *id + "\": ");
      if (!current) return std::nullopt;
      for (const char* key : {"Name", "Description", "Rules", "Datacenters"}) {
        if (!given(*body, key) && current->contains(key)) (*body)[key] = current->at(key);
      }
    }
    set_error_prefix("Error updating policy \"" + *id + "\": ");
    return Request{"PUT", "/v1/acl/policy/" + *id, boost::json::serialize(*body)};
  }
  // Whether the flags set `key` in the body they make: a non-empty string or list.
  static bool given(const boost::json::object& body, std::string_view key) {
    const auto* v = body.if_contains(key);
    if (v == nullptr) return false;
    if (v->is_string()) return !v->as_string().empty();
    if (v->is_array()) return !v->as_array().empty();
    return false;
  }
  int print(Context& ctx, const std::string& body) override { return print_policy(ctx, body); }
  PolicyFlags policy_;
  bool no_merge_ = false;
};

class PolicyDelete final : public PolicyByIdOrName {
 public:
  PolicyDelete()
      : PolicyByIdOrName("Delete an ACL policy",
                         "\nUsage: proconsul acl policy delete [options] -id POLICY\n\n"
                         "  Deletes an ACL policy, selected by -id or -name.\n",
                         "Error deleting policy: ") {
    add_selector();
    flags_.add_string("name", &name_, "The name of the policy to delete");
  }

 private:
  std::optional<Request> build(Context& ctx) override {
    auto id = policy_id(ctx, name_);
    if (!id) return std::nullopt;
    deleted_ = *id;
    return Request{"DELETE", "/v1/acl/policy/" + *id, ""};
  }
  int print(Context& ctx, const std::string&) override {
    *ctx.out << "Policy \"" << deleted_ << "\" deleted successfully\n";
    return 0;
  }
  std::string name_, deleted_;
};

class PolicyList final : public AclCommand {
 public:
  PolicyList()
      : AclCommand(
            "List ACL policies",
            "\nUsage: proconsul acl policy list [options]\n\n  Lists all the ACL policies.\n",
            "Failed to retrieve the policy list: ") {}

 private:
  std::optional<Request> build(Context&) override { return Request{"GET", "/v1/acl/policies", ""}; }
  int print(Context& ctx, const std::string& body) override { return print_policy(ctx, body); }
};

}  // namespace

std::unique_ptr<Command> make_acl_policy_create_command() {
  return std::make_unique<PolicyCreate>();
}
std::unique_ptr<Command> make_acl_policy_read_command() {
  return std::make_unique<PolicyRead>();
}
std::unique_ptr<Command> make_acl_policy_update_command() {
  return std::make_unique<PolicyUpdate>();
}
std::unique_ptr<Command> make_acl_policy_delete_command() {
  return std::make_unique<PolicyDelete>();
}
std::unique_ptr<Command> make_acl_policy_list_command() {
  return std::make_unique<PolicyList>();
}

}  // namespace pc::cli
