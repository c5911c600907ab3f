#include "endpoints/acl_agent.h"

#include "endpoints/acl_checks.h"

namespace pc::endpoints {
namespace {

constexpr auto kWrite = acl::AccessLevel::kWrite;
constexpr auto kRead = acl::AccessLevel::kRead;

// service:write on the service a check belongs to, or node:write for a node check. A check
// naming a service this agent does not hold is the agent's error to answer.
core::Status check_write(const ResolvedToken& who, const agent::LocalState& local,
                         std::string_view node, const std::string& service_id) {
  if (service_id.empty()) return require_rule(who, acl::Resource::kNode, node, kWrite);
  auto s = local.service(service_id);
  if (!s) return core::ok();
  return require_rule(who, acl::Resource::kService, s->service, kWrite);
}

}  // namespace

core::Status check_agent_service_register(const ResolvedToken& who,
                                          const agent::ServiceRegistration& reg) {
  return require_rule(who, acl::Resource::kService, reg.service.service, kWrite);
}

core::Status check_agent_service_update(const ResolvedToken& who, const agent::LocalState& local,
                                        std::string_view service_id) {
  auto s = local.service(service_id);
  if (!s) return core::ok();
  return require_rule(who, acl::Resource::kService, s->service, kWrite);
}

core::Status check_agent_check_register(const ResolvedToken& who, const agent::LocalState& local,
                                        std::string_view node,
                                        const agent::CheckRegistration& reg) {
  return check_write(who, local, node, reg.check.service_id);
}

core::Status check_agent_check_update(const ResolvedToken& who, const agent::LocalState& local,
                                      std::string_view node, std::string_view check_id) {
  auto c = local.check(check_id);
  if (!c) return core::ok();
  if (c->check.service_id.empty()) return require_rule(who, acl::Resource::kNode, node, kWrite);
  // The check carries its service's name, so a service removed meanwhile is still named.
  return require_rule(who, acl::Resource::kService, c->check.service_name, kWrite);
}

bool filter_agent_services(const ResolvedToken& who, std::vector<state::Service>& services) {
  const std::size_t before = services.size();
  std::erase_if(services, [&](const state::Service& s) {
    return !acl::allowed(who.authz->service_read(s.service));
  });
  return services.size() != before;
}

bool filter_agent_checks(const ResolvedToken& who, std::vector<agent::LocalCheck>& checks) {
  const std::size_t before = checks.size();
  std::erase_if(checks, [&](const agent::LocalCheck& c) {
    const auto& hc = c.check;
    if (hc.service_id.empty()) return !acl::allowed(who.authz->node_read(hc.node));
    return !acl::allowed(who.authz->service_read(hc.service_name));
  });
  return checks.size() != before;
}

}  // namespace pc::endpoints
