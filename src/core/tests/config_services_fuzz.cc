// Fuzz target for the service and check definitions of configuration files (bytes from disk,
// core/detail/config_services.h): whatever the document, reading its definitions gives
// definitions whose bodies are JSON objects, or an error that names the file; it never
// crashes. The same bytes read the same way twice.
#include <boost/json.hpp>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/detail/config_services.h"
#include "core/hcl.h"

namespace {

using pc::core::ConfigDefinition;

bool read(const pc::core::hcl::Value& doc, std::vector<ConfigDefinition>& services,
          std::vector<ConfigDefinition>& checks) {
  auto st = pc::core::detail::read_config_definitions(doc, "fuzz.hcl", services, checks);
  if (!st && st.error().message.rfind("Error parsing fuzz.hcl: ", 0) != 0) std::abort();
  return st.has_value();
}

void check_bodies(const std::vector<ConfigDefinition>& defs) {
  for (const ConfigDefinition& d : defs) {
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(d.body, ec);
    if (ec || !v.is_object()) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (auto parsed : {pc::core::hcl::parse(text), pc::core::hcl::parse_json(text)}) {
    if (!parsed) continue;
    std::vector<ConfigDefinition> services, checks, services2, checks2;
    bool first = read(*parsed, services, checks);
    bool second = read(*parsed, services2, checks2);
    if (first != second || services != services2 || checks != checks2) std::abort();
    check_bodies(services);
    check_bodies(checks);
  }
  return 0;
}
