#pragma once
// The byte stream of one HTTP connection: plain TCP, or TLS over it (the HTTPS listener).
// Private to http/server.cc (it pulls in Asio's SSL and Beast): one connection type serves
// both listeners, and the choice is made at run time per connection rather than by
// instantiating the connection coroutines twice.
//
// Models Asio's AsyncReadStream and AsyncWriteStream. Timeouts (expires_after) are the TCP
// stream's, so they bound TLS operations too. Thread-safety: as beast::tcp_stream, on the
// connection's strand.
#include <openssl/ssl.h>

#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <optional>
#include <utility>

namespace pc::http::detail {

class DualStream {
 public:
  using executor_type = boost::beast::tcp_stream::executor_type;

  explicit DualStream(boost::asio::ip::tcp::socket socket) : tcp_(std::move(socket)) {}

  executor_type get_executor() { return tcp_.get_executor(); }
  boost::asio::ip::tcp::socket& socket() { return tcp_.socket(); }
  template <typename Duration>
  void expires_after(Duration d) {
    tcp_.expires_after(d);
  }
  void expires_never() { tcp_.expires_never(); }

  // Turns the stream into a TLS server stream over `ctx` (an SSL_CTX, which the SSL object
  // made here keeps alive by its own reference). The caller then runs tls().async_handshake.
  void start_tls(SSL_CTX* ctx) {
    // asio's context takes ownership of the handle it wraps: give it a reference of its own.
    // Nothing is registered on it (no callbacks or passwords), so its destructor only drops
    // that reference.
    SSL_CTX_up_ref(ctx);
    boost::asio::ssl::context wrapper(ctx);
    tls_.emplace(tcp_, wrapper);
  }
  bool is_tls() const { return tls_.has_value(); }
  boost::asio::ssl::stream<boost::beast::tcp_stream&>& tls() { return *tls_; }

  template <typename Buffers, typename Token>
  auto async_read_some(const Buffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const Buffers& b) {
          if (tls_) {
            tls_->async_read_some(b, std::move(handler));
          } else {
            tcp_.async_read_some(b, std::move(handler));
          }
        },
        token, buffers);
  }

  template <typename Buffers, typename Token>
  auto async_write_some(const Buffers& buffers, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
        [this](auto handler, const Buffers& b) {
          if (tls_) {
            tls_->async_write_some(b, std::move(handler));
          } else {
            tcp_.async_write_some(b, std::move(handler));
          }
        },
        token, buffers);
  }

 private:
  boost::beast::tcp_stream tcp_;
  std::optional<boost::asio::ssl::stream<boost::beast::tcp_stream&>> tls_;
};

}  // namespace pc::http::detail
