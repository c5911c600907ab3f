#include "cli/api.h"

#include "core/flags.h"

namespace pc::cli {
namespace {

constexpr std::string_view kDefaultHttpAddr = "127.0.0.1:8500";

std::optional<std::string> first_env(const Context& ctx, std::string_view a, std::string_view b) {
  if (!ctx.getenv) return std::nullopt;
  for (std::string_view name : {a, b}) {
    std::optional<std::string> v = ctx.getenv(name);
    if (v && !v->empty()) return v;
  }
  return std::nullopt;
}

}  // namespace

void HttpFlags::add_client_flags(core::FlagSet& flags) {
  flags.begin_group("HTTP API Options");
  flags.add_string("http-addr", &addr_,
                   "The `address` and port of the Proconsul HTTP agent. The value can be an "
                   "IP address or DNS address, but it must also include the port. This can "
                   "also be specified via the PROCONSUL_HTTP_ADDR or CONSUL_HTTP_ADDR "
                   "environment variable. The default value is http://127.0.0.1:8500.");
  flags.add_string("ca-file", &ca_file_,
                   "Path to a CA file to use for TLS when communicating with the agent. This "
                   "can also be specified via the CONSUL_CACERT environment variable.");
  flags.add_string("ca-path", &ca_path_,
                   "Path to a directory of CA certificates to use for TLS when communicating "
                   "with the agent. This can also be specified via the CONSUL_CAPATH "
                   "environment variable.");
  flags.add_string("client-cert", &client_cert_,
                   "Path to a client cert file to use for TLS when 'verify_incoming' is "
                   "enabled. This can also be specified via the CONSUL_CLIENT_CERT environment "
                   "variable.");
  flags.add_string("client-key", &client_key_,
                   "Path to a client key file to use for TLS when 'verify_incoming' is "
                   "enabled. This can also be specified via the CONSUL_CLIENT_KEY environment "
                   "variable.");
  flags.add_string("tls-server-name", &tls_server_name_,
                   "The server name to use as the SNI host when connecting via TLS. This can "
                   "also be specified via the CONSUL_TLS_SERVER_NAME environment variable.");
  flags.add_string("token", &token_,
                   "ACL token to use in the request. This can also be specified via the "
                   "PROCONSUL_HTTP_TOKEN or CONSUL_HTTP_TOKEN environment variable. If "
                   "unspecified, the query will default to the token of the agent at the HTTP "
                   "address.");
  flags.begin_group("Command Options");
}

void HttpFlags::add_server_flags(core::FlagSet& flags) {
  flags.begin_group("HTTP API Options");
  flags.add_string("datacenter", &datacenter_,
                   "Name of the datacenter to query. If unspecified, this will default to the "
                   "datacenter of the queried agent.");
  flags.add_bool("stale", &stale_,
                 "Permit any server (non-leader) to respond to this request. This allows for "
                 "lower latency and higher throughput, but can result in stale data. This "
                 "option has no effect on non-read operations. The default value is false.");
  flags.begin_group("Command Options");
}

core::Result<HttpTarget> HttpFlags::target(const Context& ctx) const {
  std::string addr = addr_;
  if (addr.empty()) {
    addr = first_env(ctx, "PROCONSUL_HTTP_ADDR", "CONSUL_HTTP_ADDR")
               .value_or(std::string(kDefaultHttpAddr));
  }
  core::Result<HttpTarget> target = parse_http_addr(addr);
  if (!target) return target;
  // Consul's api.Config: CONSUL_HTTP_SSL=true turns a bare address into HTTPS, and
  // CONSUL_HTTP_SSL_VERIFY=false skips the certificate check; the flags win over the
  // environment for the files.
  auto env = [&ctx](std::string_view name) -> std::string {
    if (!ctx.getenv) return "";
    return ctx.getenv(name).value_or("");
  };
  auto truthy = [](const std::string& v) { return v == "1" || v == "true" || v == "TRUE"; };
  auto falsy = [](const std::string& v) { return v == "0" || v == "false" || v == "FALSE"; };
  if (truthy(env("CONSUL_HTTP_SSL")) && !target->tls) target->tls = true;
  if (falsy(env("CONSUL_HTTP_SSL_VERIFY"))) target->tls_skip_verify = true;
  auto pick = [&env](const std::string& flag, std::string_view name) {
    return flag.empty() ? env(name) : flag;
  };
  target->ca_file = pick(ca_file_, "CONSUL_CACERT");
  target->ca_path = pick(ca_path_, "CONSUL_CAPATH");
  target->client_cert = pick(client_cert_, "CONSUL_CLIENT_CERT");
  target->client_key = pick(client_key_, "CONSUL_CLIENT_KEY");
  target->tls_server_name = pick(tls_server_name_, "CONSUL_TLS_SERVER_NAME");
  return target;
}

std::string HttpFlags::token(const Context& ctx) const {
  if (!token_.empty()) return token_;
  return first_env(ctx, "PROCONSUL_HTTP_TOKEN", "CONSUL_HTTP_TOKEN").value_or("");
}

core::Result<HttpResponse> call_agent(Context& ctx, const HttpFlags& flags, CallKind kind,
                                      std::string_view method, std::string_view path,
                                      QueryParams params, std::string_view body, Headers headers) {
  core::Result<HttpTarget> target = flags.target(ctx);
  if (!target) return target.error();
  if (!flags.datacenter().empty()) params.emplace_back("dc", flags.datacenter());
  if (kind == CallKind::kRead && flags.stale()) params.emplace_back("stale", "");
  std::string token = flags.token(ctx);
  if (!token.empty()) headers.emplace_back("X-Consul-Token", token);
  return ctx.http(*target, method, std::string(path) + encode_query(std::move(params)), body,
                  headers);
}

std::string unexpected_status(const HttpResponse& response) {
  std::string body = response.body;
  while (!body.empty() && (body.back() == '\n' || body.back() == ' ' || body.back() == '\r')) {
    body.pop_back();
  }
  return "Unexpected response code: " + std::to_string(response.status) + " (" + body + ")";
}

}  // namespace pc::cli
