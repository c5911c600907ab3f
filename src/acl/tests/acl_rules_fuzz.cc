// Fuzz target: arbitrary bytes as a policy's Rules. Parsing gives PolicyRules or an
// InvalidArgument/TooLarge error with a message; compiled rules answer every kind of check
// without crashing, and the same question gets the same answer twice.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "acl/authorizer.h"
#include "acl/rules.h"

namespace {

void ask(const pc::acl::Authorizer& a, std::string_view name) {
  const pc::acl::Decision first = a.key_read(name);
  if (a.key_read(name) != first) std::abort();
  (void)a.key_list(name);
  (void)a.key_write(name);
  (void)a.key_write_prefix(name);
  (void)a.service_write(name);
  (void)a.intention_read(name);
  (void)a.node_read(name);
  (void)a.session_write(name);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto rules = pc::acl::parse_rules(text);
  if (!rules) {
    const auto code = rules.error().code;
    if (code != pc::core::Code::kInvalidArgument && code != pc::core::Code::kTooLarge) {
      std::abort();
    }
    if (rules.error().message.empty()) std::abort();
    return 0;
  }
  const pc::acl::PolicyRules* list[] = {&*rules, &*rules};
  const pc::acl::AuthorizerPtr authz = pc::acl::compile_policies(list);
  for (std::string_view name : {"", "a", "app/", "app/secret/x", "web", "web-sidecar-proxy"}) {
    ask(*authz, name);
  }
  // Names from the rules themselves reach the exact-match paths.
  for (const auto& named : rules->named) {
    for (const auto& rule : named) ask(*authz, rule.name);
  }
  (void)authz->service_write_any();
  (void)authz->service_read_all();
  (void)authz->node_read_all();
  (void)authz->intention_write("*");
  (void)authz->acl_write();
  (void)authz->mesh_read();
  return 0;
}
