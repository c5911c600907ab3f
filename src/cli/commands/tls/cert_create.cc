// `proconsul tls cert create`, as Consul's command/tls/cert/create: a server, client or cli
// certificate and its key, signed by the agent CA, in <dc>-<kind>-<domain>-<n>.pem and
// <dc>-<kind>-<domain>-<n>-key.pem with the first n whose files both do not exist.
#include <ostream>

#include "cli/commands/commands.h"
#include "cli/commands/tls/tls_files.h"
#include "cli/tls/agent_certs.h"
#include "core/flags.h"

namespace pc::cli {
namespace {

constexpr std::string_view kHelp = R"(
Usage: proconsul tls cert create [options]

  Create a new certificate

  $ proconsul tls cert create -server
  ==> WARNING: Server Certificates grants authority to become a
      server and access all state in the cluster including root keys
      and all ACL tokens. Do not distribute them to production hosts
      that are not server nodes. Store them as securely as CA keys.
  ==> Using consul-agent-ca.pem and consul-agent-ca-key.pem
  ==> Saved dc1-server-consul-0.pem
  ==> Saved dc1-server-consul-0-key.pem
  $ proconsul tls cert create -client
  ==> Using consul-agent-ca.pem and consul-agent-ca-key.pem
  ==> Saved dc1-client-consul-0.pem
  ==> Saved dc1-client-consul-0-key.pem
)";

constexpr std::string_view kServerWarning =
    R"(==> WARNING: Server Certificates grants authority to become a
    server and access all state in the cluster including root keys
    and all ACL tokens. Do not distribute them to production hosts
    that are not server nodes. Store them as securely as CA keys.)";

// Consul's placeholder in the -ca and -key defaults, replaced by -domain.
constexpr std::string_view kDomainPlaceholder = "#DOMAIN#";
// Consul gives up after this many numbered files.
constexpr int kFileNumberMax = 10000;

std::string replace_first(std::string text, std::string_view from, std::string_view to) {
  std::size_t at = text.find(from);
  if (at != std::string::npos) text.replace(at, from.size(), to);
  return text;
}

// Go's strings.TrimSpace, for the ASCII spaces a flag value may carry.
std::string trim_space(std::string_view text) {
  constexpr std::string_view kSpace = " \t\n\v\f\r";
  std::size_t begin = text.find_first_not_of(kSpace);
  if (begin == std::string_view::npos) return {};
  std::size_t end = text.find_last_not_of(kSpace);
  return std::string(text.substr(begin, end - begin + 1));
}

// What a kind of certificate holds, before the files are named.
struct Plan {
  tls::CertOptions options;
  std::string prefix;  // <dc>-<kind>-<domain>
};

class TlsCertCreateCommand final : public Command {
 public:
  TlsCertCreateCommand() {
    flags_.add_strings("additional-dnsname", &dns_names_,
                       "An additional DNS name for the Subject Alternative Names. localhost "
                       "is always included. May be given more than once.");
    flags_.add_strings("additional-ipaddress", &ip_addresses_,
                       "An additional IP address for the Subject Alternative Names. 127.0.0.1 "
                       "is always included. May be given more than once.");
    flags_.add_string("ca", &ca_, "Path to the CA. Defaults to #DOMAIN#-agent-ca.pem.");
    flags_.add_bool("cli", &cli_, "Generate a cli certificate.");
    flags_.add_bool("client", &client_, "Generate a client certificate.");
    flags_.add_int("days", &days_,
                   "Number of days the certificate is valid for from now on. Defaults to 1 "
                   "year.");
    flags_.add_string("dc", &dc_, "The datacenter. Defaults to dc1.");
    flags_.add_string("domain", &domain_, "The DNS domain of the cluster. Defaults to consul.");
    flags_.add_string("key", &key_, "Path to the CA's key. Defaults to #DOMAIN#-agent-ca-key.pem.");
    flags_.add_string("node", &node_,
                      "With -server, adds the DNS name <node>.server.<datacenter>.<domain>.");
    flags_.add_bool("server", &server_, "Generate a server certificate.");
  }

  std::string synopsis() const override { return "Create a new certificate"; }
  std::string help() const override { return flags_.help(kHelp); }

  int run(const std::vector<std::string>& args, Context& ctx) override {
    std::vector<std::string> positional;  // ignored, as Consul ignores them
    if (auto code = parse_command_flags(flags_, args, help(), ctx, positional)) return *code;
    if (ca_.empty()) return fail(ctx, "Please provide the ca");
    if (key_.empty()) return fail(ctx, "Please provide the key");
    if (int(server_) + int(client_) + int(cli_) != 1) {
      return fail(ctx, "Please provide either -server, -client, or -cli");
    }
    if (!node_.empty() && !server_) return fail(ctx, "-node requires -server");

    Plan plan = make_plan();
    std::string cert_file;
    std::string key_file;
    for (int i = 0; i <= kFileNumberMax && cert_file.empty(); ++i) {
      std::string base = plan.prefix + "-" + std::to_string(i);
      if (file_does_not_exist(base + ".pem") && file_does_not_exist(base + "-key.pem")) {
        cert_file = base + ".pem";
        key_file = base + "-key.pem";
      }
    }
    if (cert_file.empty()) return fail(ctx, "Could not find a filename that doesn't already exist");

    const std::string ca_file = replace_first(ca_, kDomainPlaceholder, domain_);
    const std::string ca_key_file = replace_first(key_, kDomainPlaceholder, domain_);
    core::Result<std::string> ca = read_whole_file(ca_file);
    if (!ca) return fail(ctx, "Error reading CA: " + ca.error().message);
    core::Result<std::string> ca_key = read_whole_file(ca_key_file);
    if (!ca_key) return fail(ctx, "Error reading CA key: " + ca_key.error().message);

    if (server_) *ctx.out << kServerWarning << "\n";
    *ctx.out << "==> Using " << ca_file << " and " << ca_key_file << "\n";

    core::Result<tls::PemPair> cert = tls::generate_cert(plan.options, *ca, *ca_key);
    if (!cert) return fail(ctx, cert.error().message);
    // Consul checks every new certificate against its CA and its own name before saving.
    if (core::Status s = tls::verify_cert(*ca, cert->certificate, plan.options.common_name); !s) {
      return fail(ctx, s.error().message);
    }
    if (core::Status s = write_file_atomic(cert_file, cert->certificate, 0666); !s) {
      return fail(ctx, s.error().message);
    }
    *ctx.out << "==> Saved " << cert_file << "\n";
    if (core::Status s = write_file_atomic(key_file, cert->private_key, 0600); !s) {
      return fail(ctx, s.error().message);
    }
    *ctx.out << "==> Saved " << key_file << "\n";
    return 0;
  }

 private:
  static int fail(Context& ctx, std::string_view message) {
    *ctx.err << message << "\n";
    return 1;
  }

  // Consul's names and usages per kind. Additional names come first; a cli certificate
  // keeps the additional IP addresses but not the additional DNS names, as Consul's does.
  Plan make_plan() const {
    Plan plan;
    tls::CertOptions& o = plan.options;
    o.days = days_;
    for (const std::string& d : dns_names_) {
      if (!d.empty()) o.dns_names.push_back(trim_space(d));
    }
    for (const std::string& ip : ip_addresses_) {
      if (!ip.empty()) o.ip_addresses.push_back(trim_space(ip));
    }
    const std::string dc_domain = dc_ + "." + domain_;
    if (server_) {
      o.common_name = "server." + dc_domain;
      if (!node_.empty()) o.dns_names.push_back(node_ + ".server." + dc_domain);
      o.dns_names.push_back(o.common_name);
      o.dns_names.push_back("localhost");
      o.ip_addresses.push_back("127.0.0.1");
      o.ext_key_usages = {tls::ExtKeyUsage::kServerAuth, tls::ExtKeyUsage::kClientAuth};
      plan.prefix = dc_ + "-server-" + domain_;
    } else if (client_) {
      o.common_name = "client." + dc_domain;
      o.dns_names.push_back(o.common_name);
      o.dns_names.push_back("localhost");
      o.ip_addresses.push_back("127.0.0.1");
      o.ext_key_usages = {tls::ExtKeyUsage::kClientAuth, tls::ExtKeyUsage::kServerAuth};
      plan.prefix = dc_ + "-client-" + domain_;
    } else {
      o.common_name = "cli." + dc_domain;
      o.dns_names = {o.common_name, "localhost"};
      plan.prefix = dc_ + "-cli-" + domain_;
    }
    return plan;
  }

  core::FlagSet flags_;
  std::vector<std::string> dns_names_;
  std::vector<std::string> ip_addresses_;
  std::string ca_ = "#DOMAIN#-agent-ca.pem";
  bool cli_ = false;
  bool client_ = false;
  int days_ = 365;
  std::string dc_ = "dc1";
  std::string domain_ = "consul";
  std::string key_ = "#DOMAIN#-agent-ca-key.pem";
  std::string node_;
  bool server_ = false;
};

}  // namespace

std::unique_ptr<Command> make_tls_cert_create_command() {
  return std::make_unique<TlsCertCreateCommand>();
}

}  // namespace pc::cli
