// Decodes the tree core/hcl.h gives into PolicyRules, checking it against Consul's schema
// (acl/policy.go PolicyRules and Validate). Every refusal names the place in the text.
#include "acl/rules.h"

#include <fmt/format.h>

#include <optional>
#include <utility>

#include "core/hcl.h"
#include "core/strings.h"

namespace pc::acl {

std::string_view access_level_name(AccessLevel level) {
  switch (level) {
    case AccessLevel::kUnset: return "";
    case AccessLevel::kRead: return "read";
    case AccessLevel::kList: return "list";
    case AccessLevel::kWrite: return "write";
    case AccessLevel::kDeny: return "deny";
  }
  return "";
}

std::string_view resource_name(Resource resource) {
  switch (resource) {
    case Resource::kAgent: return "agent";
    case Resource::kEvent: return "event";
    case Resource::kKey: return "key";
    case Resource::kNode: return "node";
    case Resource::kQuery: return "query";
    case Resource::kService: return "service";
    case Resource::kSession: return "session";
    case Resource::kIntention: return "intention";
  }
  return "";
}

std::string_view global_resource_name(GlobalResource resource) {
  switch (resource) {
    case GlobalResource::kAcl: return "acl";
    case GlobalResource::kKeyring: return "keyring";
    case GlobalResource::kMesh: return "mesh";
    case GlobalResource::kOperator: return "operator";
    case GlobalResource::kPeering: return "peering";
  }
  return "";
}

namespace {

using core::hcl::Kind;
using core::hcl::Member;
using core::hcl::Position;
using core::hcl::Value;

constexpr std::string_view kKnownResources =
    "acl, agent, agent_prefix, event, event_prefix, key, key_prefix, keyring, mesh, node, "
    "node_prefix, operator, peering, query, query_prefix, service, service_prefix, session, "
    "session_prefix";

// What a top-level key means: a named resource (exact or prefix) or a global one.
struct ResourceKey {
  bool global = false;
  Resource resource = Resource::kAgent;
  bool prefix = false;
  GlobalResource global_resource = GlobalResource::kAcl;
};

std::optional<ResourceKey> resource_key(std::string_view key) {
  for (std::size_t i = 0; i < kGlobalResourceCount; ++i) {
    const auto g = static_cast<GlobalResource>(i);
    if (key == global_resource_name(g)) return ResourceKey{true, Resource::kAgent, false, g};
  }
  for (std::size_t i = 0; i < kRuleResourceCount; ++i) {
    const auto r = static_cast<Resource>(i);
    const std::string_view name = resource_name(r);
    if (key == name) return ResourceKey{false, r, false, GlobalResource::kAcl};
    if (key.size() == name.size() + 7 && key.substr(0, name.size()) == name &&
        key.substr(name.size()) == "_prefix") {
      return ResourceKey{false, r, true, GlobalResource::kAcl};
    }
  }
  return std::nullopt;
}

// "a string", "an object": for messages that say what was found instead.
std::string a_kind(Kind kind) {
  const std::string_view name = core::hcl::kind_name(kind);
  if (kind == Kind::kNull) return "null";
  return fmt::format("{} {}", kind == Kind::kObject ? "an" : "a", name);
}

class Decoder {
 public:
  core::Status decode(const Value& root);
  PolicyRules take() { return std::move(rules_); }

 private:
  core::Status fail(Position position, std::string message) const {
    return core::make_error(core::Code::kInvalidArgument,
                            "Failed to parse ACL rules: " + core::hcl::at(position) + message);
  }
  core::Status decode_global(const Member& member, GlobalResource resource);
  core::Status decode_named(const Member& member, const ResourceKey& key);
  core::Status decode_rule(const Member& member, const ResourceKey& key, std::string_view what);
  core::Status decode_access(const Value& value, std::string_view what, bool allow_list,
                             AccessLevel& out) const;

  PolicyRules rules_;
  std::array<std::optional<Position>, kGlobalResourceCount> global_set_at_{};
};

core::Status Decoder::decode(const Value& root) {
  for (const Member& member : root.object) {
    const std::optional<ResourceKey> key = resource_key(member.key);
    if (!key) {
      return fail(member.position, fmt::format("unknown resource {}; expected one of {}",
                                               core::go_quote(member.key), kKnownResources));
    }
    core::Status status =
        key->global ? decode_global(member, key->global_resource) : decode_named(member, *key);
    if (!status) return status;
  }
  return core::ok();
}

core::Status Decoder::decode_global(const Member& member, GlobalResource resource) {
  auto& first = global_set_at_[static_cast<std::size_t>(resource)];
  if (first) {
    return fail(member.position,
                fmt::format("{} is already set at line {}; set it once", member.key, first->line));
  }
  first = member.position;
  if (!member.value.is_string()) {
    return fail(member.value.position,
                fmt::format("{} must be a string such as {} = \"read\", found {}", member.key,
                            member.key, a_kind(member.value.kind)));
  }
  return decode_access(member.value, member.key, false, rules_.level(resource));
}

// `key_prefix "a" {...}` arrives as {key_prefix: {a: {...}}}; `key_prefix = {a = {...},
// b = {...}}` and JSON's `"key_prefix": [{"a": {...}}, ...]` carry several names at once.
core::Status Decoder::decode_named(const Member& member, const ResourceKey& key) {
  const std::string example = fmt::format("{} \"<name>\" {{ policy = \"read\" }}", member.key);
  auto expect_object = [&](const Value& value) -> core::Status {
    if (value.is_object()) return core::ok();
    return fail(value.position, fmt::format("{} must be a block such as {}, found {}", member.key,
                                            example, a_kind(value.kind)));
  };
  std::vector<const Value*> groups;
  if (member.value.kind == Kind::kList) {
    for (const Value& element : member.value.list) groups.push_back(&element);
  } else {
    groups.push_back(&member.value);
  }
  for (const Value* group : groups) {
    if (core::Status status = expect_object(*group); !status) return status;
    for (const Member& named : group->object) {
      const std::string what = fmt::format("{} {}", member.key, core::go_quote(named.key));
      if (core::Status status = decode_rule(named, key, what); !status) return status;
    }
  }
  return core::ok();
}

// One rule's body: { policy = "..." [intentions = "..."] }.
core::Status Decoder::decode_rule(const Member& named, const ResourceKey& key,
                                  std::string_view what) {
  std::vector<const Value*> bodies;
  if (named.value.kind == Kind::kList) {
    for (const Value& element : named.value.list) bodies.push_back(&element);
  } else {
    bodies.push_back(&named.value);
  }
  const bool is_service = key.resource == Resource::kService;
  for (const Value* body : bodies) {
    if (!body->is_object()) {
      return fail(body->position, fmt::format("{} must be a block such as {} {{ policy = "
                                              "\"read\" }}, found {}",
                                              what, what, a_kind(body->kind)));
    }
    NamedRule rule{named.key, key.prefix, AccessLevel::kUnset, AccessLevel::kUnset};
    std::optional<Position> policy_at;
    std::optional<Position> intentions_at;
    for (const Member& field : body->object) {
      const bool is_policy = field.key == "policy";
      const bool is_intentions = field.key == "intentions" && is_service;
      if (!is_policy && !is_intentions) {
        return fail(field.position,
                    fmt::format("unknown field {} in {}; expected {}", core::go_quote(field.key),
                                what, is_service ? "policy or intentions" : "policy"));
      }
      std::optional<Position>& seen = is_policy ? policy_at : intentions_at;
      if (seen) {
        return fail(field.position, fmt::format("{} is already set in {} at line {}; set it once",
                                                field.key, what, seen->line));
      }
      seen = field.position;
      const std::string field_what = fmt::format("{} of {}", field.key, what);
      AccessLevel& target = is_policy ? rule.access : rule.intentions;
      const bool allow_list = is_policy && key.resource == Resource::kKey;
      if (core::Status status = decode_access(field.value, field_what, allow_list, target);
          !status) {
        return status;
      }
    }
    if (!policy_at) {
      return fail(body->position, fmt::format("{} has no policy; add policy = \"read\", "
                                              "\"write\" or \"deny\"",
                                              what));
    }
    rules_.rules(key.resource).push_back(std::move(rule));
  }
  return core::ok();
}

core::Status Decoder::decode_access(const Value& value, std::string_view what, bool allow_list,
                                    AccessLevel& out) const {
  const std::string_view expected =
      allow_list ? "read, write, list or deny" : "read, write or deny";
  if (!value.is_string()) {
    return fail(value.position, fmt::format("{} must be a string ({}), found {}", what, expected,
                                            a_kind(value.kind)));
  }
  const std::string lower = core::to_lower(value.text);
  for (AccessLevel level :
       {AccessLevel::kRead, AccessLevel::kList, AccessLevel::kWrite, AccessLevel::kDeny}) {
    if (lower != access_level_name(level)) continue;
    if (level == AccessLevel::kList && !allow_list) {
      return fail(value.position,
                  fmt::format("{}: \"list\" is valid only for key and key_prefix rules; "
                              "expected {}",
                              what, expected));
    }
    out = level;
    return core::ok();
  }
  return fail(value.position, fmt::format("invalid access level {} for {}; expected {}",
                                          core::go_quote(value.text), what, expected));
}

}  // namespace

core::Result<PolicyRules> parse_rules(std::string_view text) {
  auto tree = core::hcl::parse(text);
  if (!tree) return tree.error().with_context("Failed to parse ACL rules");
  Decoder decoder;
  if (core::Status status = decoder.decode(*tree); !status) return status.error();
  return decoder.take();
}

}  // namespace pc::acl
