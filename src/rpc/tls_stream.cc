#include "rpc/tls_stream.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "core/log.h"
#include "rpc/tls_sniff.h"

namespace pc::rpc {
namespace {

constexpr std::string_view kLogModule = "rpc";
// Bytes read from the inner stream at once: one TLS record's worth.
constexpr std::size_t kInnerReadSize = 16 * 1024 + 512;

core::Error unavailable(std::string message) {
  return core::make_error(core::Code::kUnavailable, std::move(message));
}

// The engine behind TlsStream. It lives in a shared_ptr that the inner stream's callbacks
// hold, so a callback arriving after the outer stream is gone finds it alive.
//
// Invariant: at most one inner read and one inner write are outstanding (inner_reading_,
// inner_writing_), and at most one outer read and one outer write (the Stream contract).
// Every field is guarded by mu_; OpenSSL is only called under it. Outer completions and inner
// operations are started after mu_ is released, so a completion that reenters is safe.
class Engine : public std::enable_shared_from_this<Engine> {
 public:
  enum class Role { kClient, kServerSniff };

  Engine(std::unique_ptr<Stream> inner, std::shared_ptr<const TlsContext> context, Role role,
         std::string peer, std::string server_name = "")
      : inner_(std::move(inner)),
        context_(std::move(context)),
        peer_(std::move(peer)),
        server_name_(server_name.empty() ? context_->server_name() : std::move(server_name)) {
    in_.resize(kInnerReadSize);
    if (role == Role::kClient) {
      start_tls(/*client=*/true);
    } else {
      phase_ = Phase::kSniff;
    }
  }

  ~Engine() {
    if (ssl_ != nullptr) SSL_free(ssl_);
  }

  void read_some(std::span<std::uint8_t> buffer, Stream::Done done) {
    Actions act;
    {
      std::lock_guard lock(mu_);
      read_ = PendingRead{buffer, std::move(done)};
      pump(act);
    }
    act.run(*this);
  }

  void write(std::span<const std::uint8_t> bytes, Stream::Done done) {
    if (bytes.empty()) return done(std::size_t{0});  // SSL_write cannot write nothing
    Actions act;
    {
      std::lock_guard lock(mu_);
      write_ = PendingWrite{bytes, std::move(done)};
      pump(act);
    }
    act.run(*this);
  }

  void close() {
    Actions act;
    {
      std::lock_guard lock(mu_);
      if (!error_) error_ = unavailable("stream closed");
      pump(act);
    }
    act.run(*this);
    inner_->close();
  }

 private:
  enum class Phase { kSniff, kTls, kPlain };

  struct PendingRead {
    std::span<std::uint8_t> buffer;
    Stream::Done done;
  };
  struct PendingWrite {
    std::span<const std::uint8_t> bytes;
    Stream::Done done;
    bool accepted = false;       // handed to SSL_write (or queued as plaintext)
    std::uint64_t flush_to = 0;  // done once out_flushed_ reaches this
  };

  // What pump() decided to do once the lock is released.
  struct Actions {
    std::vector<std::function<void()>> completions;
    bool start_read = false;
    std::string write_bytes;

    void run(Engine& e) {
      for (auto& c : completions) c();
      if (start_read) e.start_inner_read();
      if (!write_bytes.empty()) e.start_inner_write(std::move(write_bytes));
    }
  };

  void start_tls(bool client) {
    phase_ = Phase::kTls;
    ssl_ = SSL_new(client ? context_->client_ctx() : context_->server_ctx());
    BIO* rbio = BIO_new(BIO_s_mem());
    BIO* wbio = BIO_new(BIO_s_mem());
    // An empty read BIO means "more to come", not end of stream.
    BIO_set_mem_eof_return(rbio, -1);
    SSL_set_bio(ssl_, rbio, wbio);
    rbio_ = rbio;
    wbio_ = wbio;
    if (client) {
      SSL_set_connect_state(ssl_);
      if (context_->config().verify_server_hostname && !server_name_.empty()) {
        SSL_set_hostflags(ssl_, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        SSL_set1_host(ssl_, server_name_.c_str());
      }
    } else {
      SSL_set_accept_state(ssl_);
    }
  }

  void fail(Actions& /*act*/, core::Error error) {
    if (!error_) error_ = std::move(error);
  }

  // A handshake or record failure: the first one is logged with its reason.
  void ssl_failed(Actions& act) {
    const bool in_handshake = !SSL_is_init_finished(ssl_);
    std::string reason = tls_failure_reason(ssl_);
    if (in_handshake) {
      core::log::warn(kLogModule, "TLS handshake with {} failed: {}", peer_, reason);
      fail(act, unavailable("TLS handshake with " + peer_ + " failed: " + reason));
    } else {
      fail(act, unavailable("TLS error from " + peer_ + ": " + reason));
    }
    // Send the alert OpenSSL queued, so the peer learns why (best effort).
    pull_output(act);
  }

  void pull_output(Actions& act) {
    if (wbio_ == nullptr || inner_writing_) return;
    const int pending = BIO_ctrl_pending(wbio_);
    if (pending <= 0) return;
    std::string bytes(static_cast<std::size_t>(pending), '\0');
    const int n = BIO_read(wbio_, bytes.data(), pending);
    if (n <= 0) return;
    bytes.resize(static_cast<std::size_t>(n));
    out_pulled_ += bytes.size();
    inner_writing_ = true;
    act.write_bytes = std::move(bytes);
  }

  void complete_read(Actions& act, core::Result<std::size_t> result) {
    auto done = std::move(read_->done);
    read_.reset();
    act.completions.push_back([done = std::move(done), r = std::move(result)]() { done(r); });
  }

  void complete_write(Actions& act, core::Result<std::size_t> result) {
    auto done = std::move(write_->done);
    write_.reset();
    act.completions.push_back([done = std::move(done), r = std::move(result)]() { done(r); });
  }

  // Advances whatever can advance; records completions and inner operations in `act`.
  void pump(Actions& act) {
    bool need_input = false;
    if (!error_ && phase_ == Phase::kSniff && !sniffed_.empty()) decide_sniff(act);
    if (!error_ && phase_ == Phase::kSniff && (read_ || write_)) need_input = true;
    if (!error_ && phase_ == Phase::kPlain) need_input = pump_plain(act);
    if (!error_ && phase_ == Phase::kTls) need_input = pump_tls(act);
    if (error_) {
      if (read_) complete_read(act, *error_);
      if (write_) complete_write(act, *error_);
      return;
    }
    if (need_input && !inner_reading_) {
      if (inner_error_) {
        // The peer is gone; what SSL still wanted will never come.
        fail(act, *inner_error_);
        return pump(act);
      }
      inner_reading_ = true;
      act.start_read = true;
    }
  }

  void decide_sniff(Actions& act) {
    if (classify_first_byte(sniffed_[0]) == FirstByte::kTlsHandshake) {
      start_tls(/*client=*/false);
      BIO_write(rbio_, sniffed_.data(), static_cast<int>(sniffed_.size()));
      sniffed_.clear();
      return;
    }
    if (context_->config().verify_incoming) {
      core::log::warn(kLogModule,
                      "refusing plaintext connection from {}: TLS is required "
                      "(tls.internal_rpc.verify_incoming)",
                      peer_);
      fail(act, unavailable("plaintext connection from " + peer_ + " refused: TLS is required"));
      return;
    }
    phase_ = Phase::kPlain;
    plain_in_ = std::move(sniffed_);
    sniffed_.clear();
  }

  // Plaintext after the sniff: bytes pass through. Returns whether input is wanted.
  bool pump_plain(Actions& act) {
    bool need_input = false;
    if (read_) {
      if (!plain_in_.empty()) {
        const std::size_t n = std::min(plain_in_.size(), read_->buffer.size());
        std::memcpy(read_->buffer.data(), plain_in_.data(), n);
        plain_in_.erase(0, n);
        complete_read(act, n);
      } else if (inner_error_) {
        complete_read(act, *inner_error_);
      } else {
        need_input = true;
      }
    }
    if (write_ && !write_->accepted && !inner_writing_) {
      write_->accepted = true;
      out_pulled_ += write_->bytes.size();
      write_->flush_to = out_pulled_;
      inner_writing_ = true;
      act.write_bytes.assign(reinterpret_cast<const char*>(write_->bytes.data()),
                             write_->bytes.size());
    }
    if (write_ && write_->accepted && out_flushed_ >= write_->flush_to) {
      complete_write(act, write_->bytes.size());
    }
    return need_input;
  }

  // Returns whether OpenSSL wants more input from the peer.
  bool pump_tls(Actions& act) {
    bool need_input = false;
    ERR_clear_error();
    if (write_ && !write_->accepted) {
      const int n = SSL_write(ssl_, write_->bytes.data(), static_cast<int>(write_->bytes.size()));
      if (n > 0) {
        write_->accepted = true;
        write_->flush_to = out_pulled_ + static_cast<std::uint64_t>(BIO_ctrl_pending(wbio_));
      } else {
        const int err = SSL_get_error(ssl_, n);
        if (err == SSL_ERROR_WANT_READ) {
          need_input = true;
        } else {
          ssl_failed(act);
          return false;
        }
      }
    }
    while (read_) {
      const int n = SSL_read(ssl_, read_->buffer.data(), static_cast<int>(read_->buffer.size()));
      if (n > 0) {
        complete_read(act, static_cast<std::size_t>(n));
        break;
      }
      const int err = SSL_get_error(ssl_, n);
      if (err == SSL_ERROR_WANT_READ) {
        need_input = true;
      } else if (err == SSL_ERROR_ZERO_RETURN) {
        complete_read(act, unavailable("end of stream"));
      } else {
        ssl_failed(act);
        return false;
      }
      break;
    }
    pull_output(act);
    if (write_ && write_->accepted && out_flushed_ >= write_->flush_to) {
      complete_write(act, write_->bytes.size());
    }
    return need_input;
  }

  void start_inner_read() {
    auto self = shared_from_this();
    inner_->read_some(std::span(in_.data(), in_.size()),
                      [self](core::Result<std::size_t> r) { self->on_inner_read(std::move(r)); });
  }

  void on_inner_read(core::Result<std::size_t> r) {
    Actions act;
    {
      std::lock_guard lock(mu_);
      inner_reading_ = false;
      if (!r) {
        inner_error_ = r.error();
        if (phase_ == Phase::kTls && !SSL_is_init_finished(ssl_) && !error_) {
          core::log::warn(kLogModule, "TLS handshake with {} failed: connection closed: {}", peer_,
                          r.error().message);
        }
        if (phase_ != Phase::kPlain) fail(act, r.error());
      } else if (phase_ == Phase::kSniff) {
        sniffed_.append(reinterpret_cast<const char*>(in_.data()), *r);
      } else if (phase_ == Phase::kPlain) {
        plain_in_.append(reinterpret_cast<const char*>(in_.data()), *r);
      } else {
        BIO_write(rbio_, in_.data(), static_cast<int>(*r));
      }
      pump(act);
    }
    act.run(*this);
  }

  void start_inner_write(std::string bytes) {
    auto self = shared_from_this();
    auto owned = std::make_shared<std::string>(std::move(bytes));
    inner_->write(std::span(reinterpret_cast<const std::uint8_t*>(owned->data()), owned->size()),
                  [self, owned](core::Result<std::size_t> r) { self->on_inner_write(r, *owned); });
  }

  void on_inner_write(const core::Result<std::size_t>& r, const std::string& bytes) {
    Actions act;
    {
      std::lock_guard lock(mu_);
      inner_writing_ = false;
      if (!r) {
        fail(act, r.error());
      } else {
        out_flushed_ += bytes.size();
      }
      pump(act);
    }
    act.run(*this);
  }

  std::mutex mu_;
  std::unique_ptr<Stream> inner_;
  std::shared_ptr<const TlsContext> context_;
  std::string peer_;
  std::string server_name_;  // what a dialed server's certificate must name
  Phase phase_ = Phase::kTls;
  SSL* ssl_ = nullptr;
  BIO* rbio_ = nullptr;  // owned by ssl_
  BIO* wbio_ = nullptr;  // owned by ssl_
  std::vector<std::uint8_t> in_;
  std::string sniffed_;   // kSniff: bytes read before the first byte was judged
  std::string plain_in_;  // kPlain: bytes read and not yet delivered
  bool inner_reading_ = false;
  bool inner_writing_ = false;
  std::uint64_t out_pulled_ = 0;   // bytes handed to inner writes
  std::uint64_t out_flushed_ = 0;  // of those, bytes the inner stream finished writing
  std::optional<PendingRead> read_;
  std::optional<PendingWrite> write_;
  std::optional<core::Error> error_;        // final: every operation fails with it
  std::optional<core::Error> inner_error_;  // the inner stream's read failed (peer gone)
};

class TlsStream final : public Stream {
 public:
  explicit TlsStream(std::shared_ptr<Engine> engine) : engine_(std::move(engine)) {}
  void read_some(std::span<std::uint8_t> buffer, Done done) override {
    engine_->read_some(buffer, std::move(done));
  }
  void write(std::span<const std::uint8_t> bytes, Done done) override {
    engine_->write(bytes, std::move(done));
  }
  void close() override { engine_->close(); }

 private:
  std::shared_ptr<Engine> engine_;
};

}  // namespace

std::unique_ptr<Stream> tls_client_stream(std::unique_ptr<Stream> inner,
                                          std::shared_ptr<const TlsContext> context,
                                          const std::string& peer, const std::string& server_name) {
  return std::make_unique<TlsStream>(std::make_shared<Engine>(
      std::move(inner), std::move(context), Engine::Role::kClient, peer, server_name));
}

std::unique_ptr<Stream> tls_server_stream(std::unique_ptr<Stream> inner,
                                          std::shared_ptr<const TlsContext> context,
                                          const std::string& peer) {
  return std::make_unique<TlsStream>(std::make_shared<Engine>(std::move(inner), std::move(context),
                                                              Engine::Role::kServerSniff, peer));
}

StreamWrapper make_tls_wrapper(std::shared_ptr<TlsContextHolder> holder) {
  return make_tls_wrapper(std::move(holder), nullptr);
}

StreamWrapper make_tls_wrapper(std::shared_ptr<TlsContextHolder> holder, ServerNameFn server_name) {
  return [holder = std::move(holder), server_name = std::move(server_name)](
             std::unique_ptr<Stream> stream, bool client,
             const std::string& peer) -> core::Result<std::unique_ptr<Stream>> {
    std::shared_ptr<const TlsContext> context = holder->current();
    if (context && client && context->config().verify_outgoing) {
      return tls_client_stream(std::move(stream), std::move(context), peer,
                               server_name ? server_name(peer) : std::string());
    }
    if (context && !client && context->can_serve()) {
      return tls_server_stream(std::move(stream), std::move(context), peer);
    }
    return core::Result<std::unique_ptr<Stream>>(std::move(stream));
  };
}

}  // namespace pc::rpc
