// `proconsul tls`, `proconsul tls ca` and `proconsul tls cert`: only the help for their
// subcommands, as Consul's command/tls, command/tls/ca and command/tls/cert.
#include "cli/commands/commands.h"

namespace pc::cli {
namespace {

constexpr std::string_view kTlsHelp = R"(Usage: proconsul tls <subcommand> <subcommand> [options]

  This command has subcommands for creating the CA and the certificates that
  agents use for TLS.

  Create a CA

    $ proconsul tls ca create

  Create a server certificate

    $ proconsul tls cert create -server

  Create a client certificate

    $ proconsul tls cert create -client

  Each subcommand's help has more examples; see also docs/cli.md.)";

constexpr std::string_view kCaHelp = R"(Usage: proconsul tls ca <subcommand> [options]

  This command has subcommands for creating certificate authorities.

  Create a CA

    $ proconsul tls ca create
    ==> Saved consul-agent-ca.pem
    ==> Saved consul-agent-ca-key.pem)";

constexpr std::string_view kCertHelp = R"(Usage: proconsul tls cert <subcommand> [options]

  This command has subcommands for creating certificates.

  Create a server certificate

    $ proconsul tls cert create -server
    ==> Saved dc1-server-consul-0.pem
    ==> Saved dc1-server-consul-0-key.pem

  Create a server certificate signed by another CA

    $ proconsul tls cert create -server -ca my-ca.pem -key my-ca-key.pem
    ==> Saved dc1-server-consul-0.pem
    ==> Saved dc1-server-consul-0-key.pem)";

class HelpOnlyCommand final : public Command {
 public:
  HelpOnlyCommand(std::string_view synopsis, std::string_view help)
      : synopsis_(synopsis), help_(help) {}
  std::string synopsis() const override { return std::string(synopsis_); }
  std::string help() const override { return std::string(help_); }
  int run(const std::vector<std::string>&, Context&) override { return kRunResultHelp; }

 private:
  std::string_view synopsis_;
  std::string_view help_;
};

}  // namespace

std::unique_ptr<Command> make_tls_command() {
  return std::make_unique<HelpOnlyCommand>("Builtin helpers for creating CAs and certificates",
                                           kTlsHelp);
}

std::unique_ptr<Command> make_tls_ca_command() {
  return std::make_unique<HelpOnlyCommand>("Helpers for CAs", kCaHelp);
}

std::unique_ptr<Command> make_tls_cert_command() {
  return std::make_unique<HelpOnlyCommand>("Helpers for certificates", kCertHelp);
}

}  // namespace pc::cli
