// The HTTP probe: Consul's CheckHTTP.check() for one run, with the parts of Go's http.Client
// that Consul relies on (redirects, error texts, no keep-alive). This is the only Boost.Beast,
// Asio and OpenSSL translation unit of agent/checks: it takes ~20 s to compile, so no header
// of the module includes them.
//
// Shape: each call owns a private io_context and drives every step (TLS handshake, write,
// read) as one asynchronous operation run to completion on the calling thread, with the
// stream's expiry at the probe's deadline; a timed-out step fails with beast::error::timeout.
// Lookup and connect are detail::dial_tcp's (POSIX, close-on-exec, same deadline). Each hop of
// a redirect gets a new connection, as in Go with keep-alives off.
#include <arpa/inet.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sys/socket.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/url/parse.hpp>
#include <boost/url/url.hpp>

#include <array>
#include <exception>

#include "agent/checks/detail/net.h"
#include "agent/checks/detail/output.h"
#include "agent/checks/probe.h"
#include "core/strings.h"

namespace pc::agent {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace urls = boost::urls;

using core::Code;
using core::make_error;
using HeaderMap = std::map<std::string, std::vector<std::string>>;

constexpr std::size_t kBodyChunkBytes = 16 * 1024;
// Interim (1xx) responses skipped before the final one; more than this is a broken server.
constexpr int kInterimResponsesMax = 8;
// Consul's UserAgent and Accept defaults.
constexpr std::string_view kUserAgent = "Consul Health Check";
constexpr std::string_view kAccept = "text/plain, text/*, */*";
// Go's text when Client.Timeout expires before the response headers are in.
constexpr std::string_view kTimeoutText =
    "context deadline exceeded (Client.Timeout exceeded while awaiting headers)";

// RFC 7230 tchar: what a method or a header name may hold.
bool is_token(std::string_view s) {
  constexpr std::string_view kSpecials = "!#$%&'*+-.^_`|~";
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           kSpecials.find(c) != std::string_view::npos;
  });
}

// Go's httpguts.ValidHeaderFieldValue: no control bytes but tab.
bool is_header_value(std::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    auto b = static_cast<unsigned char>(c);
    return (b < 0x20 && b != '\t') || b == 0x7f;
  });
}

bool is_ip_literal(const std::string& s) {
  unsigned char buf[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, s.c_str(), buf) == 1 || ::inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

const std::vector<std::string>* find_header(const HeaderMap& header, std::string_view name) {
  for (const auto& [key, values] : header) {
    if (core::iequals(key, name)) return &values;
  }
  return nullptr;
}

// Go's Header.Get(name) != "": present with a non-empty first value.
bool header_set(const HeaderMap& header, std::string_view name) {
  const auto* values = find_header(header, name);
  return values != nullptr && !values->empty() && !values->front().empty();
}

// Go's isDomainOrSubdomain: whether credentials may follow a redirect to `sub`.
bool is_domain_or_subdomain(std::string_view sub, std::string_view parent) {
  if (sub == parent) return true;
  if (sub.find_first_of(":%") != std::string_view::npos) return false;
  return sub.size() > parent.size() && sub.substr(sub.size() - parent.size()) == parent &&
         sub[sub.size() - parent.size() - 1] == '.';
}

// Go's stripPassword: error texts never show a password from the URL.
std::string redacted(const urls::url& url) {
  if (!url.has_password()) return std::string(url.buffer());
  urls::url copy = url;
  copy.set_password("***");
  return std::string(copy.buffer());
}

core::Error timeout_error() {
  return make_error(Code::kTimeout, std::string(kTimeoutText));
}

std::string lower_first(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

// Go's words where they differ from the library's ("EOF"), else the library's message.
core::Error io_error(const beast::error_code& ec) {
  if (ec == beast::error::timeout) return timeout_error();
  if (ec == http::error::end_of_stream || ec == asio::error::eof) {
    return make_error(Code::kUnavailable, "EOF");
  }
  if (ec == ssl::error::stream_truncated) return make_error(Code::kUnavailable, "unexpected EOF");
  if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
    return make_error(Code::kUnavailable, "malformed HTTP response: " + ec.message());
  }
  return make_error(Code::kUnavailable, lower_first(ec.message()));
}

core::Error handshake_error(SSL* ssl, const beast::error_code& ec, bool verified) {
  if (ec == beast::error::timeout) return timeout_error();
  long verify = verified ? SSL_get_verify_result(ssl) : X509_V_OK;
  if (verify != X509_V_OK) {
    return make_error(Code::kUnavailable, std::string("tls: failed to verify certificate: x509: ") +
                                              X509_verify_cert_error_string(verify));
  }
  return make_error(Code::kUnavailable, "tls: handshake failed: " + io_error(ec).message);
}

// Runs one asynchronous operation to completion on the caller's thread. The stream's expiry
// bounds it, so run() returns by the deadline at the latest.
template <typename Initiate>
beast::error_code run_op(asio::io_context& ioc, Initiate&& initiate) {
  beast::error_code result = asio::error::operation_aborted;
  initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

// Hands a connected socket from detail::dial_tcp to Asio.
core::Status adopt(beast::tcp_stream& tcp, detail::UniqueFd fd) {
  sockaddr_storage local{};
  socklen_t size = sizeof(local);
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&local), &size);
  auto protocol = local.ss_family == AF_INET6 ? asio::ip::tcp::v6() : asio::ip::tcp::v4();
  beast::error_code ec;
  tcp.socket().assign(protocol, fd.get(), ec);
  if (ec) return make_error(Code::kIoError, lower_first(ec.message()));
  fd.release();
  return core::ok();
}

// SNI (never for an IP, as in Go) and the name or address the certificate must match.
core::Status set_peer_name(SSL* ssl, const std::string& name, bool verify) {
  bool ip = is_ip_literal(name);
  if (!ip && !name.empty() && SSL_set_tlsext_host_name(ssl, name.c_str()) != 1) {
    return make_error(Code::kInvalidArgument, "tls: invalid server name " + core::go_quote(name));
  }
  if (!verify) return core::ok();
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
  int set = ip ? X509_VERIFY_PARAM_set1_ip_asc(param, name.c_str())
               : X509_VERIFY_PARAM_set1_host(param, name.c_str(), name.size());
  if (set != 1) {
    return make_error(Code::kInvalidArgument, "tls: invalid server name " + core::go_quote(name));
  }
  return core::ok();
}

// One response, as far as the probe needs it.
struct Reply {
  explicit Reply(std::size_t body_size_max) : body(body_size_max) {}
  unsigned status = 0;
  std::string status_text;  // Go's resp.Status: "200 OK"
  std::string location;
  detail::OutputTail body;  // the last output_size_max bytes, as Consul's circbuf keeps
};

// One request of the chain Go's client walks through redirects.
struct Hop {
  urls::url url;
  std::string method;
  bool send_body = true;
  std::string host_override;  // a Host header: kept across relative redirects only, as in Go
};

// One probe call. Owned by the calling thread; not reusable.
class HttpProbe {
 public:
  explicit HttpProbe(const HttpProbeSpec& spec)
      : spec_(spec),
        method_(spec.method.empty() ? "GET" : spec.method),
        deadline_(std::chrono::steady_clock::now() +
                  detail::effective_timeout(spec.timeout, probe_http_timeout_default)) {}

  ProbeResult run();

 private:
  core::Result<Reply> exchange(const Hop& hop);
  core::Result<Reply> exchange_tls(beast::tcp_stream tcp, const Hop& hop, const std::string& host);
  template <typename Stream>
  core::Result<Reply> talk(Stream& stream, const Hop& hop);
  template <typename Stream, typename Parser>
  void read_body(Stream& stream, beast::flat_buffer& buffer, Parser& parser, Reply& reply);
  core::Status configure_tls(ssl::context& ctx) const;
  http::request<http::string_body> build_request(const Hop& hop) const;
  void add_headers(http::request<http::string_body>& req, const Hop& hop) const;
  bool follows(const Reply& reply) const;
  core::Result<Hop> next_hop(const Hop& hop, const Reply& reply) const;
  ProbeResult final_result(const Reply& reply) const;
  std::string error_text(std::string_view url, std::string_view err) const;
  std::string error_text(const Hop& hop, std::string_view err) const;

  const HttpProbeSpec& spec_;
  std::string method_;
  std::string initial_host_;  // lower-case host of spec_.url, for credentials on redirect
  core::MonoTime deadline_;
  asio::io_context ioc_{1};
};

ProbeResult HttpProbe::run() {
  auto critical = [](std::string text) {
    return detail::probe_result(kProbeCritical, std::move(text));
  };
  if (!is_token(method_)) return critical("net/http: invalid method " + core::go_quote(method_));
  auto parsed = urls::parse_uri(spec_.url);
  if (!parsed) {
    // Go parses a relative reference ("", "/health") and fails on its missing scheme.
    if (urls::parse_uri_reference(spec_.url)) {
      return critical(error_text(spec_.url, "unsupported protocol scheme \"\""));
    }
    return critical("parse " + core::go_quote(spec_.url) + ": invalid URL");
  }
  Hop hop{urls::url(*parsed), method_, true, {}};
  initial_host_ = core::to_lower(hop.url.host_address());
  if (header_set(spec_.header, "Host"))
    hop.host_override = find_header(spec_.header, "Host")->front();
  for (const auto& [name, values] : spec_.header) {
    if (!is_token(name)) {
      return critical(
          error_text(hop, "net/http: invalid header field name " + core::go_quote(name)));
    }
    if (!std::all_of(values.begin(), values.end(), is_header_value)) {
      return critical(
          error_text(hop, "net/http: invalid header field value for " + core::go_quote(name)));
    }
  }
  for (int redirects = 0;; ++redirects) {
    auto reply = exchange(hop);
    if (!reply) return critical(error_text(hop, reply.error().message));
    if (!follows(*reply)) return final_result(*reply);
    if (redirects == probe_http_redirects_max) {
      return critical(error_text(
          hop, "stopped after " + std::to_string(probe_http_redirects_max) + " redirects"));
    }
    auto next = next_hop(hop, *reply);
    if (!next) return critical(error_text(hop, next.error().message));
    hop = std::move(*next);
  }
}

core::Result<Reply> HttpProbe::exchange(const Hop& hop) {
  const urls::url& url = hop.url;
  auto scheme = url.scheme_id();
  if (scheme != urls::scheme::http && scheme != urls::scheme::https) {
    return make_error(Code::kInvalidArgument, "unsupported protocol scheme " +
                                                  core::go_quote(core::to_lower(url.scheme())));
  }
  if (!url.has_authority() || url.encoded_host().empty()) {
    return make_error(Code::kInvalidArgument, "http: no Host in request URL");
  }
  bool tls = scheme == urls::scheme::https;
  std::string host = url.host_address();
  std::string port = url.has_port() && !url.port().empty() ? std::string(url.port())
                                                           : std::string(tls ? "443" : "80");
  auto fd = detail::dial_tcp(detail::join_host_port(host, port), deadline_);
  if (!fd) return fd.error().code == Code::kTimeout ? timeout_error() : fd.error();
  beast::tcp_stream tcp(ioc_);
  if (auto adopted = adopt(tcp, std::move(*fd)); !adopted) return adopted.error();
  tcp.expires_at(deadline_);
  if (!tls) return talk(tcp, hop);
  return exchange_tls(std::move(tcp), hop, host);
}

core::Result<Reply> HttpProbe::exchange_tls(beast::tcp_stream tcp, const Hop& hop,
                                            const std::string& host) {
  ssl::context ctx(ssl::context::tls_client);
  if (auto configured = configure_tls(ctx); !configured) return configured.error();
  ssl::stream<beast::tcp_stream> stream(std::move(tcp), ctx);
  beast::get_lowest_layer(stream).expires_at(deadline_);
  const std::string& name = spec_.tls_server_name.empty() ? host : spec_.tls_server_name;
  if (auto named = set_peer_name(stream.native_handle(), name, !spec_.tls_skip_verify); !named) {
    return named.error();
  }
  auto ec = run_op(ioc_, [&](auto handler) {
    stream.async_handshake(ssl::stream_base::client, std::move(handler));
  });
  if (ec) return handshake_error(stream.native_handle(), ec, !spec_.tls_skip_verify);
  return talk(stream, hop);
}

core::Status HttpProbe::configure_tls(ssl::context& ctx) const {
  // Go's (and Consul's tls_min_version) default floor.
  SSL_CTX_set_min_proto_version(ctx.native_handle(), TLS1_2_VERSION);
  beast::error_code ec;
  auto failed = [&](const std::string& what) {
    return make_error(Code::kInvalidArgument, "tls: " + what + ": " + lower_first(ec.message()));
  };
  ctx.set_verify_mode(spec_.tls_skip_verify ? ssl::verify_none : ssl::verify_peer, ec);
  if (!spec_.tls_skip_verify) {
    if (spec_.ca_file.empty() && spec_.ca_path.empty()) {
      ctx.set_default_verify_paths(ec);  // a failure shows up as a verify error later
    }
    if (!spec_.ca_file.empty()) {
      ctx.load_verify_file(spec_.ca_file, ec);
      if (ec) return failed("loading CA file " + spec_.ca_file);
    }
    if (!spec_.ca_path.empty()) {
      ctx.add_verify_path(spec_.ca_path, ec);
      if (ec) return failed("loading CA path " + spec_.ca_path);
    }
  }
  if (!spec_.cert_file.empty()) {
    ctx.use_certificate_chain_file(spec_.cert_file, ec);
    if (ec) return failed("loading certificate " + spec_.cert_file);
  }
  if (!spec_.key_file.empty()) {
    ctx.use_private_key_file(spec_.key_file, ssl::context::pem, ec);
    if (ec) return failed("loading key " + spec_.key_file);
  }
  return core::ok();
}

template <typename Stream>
core::Result<Reply> HttpProbe::talk(Stream& stream, const Hop& hop) {
  auto req = build_request(hop);
  auto ec = run_op(ioc_, [&](auto handler) { http::async_write(stream, req, std::move(handler)); });
  if (ec) return io_error(ec);
  beast::flat_buffer buffer;
  for (int i = 0; i < kInterimResponsesMax; ++i) {
    http::response_parser<http::buffer_body> parser;
    parser.header_limit(static_cast<std::uint32_t>(probe_http_header_size_max));
    parser.body_limit(boost::none);  // only the tail is kept; the deadline bounds the time
    if (hop.method == "HEAD") parser.skip(true);
    ec = run_op(ioc_, [&](auto handler) {
      http::async_read_header(stream, buffer, parser, std::move(handler));
    });
    if (ec) return io_error(ec);
    unsigned status = parser.get().result_int();
    if (status >= 100 && status < 200 && status != 101) continue;  // Go skips interim replies
    Reply reply(spec_.output_size_max);
    reply.status = status;
    std::string_view reason = parser.get().reason();
    reply.status_text = std::to_string(status) + (reason.empty() ? "" : " " + std::string(reason));
    reply.location = std::string(parser.get()[http::field::location]);
    if (!follows(reply)) read_body(stream, buffer, parser, reply);
    return reply;
  }
  return make_error(Code::kUnavailable, "net/http: too many interim (1xx) responses");
}

// As Consul: an error while reading the body (the deadline included) keeps what arrived, and
// the status still decides the result.
template <typename Stream, typename Parser>
void HttpProbe::read_body(Stream& stream, beast::flat_buffer& buffer, Parser& parser,
                          Reply& reply) {
  std::array<char, kBodyChunkBytes> chunk;
  while (!parser.is_done()) {
    parser.get().body().data = chunk.data();
    parser.get().body().size = chunk.size();
    auto ec = run_op(
        ioc_, [&](auto handler) { http::async_read(stream, buffer, parser, std::move(handler)); });
    if (ec == http::error::need_buffer) ec = {};
    reply.body.write(std::string_view(chunk.data(), chunk.size() - parser.get().body().size));
    if (ec) return;
  }
}

http::request<http::string_body> HttpProbe::build_request(const Hop& hop) const {
  http::request<http::string_body> req;
  req.version(11);
  req.method_string(hop.method);
  std::string target(hop.url.encoded_target());  // path and query; never the fragment
  if (target.empty() || target.front() != '/') target.insert(0, "/");
  req.target(target);
  req.set(http::field::host, hop.host_override.empty()
                                 ? std::string(hop.url.encoded_host_and_port())
                                 : hop.host_override);
  add_headers(req, hop);
  if (hop.send_body && !spec_.body.empty()) {
    req.body() = spec_.body;
    req.content_length(spec_.body.size());
  } else if (hop.method == "POST" || hop.method == "PUT" || hop.method == "PATCH") {
    req.content_length(0);  // Go announces an empty body for methods that expect one
  }
  return req;
}

void HttpProbe::add_headers(http::request<http::string_body>& req, const Hop& hop) const {
  // Go writes these itself, whatever Header holds.
  constexpr std::array<std::string_view, 4> kOwnHeaders = {"Host", "Content-Length",
                                                           "Transfer-Encoding", "Trailer"};
  // Go drops credentials on a redirect to another site.
  constexpr std::array<std::string_view, 4> kSensitive = {"Authorization", "Www-Authenticate",
                                                          "Cookie", "Cookie2"};
  auto listed = [](const auto& names, std::string_view name) {
    return std::any_of(names.begin(), names.end(),
                       [&](std::string_view n) { return core::iequals(n, name); });
  };
  bool same_site = is_domain_or_subdomain(core::to_lower(hop.url.host_address()), initial_host_);
  for (const auto& [name, values] : spec_.header) {
    if (listed(kOwnHeaders, name) || (!same_site && listed(kSensitive, name))) continue;
    bool defaulted = core::iequals(name, "User-Agent") || core::iequals(name, "Accept");
    if (defaulted && !header_set(spec_.header, name)) continue;  // replaced by the default
    for (const auto& value : values) req.insert(name, value);
  }
  if (!header_set(spec_.header, "User-Agent")) req.set(http::field::user_agent, kUserAgent);
  if (!header_set(spec_.header, "Accept")) req.set(http::field::accept, kAccept);
  bool authorized = same_site && header_set(spec_.header, "Authorization");
  if (hop.url.has_userinfo() && !authorized) {
    req.set(http::field::authorization,
            "Basic " + core::base64_encode(hop.url.user() + ":" + hop.url.password()));
  }
  if (find_header(spec_.header, "Connection") == nullptr) {
    req.set(http::field::connection, "close");  // Consul turns keep-alives off for checks
  }
}

bool HttpProbe::follows(const Reply& reply) const {
  bool redirect = reply.status == 301 || reply.status == 302 || reply.status == 303 ||
                  reply.status == 307 || reply.status == 308;
  return redirect && !spec_.disable_redirects && !reply.location.empty();
}

// Go's redirectBehavior: 307 and 308 repeat the request; 301, 302 and 303 turn it into a GET
// (HEAD stays HEAD) without a body.
core::Result<Hop> HttpProbe::next_hop(const Hop& hop, const Reply& reply) const {
  auto bad_location = [&](const std::string& why) {
    return make_error(Code::kInvalidArgument, "failed to parse Location header " +
                                                  core::go_quote(reply.location) + ": " + why);
  };
  auto ref = urls::parse_uri_reference(reply.location);
  if (!ref) return bad_location(ref.error().message());
  Hop next;
  if (auto resolved = urls::resolve(hop.url, *ref, next.url); !resolved) {
    return bad_location(resolved.error().message());
  }
  next.method = hop.method;
  next.send_body = hop.send_body;
  if (reply.status != 307 && reply.status != 308) {
    next.send_body = false;
    if (hop.method != "GET" && hop.method != "HEAD") next.method = "GET";
  }
  if (!ref->has_scheme()) next.host_override = hop.host_override;
  return next;
}

ProbeResult HttpProbe::final_result(const Reply& reply) const {
  std::string text = "HTTP " + method_ + " " + spec_.url + ": " + reply.status_text +
                     " Output: " + reply.body.tail();
  if (reply.status >= 200 && reply.status <= 299) {
    return detail::probe_result(kProbePassing, std::move(text));
  }
  // 429 Too Many Requests (RFC 6585): the service is up but shedding load.
  if (reply.status == 429) return detail::probe_result(kProbeWarning, std::move(text));
  return detail::probe_result(kProbeCritical, std::move(text));
}

// Go's url.Error: `Get "http://x/y": <err>`, the method as Go spells the operation.
std::string HttpProbe::error_text(std::string_view url, std::string_view err) const {
  std::string op = method_.substr(0, 1) + core::to_lower(std::string_view(method_).substr(1));
  return op + " " + core::go_quote(url) + ": " + std::string(err);
}

std::string HttpProbe::error_text(const Hop& hop, std::string_view err) const {
  return error_text(redacted(hop.url), err);
}

}  // namespace

ProbeResult probe_http(const HttpProbeSpec& spec) {
  try {
    return HttpProbe(spec).run();
  } catch (const std::exception& e) {
    return detail::probe_result(kProbeCritical, std::string("HTTP check failed: ") + e.what());
  } catch (...) {
    return detail::probe_result(kProbeCritical, "HTTP check failed: unknown error");
  }
}

}  // namespace pc::agent
