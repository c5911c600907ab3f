#include "daemon/config_services.h"

#include <set>

#include "core/log.h"
#include "core/strings.h"
#include "http/handlers/agent_definition.h"
#include "http/json/read.h"

namespace pc::daemon {
namespace {

constexpr std::string_view kModule = "agent";

std::string where(const core::ConfigDefinition& def) {
  return "Error parsing " + def.file + ": At " + std::to_string(def.line) + ":" +
         std::to_string(def.column) + ": ";
}

// The API decoder's message without its request-body prefix, which means nothing here.
std::string reason(const core::Error& e) {
  std::string prefix = std::string(http::kRequestDecodeFailed) + ": ";
  return e.message.starts_with(prefix) ? e.message.substr(prefix.size()) : e.message;
}

core::Error refused(const std::string& where, std::string_view what, const std::string& name,
                    const core::Error& e) {
  std::string label(what);
  if (!name.empty()) label += " " + core::go_quote(name);
  return core::make_error(core::Code::kInvalidArgument, where + label + ": " + reason(e));
}

std::string fingerprint(const core::ConfigDefinition& def, const std::string& token) {
  return def.body + '\n' + token;
}

// Removals of what is already gone are not errors: the API may have removed it.
void remove_quietly(core::Status st, std::string_view what, const std::string& id) {
  if (!st && st.error().code != core::Code::kNotFound) {
    core::log::warn(kModule, "removing {} {} defined in a config file: {}", what,
                    core::go_quote(id), st.error().message);
  }
}

}  // namespace

core::Result<ConfigRegistrations> decode_config_definitions(const core::AgentConfig& config,
                                                            const std::string& fallback_token) {
  ConfigRegistrations out;
  for (const core::ConfigDefinition& def : config.service_definitions) {
    auto reg = http::handlers::parse_service_definition(def.body);
    if (!reg) return refused(where(def), "service", "", reg.error());
    reg->token = def.token.empty() ? fallback_token : def.token;
    reg->from_config_file = true;
    reg->persist = false;  // re-read from the files at every start, never kept in data_dir
    reg->replace_existing_checks = true;  // a check taken out of the file goes away
    for (agent::CheckRegistration& c : reg->checks) {
      c.from_config_file = true;
      c.persist = false;
    }
    if (reg->service.id.empty()) reg->service.id = reg->service.service;
    std::string print = fingerprint(def, reg->token);
    out.services.push_back({std::move(*reg), std::move(print), where(def)});
  }
  for (const core::ConfigDefinition& def : config.check_definitions) {
    auto reg = http::handlers::parse_check_definition(def.body);
    if (!reg) return refused(where(def), "check", "", reg.error());
    reg->from_config_file = true;
    reg->persist = false;
    if (reg->check.check_id.empty()) reg->check.check_id = reg->check.name;
    // A check's token is Consul's per-check token; checks here act for their service's or
    // the agent's, so it only tells a changed definition apart.
    std::string token = def.token.empty() ? fallback_token : def.token;
    std::string print = fingerprint(def, token);
    out.checks.push_back({std::move(*reg), std::move(print), where(def)});
  }
  return out;
}

core::Status ConfigServices::validate(const ConfigRegistrations& next) const {
  std::set<std::string> services;
  for (const auto& s : next.services) {
    const std::string& id = s.reg.service.id;
    if (!services.insert(id).second) {
      return core::make_error(
          core::Code::kInvalidArgument,
          s.where + "service ID " + core::go_quote(id) + " is defined more than once");
    }
    if (auto st = agent_.validate(s.reg); !st) {
      return refused(s.where, "service", s.reg.service.service, st.error());
    }
  }
  std::set<std::string> checks;
  for (const auto& c : next.checks) {
    const std::string& id = c.reg.check.check_id;
    if (!checks.insert(id).second) {
      return core::make_error(
          core::Code::kInvalidArgument,
          c.where + "check ID " + core::go_quote(id) + " is defined more than once");
    }
    if (auto st = agent_.validate(c.reg); !st) {
      return refused(c.where, "check", c.reg.check.name, st.error());
    }
    const std::string& service = c.reg.check.service_id;
    bool removed = services_.contains(service) && !services.contains(service);
    if (!service.empty() && !services.contains(service) &&
        (removed || !agent_.local().service(service))) {
      return core::make_error(core::Code::kInvalidArgument,
                              c.where + "check " + core::go_quote(c.reg.check.name) +
                                  ": ServiceID " + core::go_quote(service) + " does not exist");
    }
  }
  return core::ok();
}

core::Status ConfigServices::apply(ConfigRegistrations next) {
  std::lock_guard lock(mu_);
  if (auto st = validate(next); !st) return st;

  std::map<std::string, std::string> services, checks;
  for (const auto& s : next.services) services[s.reg.service.id] = s.fingerprint;
  for (const auto& c : next.checks) checks[c.reg.check.check_id] = c.fingerprint;
  for (const auto& [id, print] : services_) {
    if (!services.contains(id)) remove_quietly(agent_.remove_service(id), "service", id);
  }
  for (const auto& [id, print] : checks_) {
    if (!checks.contains(id)) remove_quietly(agent_.remove_check(id), "check", id);
  }

  // A service registered again drops the checks its definition does not list, so the
  // file's checks attached to it are registered again too.
  std::set<std::string> changed_services;
  core::Status result = core::ok();
  for (auto& s : next.services) {
    const std::string id = s.reg.service.id;
    auto old = services_.find(id);
    if (old != services_.end() && old->second == s.fingerprint && agent_.local().service(id)) {
      continue;
    }
    changed_services.insert(id);
    if (auto st = agent_.add_service(std::move(s.reg)); !st) {
      result = refused(s.where, "service", id, st.error());
      services.erase(id);
    }
  }
  for (auto& c : next.checks) {
    const std::string id = c.reg.check.check_id;
    auto old = checks_.find(id);
    if (old != checks_.end() && old->second == c.fingerprint && agent_.local().check(id) &&
        !changed_services.contains(c.reg.check.service_id)) {
      continue;
    }
    if (auto st = agent_.add_check(std::move(c.reg)); !st) {
      result = refused(c.where, "check", id, st.error());
      checks.erase(id);
    }
  }
  services_ = std::move(services);
  checks_ = std::move(checks);
  return result;
}

std::vector<std::string> ConfigServices::service_ids() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [id, print] : services_) out.push_back(id);
  return out;
}

std::vector<std::string> ConfigServices::check_ids() const {
  std::lock_guard lock(mu_);
  std::vector<std::string> out;
  for (const auto& [id, print] : checks_) out.push_back(id);
  return out;
}

}  // namespace pc::daemon
