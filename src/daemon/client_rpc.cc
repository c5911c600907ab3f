#include "daemon/client_rpc.h"

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

std::string encode_dns_query(const std::vector<std::uint8_t>& query, bool tcp) {
  std::string out(1, tcp ? '\1' : '\0');
  out.append(query.begin(), query.end());
  return out;
}

core::Result<DnsQuery> decode_dns_query(std::string_view bytes) {
  // A DNS message has at least its 12-byte header; 65535 bytes is the most TCP carries.
  if (bytes.size() < 1 + 12 || bytes.size() > 1 + 65535) return invalid("not a DNS query");
  if (bytes[0] != '\0' && bytes[0] != '\1') return invalid("unknown DNS transport");
  return DnsQuery{bytes[0] == '\1', std::vector<std::uint8_t>(bytes.begin() + 1, bytes.end())};
}

core::Result<std::string> check_client_command(std::string_view bytes,
                                               std::int64_t proposed_unix_ns) {
  proto::Command cmd;
  if (!cmd.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return invalid("command does not parse");
  }
  if (cmd.body_case() == proto::Command::BODY_NOT_SET) return invalid("command without a body");
  cmd.set_proposed_unix_ns(proposed_unix_ns);
  return cmd.SerializeAsString();
}

}  // namespace pc::daemon
