#include "endpoints/keyring.h"

namespace pc::endpoints {

std::string keyring_errors(const std::vector<KeyringPoolResult>& results) {
  std::vector<std::string> errors;
  for (const KeyringPoolResult& r : results) {
    if (r.error.empty()) continue;
    std::string pool = r.wan ? "WAN" : r.datacenter + " (LAN)";
    if (!r.segment.empty()) pool += " [segment: " + r.segment + "]";
    errors.push_back(pool + " error: " + r.error);
    for (const auto& [node, message] : r.messages) errors.push_back(node + ": " + message);
  }
  if (errors.empty()) return {};
  std::string out = errors.size() == 1 ? "1 error occurred:\n"
                                       : std::to_string(errors.size()) + " errors occurred:\n";
  for (const std::string& e : errors) out += "\t* " + e + "\n";
  return out + "\n";
}

}  // namespace pc::endpoints
