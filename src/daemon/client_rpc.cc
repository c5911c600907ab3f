#include "daemon/client_rpc.h"

#include "daemon/dns_options.h"

#include "proto/client.pb.h"
#include "proto/commands.pb.h"
#include "state/row_proto.h"

namespace pc::daemon {
namespace {

core::Error invalid(std::string what) {
  return core::make_error(core::Code::kInvalidArgument, std::move(what));
}

template <typename Pairs>
void put_pairs(const std::vector<std::pair<std::string, std::string>>& in, Pairs* out) {
  for (const auto& [name, value] : in) {
    auto* p = out->Add();
    p->set_name(name);
    p->set_value(value);
  }
}

template <typename Pairs>
std::vector<std::pair<std::string, std::string>> take_pairs(Pairs* in) {
  std::vector<std::pair<std::string, std::string>> out;
  out.reserve(static_cast<std::size_t>(in->size()));
  for (auto& p : *in) out.emplace_back(std::move(*p.mutable_name()), std::move(*p.mutable_value()));
  return out;
}

}  // namespace

std::string encode_http_request(const http::Request& request) {
  proto::client::HttpRequest m;
  m.set_method(request.method);
  m.set_path(request.path);
  m.set_raw_query(request.raw_query);
  put_pairs(request.headers, m.mutable_headers());
  m.set_body(request.body);
  m.set_remote_addr(request.remote_addr);
  put_pairs(request.query, m.mutable_query());
  return m.SerializeAsString();
}

core::Result<http::Request> decode_http_request(std::string_view bytes) {
  proto::client::HttpRequest m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return invalid("forwarded HTTP request does not parse");
  }
  if (m.method().empty() || m.path().empty() || m.path()[0] != '/') {
    return invalid("forwarded HTTP request without a method or an absolute path");
  }
  http::Request r;
  r.method = std::move(*m.mutable_method());
  r.path = std::move(*m.mutable_path());
  r.raw_query = std::move(*m.mutable_raw_query());
  r.headers = take_pairs(m.mutable_headers());
  r.body = std::move(*m.mutable_body());
  r.remote_addr = std::move(*m.mutable_remote_addr());
  r.query = take_pairs(m.mutable_query());
  return r;
}

std::string encode_http_response(const http::Response& response) {
  proto::client::HttpResponse m;
  m.set_status(response.status);
  m.set_content_type(response.content_type);
  put_pairs(response.headers, m.mutable_headers());
  m.set_body(response.body);
  return m.SerializeAsString();
}

core::Result<http::Response> decode_http_response(std::string_view bytes) {
  proto::client::HttpResponse m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return invalid("forwarded HTTP response does not parse");
  }
  if (m.status() < 100 || m.status() > 599) {
    return invalid("forwarded HTTP response with status " + std::to_string(m.status()));
  }
  http::Response r;
  r.status = m.status();
  r.content_type = std::move(*m.mutable_content_type());
  r.headers = take_pairs(m.mutable_headers());
  r.body = std::move(*m.mutable_body());
  return r;
}

std::chrono::milliseconds forwarded_http_timeout(const http::Request& request) {
  constexpr std::chrono::milliseconds kCallTimeout{std::chrono::seconds(30)};
  constexpr std::chrono::milliseconds kBlockingCallTimeout{std::chrono::seconds(11 * 60)};
  return request.has_query("index") ? kBlockingCallTimeout : kCallTimeout;
}

std::chrono::milliseconds forwarded_http_attempt_timeout(const http::Request& request) {
  constexpr std::chrono::milliseconds kAttemptTimeout{std::chrono::seconds(10)};
  return request.has_query("index") ? std::chrono::milliseconds(0) : kAttemptTimeout;
}

std::chrono::milliseconds client_forward_timeout(const http::Request& request) {
  // Covers the hop to the server and its answer's way back on a loaded host.
  constexpr std::chrono::milliseconds kSlack{std::chrono::seconds(5)};
  return forwarded_http_timeout(request) + kSlack;
}

bool is_idempotent(const http::Request& request) {
  return request.method == "GET" || request.method == "HEAD";
}

http::Response forwarded_response(const core::Result<std::string>& reply) {
  if (!reply) return http::Response::text(500, reply.error().message);
  auto response = decode_http_response(*reply);
  if (!response) return http::Response::text(500, response.error().message);
  return std::move(*response);
}

std::string encode_node_rows_request(const std::string& node) {
  proto::client::NodeRowsRequest m;
  m.set_node(node);
  return m.SerializeAsString();
}

core::Result<std::string> decode_node_rows_request(std::string_view bytes) {
  proto::client::NodeRowsRequest m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) || m.node().empty()) {
    return invalid("node rows request without a node");
  }
  return std::move(*m.mutable_node());
}

std::string encode_node_rows(const agent::NodeRows& rows) {
  proto::client::NodeRows m;
  m.set_found(rows.node.has_value());
  if (rows.node) state::fill(*m.mutable_node(), *rows.node);
  for (const auto& s : rows.services) state::fill(*m.add_services(), s);
  for (const auto& c : rows.checks) state::fill(*m.add_checks(), c);
  return m.SerializeAsString();
}

core::Result<agent::NodeRows> decode_node_rows(std::string_view bytes) {
  proto::client::NodeRows m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return invalid("node rows do not parse");
  }
  agent::NodeRows rows;
  if (m.found()) rows.node = state::row_from(*m.mutable_node());
  for (auto& s : *m.mutable_services()) rows.services.push_back(state::row_from(s));
  for (auto& c : *m.mutable_checks()) rows.checks.push_back(state::row_from(c));
  return rows;
}

namespace {
constexpr char kDnsTcp = 0x01;
constexpr char kDnsHasToken = 0x02;
constexpr char kDnsHasOptions = 0x04;
constexpr std::string_view kUnknownDnsTransport = "unknown DNS transport";

void put_length(std::string& out, std::size_t length, int bytes) {
  for (int shift = 8 * (bytes - 1); shift >= 0; shift -= 8) {
    out.push_back(static_cast<char>((length >> shift) & 0xff));
  }
}

// A big-endian length of `bytes` bytes and that many bytes after it, taken off `in`; nullopt
// when `in` is cut short or the length is 0 or over `max`.
std::optional<std::string_view> take_counted(std::string_view& in, int bytes, std::size_t max) {
  if (in.size() < static_cast<std::size_t>(bytes)) return std::nullopt;
  std::size_t length = 0;
  for (int i = 0; i < bytes; ++i) length = (length << 8) | static_cast<std::uint8_t>(in[i]);
  in.remove_prefix(static_cast<std::size_t>(bytes));
  if (length == 0 || length > max || in.size() < length) return std::nullopt;
  std::string_view out = in.substr(0, length);
  in.remove_prefix(length);
  return out;
}
}  // namespace

std::string encode_dns_query(const std::vector<std::uint8_t>& query, bool tcp,
                             std::string_view token, const dns::ResolverConfig* options) {
  std::string out(1, tcp ? kDnsTcp : '\0');
  if (!token.empty()) {
    out[0] = static_cast<char>(out[0] | kDnsHasToken);
    put_length(out, token.size(), 2);
    out.append(token);
  }
  if (options != nullptr) {
    out[0] = static_cast<char>(out[0] | kDnsHasOptions);
    const std::string encoded = encode_dns_options(*options);
    put_length(out, encoded.size(), 4);
    out.append(encoded);
  }
  out.append(query.begin(), query.end());
  return out;
}

core::Result<DnsQuery> decode_dns_query(std::string_view bytes) {
  if (bytes.empty()) return invalid("not a DNS query");
  const char flags = bytes[0];
  if ((flags & ~(kDnsTcp | kDnsHasToken | kDnsHasOptions)) != 0) {
    return invalid(std::string(kUnknownDnsTransport));
  }
  bytes.remove_prefix(1);
  DnsQuery out;
  out.tcp = (flags & kDnsTcp) != 0;
  if ((flags & kDnsHasToken) != 0) {
    auto token = take_counted(bytes, 2, kDnsQueryTokenMax);
    if (!token) return invalid("DNS query token is cut short or of a bad length");
    out.token.assign(*token);
  }
  if ((flags & kDnsHasOptions) != 0) {
    // An empty options message is still a DNS options value, but never a valid one: it
    // lacks the domain, so the length 0 the helper refuses loses nothing.
    auto encoded = take_counted(bytes, 4, kDnsOptionsSizeMax);
    if (!encoded) return invalid("DNS query options are cut short or of a bad length");
    auto options = decode_dns_options(*encoded);
    if (!options) return options.error();
    out.options = std::move(*options);
  }
  // A DNS message has at least its 12-byte header; 65535 bytes is the most TCP carries.
  if (bytes.size() < 12 || bytes.size() > 65535) return invalid("not a DNS query");
  out.bytes.assign(bytes.begin(), bytes.end());
  return out;
}

bool dns_options_refused(const core::Error& error) {
  return error.code == core::Code::kInvalidArgument && error.message == kUnknownDnsTransport;
}

core::Status parse_client_command(std::string_view bytes, proto::Command& out) {
  if (!out.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return invalid("command does not parse");
  }
  if (out.body_case() == proto::Command::BODY_NOT_SET) return invalid("command without a body");
  return core::ok();
}

core::Result<std::string> check_client_command(std::string_view bytes,
                                               std::int64_t proposed_unix_ns) {
  proto::Command cmd;
  if (auto st = parse_client_command(bytes, cmd); !st) return st.error();
  cmd.set_proposed_unix_ns(proposed_unix_ns);
  return cmd.SerializeAsString();
}

std::string encode_acl_resolve_request(const std::string& secret) {
  proto::client::AclResolveRequest m;
  m.set_secret(secret);
  return m.SerializeAsString();
}

core::Result<std::string> decode_acl_resolve_request(std::string_view bytes) {
  proto::client::AclResolveRequest m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size())) || m.secret().empty()) {
    return invalid("ACL resolve request without a secret");
  }
  return std::move(*m.mutable_secret());
}

std::string encode_acl_resolve_reply(const std::optional<acl::TokenGrantsText>& grants) {
  proto::client::AclResolveReply m;
  m.set_found(grants.has_value());
  if (!grants) return m.SerializeAsString();
  m.set_accessor_id(grants->accessor_id);
  m.set_description(grants->description);
  for (const auto& p : grants->policies) {
    auto* out = m.add_policies();
    out->set_id(p.id);
    out->set_modify_index(p.modify_index);
    out->set_rules(p.rules);
  }
  for (const auto& s : grants->service_identities) {
    auto* out = m.add_service_identities();
    out->set_service_name(s.service_name);
    for (const auto& dc : s.datacenters) out->add_datacenters(dc);
  }
  for (const auto& n : grants->node_identities) {
    auto* out = m.add_node_identities();
    out->set_node_name(n.node_name);
    out->set_datacenter(n.datacenter);
  }
  if (grants->expiration_time_unix_ns) {
    m.set_expires(true);
    m.set_expiration_time_unix_ns(*grants->expiration_time_unix_ns);
  }
  return m.SerializeAsString();
}

core::Result<std::optional<acl::TokenGrantsText>> decode_acl_resolve_reply(std::string_view bytes) {
  proto::client::AclResolveReply m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return invalid("ACL resolve reply does not parse");
  }
  if (!m.found()) return std::optional<acl::TokenGrantsText>();
  if (m.accessor_id().empty()) return invalid("ACL resolve reply without an AccessorID");
  acl::TokenGrantsText g;
  g.accessor_id = std::move(*m.mutable_accessor_id());
  g.description = std::move(*m.mutable_description());
  for (auto& p : *m.mutable_policies()) {
    if (p.id().empty()) return invalid("ACL resolve reply with a policy without an ID");
    g.policies.push_back(
        {std::move(*p.mutable_id()), p.modify_index(), std::move(*p.mutable_rules())});
  }
  for (auto& s : *m.mutable_service_identities()) {
    if (s.service_name().empty()) return invalid("ACL resolve reply with an unnamed identity");
    acl::ServiceIdentity id;
    id.service_name = std::move(*s.mutable_service_name());
    for (auto& dc : *s.mutable_datacenters()) id.datacenters.push_back(std::move(dc));
    g.service_identities.push_back(std::move(id));
  }
  for (auto& n : *m.mutable_node_identities()) {
    if (n.node_name().empty()) return invalid("ACL resolve reply with an unnamed identity");
    g.node_identities.push_back(
        {std::move(*n.mutable_node_name()), std::move(*n.mutable_datacenter())});
  }
  if (m.expires()) g.expiration_time_unix_ns = m.expiration_time_unix_ns();
  return std::optional<acl::TokenGrantsText>(std::move(g));
}

std::string encode_client_apply(std::string command, std::string token) {
  proto::client::ClientApply m;
  m.set_token(std::move(token));
  m.set_command(std::move(command));
  return m.SerializeAsString();
}

core::Result<ClientWrite> decode_client_apply(std::string_view bytes) {
  proto::client::ClientApply m;
  if (!m.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return invalid("command does not parse");
  }
  // A bare Command (no ClientApply field set) is the older payload: the anonymous token's.
  if (m.command().empty()) return ClientWrite{"", std::string(bytes)};
  return ClientWrite{std::move(*m.mutable_token()), std::move(*m.mutable_command())};
}

}  // namespace pc::daemon
