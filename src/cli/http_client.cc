#include "cli/http_client.h"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <exception>
#include <filesystem>

#include "cli/build_info.h"
#include "core/duration.h"
#include "core/strings.h"

namespace pc::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

// A `kv get -recurse` of a large tree is the biggest answer a command asks for; beyond this
// something is wrong and we stop reading rather than exhaust memory.
constexpr std::uint64_t kResponseBodySizeMax = 256ull * 1024 * 1024;
constexpr std::uint32_t kResponseHeaderSizeMax = 64 * 1024;

struct Exchange {
  bool done = false;
  boost::system::error_code ec;
  std::string failure;  // set when an exception escaped
  http::response<http::string_body> response;
};

// Writes the request and reads the response on a connected stream (TCP or TLS over it).
template <typename Stream>
asio::awaitable<void> transfer(Stream& stream, http::request<http::string_body>& req,
                               Exchange& out) {
  constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
  auto [write_ec, written] = co_await http::async_write(stream, req, kNoThrow);
  if (write_ec) {
    out.ec = write_ec;
    out.done = true;
    co_return;
  }
  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kResponseBodySizeMax);
  parser.header_limit(kResponseHeaderSizeMax);
  auto [read_ec, read] = co_await http::async_read(stream, buffer, parser, kNoThrow);
  if (read_ec) {
    out.ec = read_ec;
    out.done = true;
    co_return;
  }
  out.response = parser.release();
  out.done = true;
}

// The client side of HTTPS as Consul's api package sets it up from its TLSConfig.
core::Status configure_tls(asio::ssl::context& ctx, const HttpTarget& target) {
  boost::system::error_code ec;
  ctx.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                  asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                  asio::ssl::context::no_tlsv1_1);
  auto fail = [](const std::string& what, const std::string& path,
                 const boost::system::error_code& e) {
    return core::make_error(core::Code::kInvalidArgument,
                            "Error loading " + what + " " + path + ": " + e.message());
  };
  if (!target.ca_file.empty()) {
    if (ctx.load_verify_file(target.ca_file, ec); ec) return fail("CA file", target.ca_file, ec);
  } else if (!target.ca_path.empty()) {
    for (const auto& entry : std::filesystem::directory_iterator(target.ca_path, ec)) {
      if (!entry.is_regular_file()) continue;
      if (ctx.load_verify_file(entry.path().string(), ec); ec) {
        return fail("CA file", entry.path().string(), ec);
      }
    }
    if (ec) return fail("CA path", target.ca_path, ec);
  } else {
    ctx.set_default_verify_paths(ec);
  }
  if (!target.client_cert.empty() || !target.client_key.empty()) {
    if (ctx.use_certificate_chain_file(target.client_cert, ec); ec) {
      return fail("client certificate", target.client_cert, ec);
    }
    if (ctx.use_private_key_file(target.client_key, asio::ssl::context::pem, ec); ec) {
      return fail("client key", target.client_key, ec);
    }
  }
  ctx.set_verify_mode(target.tls_skip_verify ? asio::ssl::verify_none : asio::ssl::verify_peer);
  return core::ok();
}

// One request on one connection. The deadline of the tcp_stream covers connect, the TLS
// handshake, write and read; the caller's run_for() covers the resolve as well.
asio::awaitable<void> exchange(const HttpTarget& target, http::request<http::string_body>& req,
                               Exchange& out) {
  constexpr auto kNoThrow = asio::as_tuple(asio::use_awaitable);
  auto executor = co_await asio::this_coro::executor;
  tcp::resolver resolver(executor);
  auto [resolve_ec, endpoints] =
      co_await resolver.async_resolve(target.host, std::to_string(target.port), kNoThrow);
  if (resolve_ec) {
    out.ec = resolve_ec;
    out.done = true;
    co_return;
  }
  beast::tcp_stream stream(executor);
  stream.expires_after(target.timeout);
  auto [connect_ec, endpoint] = co_await stream.async_connect(endpoints, kNoThrow);
  if (connect_ec) {
    out.ec = connect_ec;
    out.done = true;
    co_return;
  }
  if (!target.tls) {
    co_await transfer(stream, req, out);
  } else {
    asio::ssl::context ctx(asio::ssl::context::tls_client);
    if (auto s = configure_tls(ctx, target); !s) {
      out.failure = s.error().message;
      out.done = true;
      co_return;
    }
    asio::ssl::stream<beast::tcp_stream&> tls(stream, ctx);
    const std::string& name = target.tls_server_name.empty() ? target.host : target.tls_server_name;
    // SNI carries names only; the certificate check takes the name or the IP literal.
    boost::system::error_code ip_ec;
    asio::ip::make_address(name, ip_ec);
    if (ip_ec) SSL_set_tlsext_host_name(tls.native_handle(), name.c_str());
    if (!target.tls_skip_verify) tls.set_verify_callback(asio::ssl::host_name_verification(name));
    auto [hs_ec] = co_await tls.async_handshake(asio::ssl::stream_base::client, kNoThrow);
    if (hs_ec) {
      out.ec = hs_ec;
      out.done = true;
      co_return;
    }
    co_await transfer(tls, req, out);
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

std::string reason(const boost::system::error_code& ec, const HttpTarget& target) {
  if (ec == beast::error::timeout) {
    return "timed out after " + core::format_go_duration(target.timeout);
  }
  // Go spells these in lower case ("connection refused"); system messages start upper case.
  std::string text = ec.message();
  if (!text.empty() && text[0] >= 'A' && text[0] <= 'Z' && (text.size() < 2 || text[1] > 'Z')) {
    text[0] = static_cast<char>(text[0] - 'A' + 'a');
  }
  return text;
}

core::Error query_error(core::Code code, const HttpTarget& target, const std::string& why) {
  return core::make_error(code, "Error querying agent at " + target.url() + ": " + why);
}

bool is_unreserved(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_' || c == '~';
}

std::string percent_encode(std::string_view text, bool keep_slash) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (is_unreserved(c) || (keep_slash && c == '/')) {
      out += c;
    } else {
      auto byte = static_cast<unsigned char>(c);
      out += '%';
      out += kHex[byte >> 4];
      out += kHex[byte & 0xF];
    }
  }
  return out;
}

}  // namespace

std::string HttpTarget::url() const {
  bool v6 = host.find(':') != std::string::npos;
  return std::string(tls ? "https://" : "http://") + (v6 ? "[" + host + "]" : host) + ":" +
         std::to_string(port);
}

const std::string* HttpResponse::header(std::string_view lower_name) const {
  for (const auto& [k, v] : headers) {
    if (k == lower_name) return &v;
  }
  return nullptr;
}

core::Result<HttpTarget> parse_http_addr(std::string_view addr) {
  auto invalid = [&](const std::string& why) {
    return core::make_error(core::Code::kInvalidArgument,
                            "Invalid HTTP address \"" + std::string(addr) + "\": " + why);
  };
  std::string_view rest = addr;
  bool tls = false;
  std::size_t scheme_end = rest.find("://");
  if (scheme_end != std::string_view::npos) {
    std::string scheme = core::to_lower(rest.substr(0, scheme_end));
    if (scheme == "unix") return invalid("unix sockets are not supported yet");
    if (scheme != "http" && scheme != "https") return invalid("Unknown protocol scheme: " + scheme);
    tls = scheme == "https";
    rest.remove_prefix(scheme_end + 3);
  }
  while (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.empty()) return invalid("missing host");
  HttpTarget target;
  target.tls = tls;
  target.port = tls ? 443 : 80;
  std::string_view port_text;
  if (rest.front() == '[') {
    std::size_t close = rest.find(']');
    if (close == std::string_view::npos) return invalid("missing ']'");
    target.host = std::string(rest.substr(1, close - 1));
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return invalid("unexpected text after ']'");
      port_text = after.substr(1);
      if (port_text.empty()) return invalid("missing port");
    }
  } else {
    std::size_t colon = rest.rfind(':');
    if (colon != std::string_view::npos && rest.find(':') != colon) {
      return invalid("an IPv6 address needs brackets, as in [::1]:8500");
    }
    if (colon != std::string_view::npos) {
      target.host = std::string(rest.substr(0, colon));
      port_text = rest.substr(colon + 1);
      if (port_text.empty()) return invalid("missing port");
    } else {
      target.host = std::string(rest);
    }
  }
  if (target.host.empty()) return invalid("missing host");
  if (target.host.find('/') != std::string::npos) return invalid("unexpected path");
  if (!port_text.empty()) {
    unsigned port = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9' || port > 65535) return invalid("bad port");
      port = port * 10 + static_cast<unsigned>(c - '0');
    }
    if (port == 0 || port > 65535) return invalid("bad port");
    target.port = static_cast<std::uint16_t>(port);
  }
  return target;
}

core::Result<HttpResponse> http_request(const HttpTarget& target, std::string_view method,
                                        std::string_view path_and_query, std::string_view body,
                                        const Headers& headers) {
  try {
    http::verb verb = http::string_to_verb(method);
    if (verb == http::verb::unknown) {
      return core::make_error(core::Code::kInvalidArgument,
                              "unknown HTTP method " + std::string(method));
    }
    http::request<http::string_body> req{verb, path_and_query, 11};
    req.set(http::field::host, target.host.find(':') == std::string::npos
                                   ? target.host + ":" + std::to_string(target.port)
                                   : "[" + target.host + "]:" + std::to_string(target.port));
    req.set(http::field::user_agent, std::string("proconsul/") + kBuildVersion);
    for (const auto& [name, value] : headers) req.set(name, value);
    req.keep_alive(false);
    req.body() = std::string(body);
    req.prepare_payload();

    Exchange out;
    asio::io_context io;
    asio::co_spawn(io, exchange(target, req, out), [&out](std::exception_ptr e) {
      if (!e) return;
      try {
        std::rethrow_exception(e);
      } catch (const std::exception& ex) {
        out.failure = ex.what();
      } catch (...) {
        out.failure = "unknown error";
      }
      out.done = true;
    });
    io.run_for(target.timeout);
    if (!out.done) {
      return query_error(core::Code::kTimeout, target,
                         "timed out after " + core::format_go_duration(target.timeout));
    }
    if (!out.failure.empty()) return query_error(core::Code::kInternal, target, out.failure);
    if (out.ec) {
      core::Code code =
          out.ec == beast::error::timeout ? core::Code::kTimeout : core::Code::kUnavailable;
      return query_error(code, target, reason(out.ec, target));
    }
    HttpResponse res;
    res.status = static_cast<int>(out.response.result_int());
    res.body = std::move(out.response.body());
    for (const auto& field : out.response) {
      res.headers.emplace_back(core::to_lower(field.name_string()), std::string(field.value()));
    }
    return res;
  } catch (const std::exception& e) {
    return query_error(core::Code::kInternal, target, e.what());
  }
}

std::string encode_path(std::string_view path) {
  return percent_encode(path, true);
}

std::string encode_query_component(std::string_view text) {
  return percent_encode(text, false);
}

std::string encode_query(QueryParams params) {
  if (params.empty()) return "";
  std::stable_sort(params.begin(), params.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out = "?";
  for (const auto& [k, v] : params) {
    if (out.size() > 1) out += '&';
    out += encode_query_component(k) + "=" + encode_query_component(v);
  }
  return out;
}

std::string kv_path(std::string_view key) {
  return "/v1/kv/" + encode_path(key);
}

}  // namespace pc::cli
