// `proconsul tls ca create`, as Consul's command/tls/ca/create: a new agent CA in
// <domain>-agent-ca.pem and its key in <domain>-agent-ca-key.pem (mode 0600), in the working
// directory, never over an existing file.
#include <algorithm>
#include <cctype>
#include <ostream>

#include "cli/commands/commands.h"
#include "cli/commands/tls/tls_files.h"
#include "cli/tls/agent_certs.h"
#include "core/flags.h"

namespace pc::cli {
namespace {

constexpr std::string_view kHelp = R"(
Usage: proconsul tls ca create [options]

  Create a new CA for agent TLS:

  $ proconsul tls ca create
  ==> Saved consul-agent-ca.pem
  ==> Saved consul-agent-ca-key.pem
)";

class TlsCaCreateCommand final : public Command {
 public:
  TlsCaCreateCommand() {
    flags_.add_strings("additional-name-constraint", &additional_constraints_,
                       "Adds a DNS name to the CA's name constraints. May be given more than "
                       "once. Only used with -name-constraint.");
    flags_.add_string("cluster-id", &cluster_id_,
                      "ID of the cluster. Gives the CA the URI spiffe://<cluster-id>.<domain>.");
    flags_.add_string("common-name", &common_name_,
                      "Common Name of the CA. Defaults to \"Consul Agent CA <serial number>\".");
    flags_.add_int("days", &days_,
                   "Number of days the CA is valid for. Defaults to 1825 (about 5 years).");
    flags_.add_string("domain", &domain_,
                      "The DNS domain of the cluster, as agents are configured with it. Names "
                      "the files. Defaults to consul.");
    flags_.add_bool("name-constraint", &constraint_,
                    "Adds X.509 name constraints to the CA: it then signs certificates only "
                    "for localhost, -domain and each -additional-name-constraint. A UI served "
                    "over HTTPS needs its DNS name added with -additional-name-constraint. "
                    "Defaults to false.");
  }

  std::string synopsis() const override { return "Create a new consul CA"; }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> positional;  // ignored, as Consul ignores them
    if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;
    const std::string cert_file = domain_ + "-agent-ca.pem";
    const std::string key_file = domain_ + "-agent-ca-key.pem";
    for (const std::string& file : {cert_file, key_file}) {
      if (!file_does_not_exist(file)) {
        *ctx.err << file << " already exists.\n";
        return 1;
      }
    }
    tls::CaOptions options;
    options.common_name = common_name_;
    options.days = days_;
    if (constraint_) {
      options.permitted_dns_domains = additional_constraints_;
      options.permitted_dns_domains.push_back(domain_);
      options.permitted_dns_domains.push_back("localhost");
    }
    if (!cluster_id_.empty()) {
      // Consul's connect.SpiffeIDSigning: the host is lower-cased.
      std::string host = cluster_id_ + "." + domain_;
      std::transform(host.begin(), host.end(), host.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      options.uri = "spiffe://" + host;
    }
    core::Result<tls::PemPair> ca = tls::generate_ca(options);
    if (!ca) {
      *ctx.err << ca.error().message << "\n";
      return 1;
    }
    // The certificate may be world-readable; the key only by its owner.
    if (core::Status s = write_file_atomic(cert_file, ca->certificate, 0666); !s) {
      *ctx.err << s.error().message << "\n";
      return 1;
    }
    *ctx.out << "==> Saved " << cert_file << "\n";
    if (core::Status s = write_file_atomic(key_file, ca->private_key, 0600); !s) {
      *ctx.err << s.error().message << "\n";
      return 1;
    }
    *ctx.out << "==> Saved " << key_file << "\n";
    return 0;
  }

 private:
  core::FlagSet flags_;
  std::vector<std::string> additional_constraints_;
  std::string cluster_id_;
  std::string common_name_;
  int days_ = 1825;
  std::string domain_ = "consul";
  bool constraint_ = false;
};

}  // namespace

std::unique_ptr<Command> make_tls_ca_create_command() {
  return std::make_unique<TlsCaCreateCommand>();
}

}  // namespace pc::cli
