#pragma once
// The shape every `proconsul acl ...` command shares: Consul's HTTP flags, one request, the
// answer printed with Consul's formatter (or a confirmation line).
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "cli/api.h"
#include "cli/commands/acl/format.h"
#include "cli/commands/helpers.h"
#include "core/flags.h"

namespace pc::cli::acl_cli {

struct Request {
  std::string method;
  std::string path;
  std::string body;  // JSON, or empty
};

// `build` turns the parsed flags into a request, or prints why not and returns nullopt;
// `format` prints a 200 answer (nullptr: print `done_message`, with %s the -id value).
class AclCommand : public Command {
 public:
  AclCommand(std::string synopsis, std::string help, std::string error_prefix)
      : synopsis_(std::move(synopsis)),
        help_(std::move(help)),
        error_prefix_(std::move(error_prefix)) {
    http_.add_client_flags(flags_);
  }

  std::string synopsis() const override { return synopsis_; }
  std::string help() const override { return flags_.help(help_); }
  int run(const std::vector<std::string>& args, Context& ctx) override;

 protected:
  virtual std::optional<Request> build(Context& ctx) = 0;
  virtual int print(Context& ctx, const std::string& body) = 0;
  // For a prefix that names what `build` found (Consul's "Failed to update token <id>: ").
  void set_error_prefix(std::string prefix) { error_prefix_ = std::move(prefix); }

  core::FlagSet flags_;
  HttpFlags http_;

 private:
  std::string synopsis_;
  std::string help_;
  std::string error_prefix_;
};

}  // namespace pc::cli::acl_cli
