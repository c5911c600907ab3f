// Probe tests, hermetic: every peer is a listener on 127.0.0.1 port 0 made here (a scripted
// HTTP responder thread, a TLS one with a certificate generated in the test, a closed port,
// a listener that never answers, one whose accept queue is full), and scripts run /bin/sh.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "agent/checks/probe.h"

namespace pc::agent {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// A peer that resets a connection must not kill the test binary; the script probe resets
// SIGPIPE to its default for children (ScriptChildGetsDefaultSigpipe checks that).
const bool kSigpipeIgnored = [] {
  ::signal(SIGPIPE, SIG_IGN);
  return true;
}();

// A listening TCP socket on 127.0.0.1 (or ::1) with a kernel-chosen port; never accepts.
class Listener {
 public:
  explicit Listener(int backlog = 16, bool ipv6 = false) {
    fd_ = ::socket(ipv6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (ipv6) {
      auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
      in6->sin6_family = AF_INET6;
      in6->sin6_addr = in6addr_loopback;
      len = sizeof(sockaddr_in6);
    } else {
      auto* in = reinterpret_cast<sockaddr_in*>(&ss);
      in->sin_family = AF_INET;
      in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      len = sizeof(sockaddr_in);
    }
    ok_ = ::bind(fd_, reinterpret_cast<sockaddr*>(&ss), len) == 0 && ::listen(fd_, backlog) == 0;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&ss), &len);
    port_ = ntohs(ipv6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                       : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
  }
  ~Listener() { close(); }
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  bool ok() const { return ok_; }
  int fd() const { return fd_; }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
  bool ok_ = false;
};

// A port nothing listens on: bound, then closed.
int closed_port() {
  Listener l;
  return l.port();
}

std::string http_response(int status, std::string_view reason, std::string_view body,
                          std::string_view extra_headers = "") {
  std::ostringstream out;
  out << "HTTP/1.1 " << status << " " << reason << "\r\nContent-Length: " << body.size()
      << "\r\nConnection: close\r\n"
      << extra_headers << "\r\n"
      << body;
  return out.str();
}

// A blocking HTTP/1.1 responder on its own thread, one request per connection, optionally
// over TLS. The handler maps the raw request (head and body) to the raw response; an empty
// response closes the connection without a word.
class HttpServer {
 public:
  using Handler = std::function<std::string(const std::string& request)>;

  explicit HttpServer(Handler handler, SSL_CTX* tls = nullptr)
      : handler_(std::move(handler)), tls_(tls), thread_([this] { serve(); }) {}
  ~HttpServer() {
    ::shutdown(listener_.fd(), SHUT_RDWR);  // wakes accept()
    thread_.join();
  }

  int port() const { return listener_.port(); }
  std::string url(std::string_view path) const {
    return std::string(tls_ ? "https" : "http") + "://127.0.0.1:" + std::to_string(port()) +
           std::string(path);
  }
  std::vector<std::string> requests() const {
    std::lock_guard lock(mu_);
    return requests_;
  }

 private:
  void serve() {
    for (;;) {
      int fd = ::accept4(listener_.fd(), nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) {
        if (errno == EINTR || errno == ECONNABORTED) continue;
        return;
      }
      timeval tv{2, 0};
      ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
      handle(fd);
      ::close(fd);
    }
  }

  void handle(int fd) {
    SSL* ssl = nullptr;
    if (tls_ != nullptr) {
      ssl = SSL_new(tls_);
      SSL_set_fd(ssl, fd);
      if (SSL_accept(ssl) != 1) {  // e.g. the client rejected our certificate
        SSL_free(ssl);
        return;
      }
    }
    auto recv_some = [&](char* buf, int n) {
      return ssl ? SSL_read(ssl, buf, n) : static_cast<int>(::recv(fd, buf, n, 0));
    };
    std::string request = read_request(recv_some);
    {
      std::lock_guard lock(mu_);
      requests_.push_back(request);
    }
    std::string response = handler_(request);
    if (ssl != nullptr) {
      if (!response.empty()) SSL_write(ssl, response.data(), static_cast<int>(response.size()));
      SSL_shutdown(ssl);
      SSL_free(ssl);
    } else if (!response.empty()) {
      ::send(fd, response.data(), response.size(), MSG_NOSIGNAL);
    }
  }

  template <typename Recv>
  static std::string read_request(Recv& recv_some) {
    std::string data;
    char buf[4096];
    std::size_t head_end = std::string::npos;
    std::size_t want = std::string::npos;
    while (want == std::string::npos || data.size() < want) {
      int n = recv_some(buf, sizeof(buf));
      if (n <= 0) break;
      data.append(buf, static_cast<std::size_t>(n));
      if (head_end == std::string::npos &&
          (head_end = data.find("\r\n\r\n")) != std::string::npos) {
        want = head_end + 4 + content_length(data.substr(0, head_end));
      }
    }
    return data;
  }

  static std::size_t content_length(const std::string& head) {
    std::string lower = head;
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto at = lower.find("\r\ncontent-length:");
    return at == std::string::npos ? 0 : std::stoul(head.substr(at + 17));
  }

  Listener listener_;
  Handler handler_;
  SSL_CTX* tls_;
  mutable std::mutex mu_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

std::string path_of(const std::string& request) {
  auto sp1 = request.find(' ');
  auto sp2 = request.find(' ', sp1 + 1);
  return request.substr(sp1 + 1, sp2 - sp1 - 1);
}

bool has_line(const std::string& request, const std::string& line) {
  return request.find("\r\n" + line + "\r\n") != std::string::npos;
}

HttpProbeSpec spec_for(std::string url, core::Duration timeout = 2s) {
  HttpProbeSpec spec;
  spec.url = std::move(url);
  spec.timeout = timeout;
  return spec;
}

// --- HTTP -----------------------------------------------------------------------------------

TEST(HttpProbe, Passing200WithConsulOutput) {
  HttpServer server([](const std::string&) { return http_response(200, "OK", "hello"); });
  auto r = probe_http(spec_for(server.url("/health")));
  EXPECT_EQ(r.status, "passing");
  EXPECT_EQ(r.output, "HTTP GET " + server.url("/health") + ": 200 OK Output: hello");
}

TEST(HttpProbe, SendsConsulDefaultHeaders) {
  HttpServer server([](const std::string&) { return http_response(200, "OK", ""); });
  auto r = probe_http(spec_for(server.url("/v1/ping?verbose=1#frag")));
  ASSERT_EQ(r.status, "passing") << r.output;
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 1u);
  const std::string& req = reqs[0];
  EXPECT_EQ(req.rfind("GET /v1/ping?verbose=1 HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_TRUE(has_line(req, "User-Agent: Consul Health Check")) << req;
  EXPECT_TRUE(has_line(req, "Accept: text/plain, text/*, */*")) << req;
  EXPECT_TRUE(has_line(req, "Host: 127.0.0.1:" + std::to_string(server.port()))) << req;
  EXPECT_TRUE(has_line(req, "Connection: close")) << req;
  EXPECT_EQ(req.find("Content-Length"), std::string::npos) << req;
}

TEST(HttpProbe, HeaderMapMethodAndBody) {
  HttpServer server([](const std::string&) { return http_response(201, "Created", "made"); });
  auto spec = spec_for(server.url("/"));
  spec.method = "POST";
  spec.body = "{\"ping\":1}";
  spec.header = {{"user-agent", {"probe/1"}},
                 {"X-Multi", {"a", "b"}},
                 {"Host", {"svc.internal"}},
                 {"Accept", {""}}};
  auto r = probe_http(spec);
  EXPECT_EQ(r.status, "passing");
  EXPECT_EQ(r.output, "HTTP POST " + server.url("/") + ": 201 Created Output: made");
  auto req = server.requests().at(0);
  EXPECT_EQ(req.rfind("POST / HTTP/1.1\r\n", 0), 0u) << req;
  EXPECT_TRUE(has_line(req, "user-agent: probe/1")) << req;
  EXPECT_EQ(req.find("Consul Health Check"), std::string::npos) << req;
  EXPECT_TRUE(has_line(req, "X-Multi: a")) << req;
  EXPECT_TRUE(has_line(req, "X-Multi: b")) << req;
  EXPECT_TRUE(has_line(req, "Host: svc.internal")) << req;
  EXPECT_TRUE(has_line(req, "Accept: text/plain, text/*, */*")) << req;  // "" counts as unset
  EXPECT_TRUE(has_line(req, "Content-Length: 10")) << req;
  EXPECT_EQ(req.substr(req.size() - 10), "{\"ping\":1}");
}

TEST(HttpProbe, StatusMapsToHealth) {
  struct Case {
    int code;
    const char* reason;
    const char* want;
  };
  for (const Case& c :
       {Case{200, "OK", "passing"}, Case{204, "No Content", "passing"},
        Case{299, "Whatever", "passing"}, Case{429, "Too Many Requests", "warning"},
        Case{404, "Not Found", "critical"}, Case{500, "Internal Server Error", "critical"},
        Case{503, "Service Unavailable", "critical"}}) {
    HttpServer server([&](const std::string&) { return http_response(c.code, c.reason, "x"); });
    auto r = probe_http(spec_for(server.url("/")));
    EXPECT_EQ(r.status, c.want) << c.code;
    EXPECT_NE(r.output.find(": " + std::to_string(c.code) + " " + c.reason + " Output: "),
              std::string::npos)
        << r.output;
  }
}

TEST(HttpProbe, BodyKeepsItsLastBytes) {
  std::string body;
  for (int i = 0; body.size() < 10000; ++i) body += std::to_string(i) + ",";
  HttpServer server([&](const std::string&) { return http_response(200, "OK", body); });
  auto r = probe_http(spec_for(server.url("/big")));
  EXPECT_EQ(r.status, "passing");
  std::string prefix = "HTTP GET " + server.url("/big") + ": 200 OK Output: ";
  EXPECT_EQ(r.output, prefix + body.substr(body.size() - probe_output_size_default));

  auto spec = spec_for(server.url("/big"));
  spec.output_size_max = 16;
  r = probe_http(spec);
  EXPECT_EQ(r.output, prefix + body.substr(body.size() - 16));
}

TEST(HttpProbe, ReadsChunkedBodiesAndSkipsInterimResponses) {
  HttpServer server([](const std::string&) {
    return std::string(
        "HTTP/1.1 100 Continue\r\n\r\n"
        "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n");
  });
  auto r = probe_http(spec_for(server.url("/")));
  EXPECT_EQ(r.status, "passing");
  EXPECT_EQ(r.output, "HTTP GET " + server.url("/") + ": 200 OK Output: hello world");
}

TEST(HttpProbe, BodyEndingWithTheConnection) {
  HttpServer server([](const std::string&) {
    return std::string("HTTP/1.0 503 Service Unavailable\r\n\r\ndraining");
  });
  auto r = probe_http(spec_for(server.url("/")));
  EXPECT_EQ(r.status, "critical");
  EXPECT_EQ(r.output, "HTTP GET " + server.url("/") + ": 503 Service Unavailable Output: draining");
}

TEST(HttpProbe, HeadHasNoBody) {
  HttpServer server([](const std::string&) {
    return std::string("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
  });
  auto spec = spec_for(server.url("/"));
  spec.method = "HEAD";
  auto r = probe_http(spec);
  EXPECT_EQ(r.status, "passing");
  EXPECT_EQ(r.output, "HTTP HEAD " + server.url("/") + ": 200 OK Output: ");
}

TEST(HttpProbe, FollowsRedirectsAsGoDoes) {
  HttpServer server([](const std::string& req) {
    std::string path = path_of(req);
    if (path == "/a") return http_response(302, "Found", "", "Location: /b\r\n");
    if (path == "/b") return http_response(307, "Temporary Redirect", "", "Location: c\r\n");
    return http_response(200, "OK", "at " + path);
  });
  auto spec = spec_for(server.url("/a"));
  spec.method = "PUT";
  spec.body = "data";
  auto r = probe_http(spec);
  EXPECT_EQ(r.status, "passing");
  // Consul reports the configured URL and method, and the last response.
  EXPECT_EQ(r.output, "HTTP PUT " + server.url("/a") + ": 200 OK Output: at /c");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].rfind("PUT /a ", 0), 0u);
  EXPECT_EQ(reqs[0].substr(reqs[0].size() - 4), "data");
  EXPECT_EQ(reqs[1].rfind("GET /b ", 0), 0u) << "302 turns PUT into GET";
  EXPECT_EQ(reqs[1].find("data"), std::string::npos);
  EXPECT_EQ(reqs[2].rfind("GET /c ", 0), 0u) << "307 keeps the method";
}

TEST(HttpProbe, RedirectKeepsMethodAndBodyOn307) {
  HttpServer server([](const std::string& req) {
    if (path_of(req) == "/a")
      return http_response(308, "Permanent Redirect", "", "Location: /b\r\n");
    return http_response(200, "OK", "");
  });
  auto spec = spec_for(server.url("/a"));
  spec.method = "POST";
  spec.body = "data";
  EXPECT_EQ(probe_http(spec).status, "passing");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].rfind("POST /b ", 0), 0u);
  EXPECT_EQ(reqs[1].substr(reqs[1].size() - 4), "data");
}

TEST(HttpProbe, DisableRedirectsReportsTheRedirect) {
  HttpServer server([](const std::string&) {
    return http_response(302, "Found", "moved", "Location: /elsewhere\r\n");
  });
  auto spec = spec_for(server.url("/"));
  spec.disable_redirects = true;
  auto r = probe_http(spec);
  EXPECT_EQ(r.status, "critical");
  EXPECT_EQ(r.output, "HTTP GET " + server.url("/") + ": 302 Found Output: moved");
  EXPECT_EQ(server.requests().size(), 1u);
}

TEST(HttpProbe, StopsAfterTenRedirects) {
  HttpServer server([](const std::string& req) {
    int n = std::stoi(path_of(req).substr(1));
    return http_response(302, "Found", "", "Location: /" + std::to_string(n + 1) + "\r\n");
  });
  auto r = probe_http(spec_for(server.url("/0")));
  EXPECT_EQ(r.status, "critical");
  EXPECT_EQ(r.output, "Get \"" + server.url("/10") + "\": stopped after 10 redirects");
  EXPECT_EQ(server.requests().size(), 11u);
}

TEST(HttpProbe, ConnectionRefused) {
  int port = closed_port();
  std::string url = "http://127.0.0.1:" + std::to_string(port) + "/health";
  auto r = probe_http(spec_for(url));
  EXPECT_EQ(r.status, "critical");
  EXPECT_EQ(r.output, "Get \"" + url + "\": dial tcp 127.0.0.1:" + std::to_string(port) +
                          ": connect: connection refused");
}

TEST(HttpProbe, TimesOutWhenNobodyAnswers) {
  Listener silent;  // the kernel completes the handshake; nobody ever reads or writes
  std::string url = "http://127.0.0.1:" + std::to_string(silent.port()) + "/";
  auto start = Clock::now();
  auto r = probe_http(spec_for(url, 300ms));
  auto elapsed = Clock::now() - start;
  EXPECT_EQ(r.status, "critical");
  EXPECT_EQ(r.output, "Get \"" + url +
                          "\": context deadline exceeded (Client.Timeout exceeded while awaiting "
                          "headers)");
  EXPECT_GE(elapsed, 290ms);
  EXPECT_LT(elapsed, 1500ms);
}

TEST(HttpProbe, SlowBodyStillReportsTheStatus) {
  Listener l;
  std::thread peer([&] {
    int fd = ::accept(l.fd(), nullptr, nullptr);
    std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial";
    ::send(fd, head.data(), head.size(), MSG_NOSIGNAL);
    std::this_thread::sleep_for(600ms);  // never sends the rest
    ::close(fd);
  });
  std::string url = "http://127.0.0.1:" + std::to_string(l.port()) + "/";
  auto r = probe_http(spec_for(url, 300ms));
  peer.join();
  EXPECT_EQ(r.status, "passing");
  EXPECT_EQ(r.output, "HTTP GET " + url + ": 200 OK Output: partial");
}

TEST(HttpProbe, PeerClosingWithoutResponseIsEof) {
  HttpServer server([](const std::string&) { return std::string(); });
  auto r = probe_http(spec_for(server.url("/")));
  EXPECT_EQ(r.status, "critical");
  EXPECT_EQ(r.output, "Get \"" + server.url("/") + "\": EOF");
}

TEST(HttpProbe, GarbageResponseIsCritical) {
  HttpServer server([](const std::string&) { return std::string("SSH-2.0-OpenSSH\r\n\r\n"); });
  auto r = probe_http(spec_for(server.url("/")));
  EXPECT_EQ(r.status, "critical");
  EXPECT_NE(r.output.find("malformed HTTP response"), std::string::npos) << r.output;
}

TEST(HttpProbe, BadInputIsCriticalWithAClearText) {
  struct Case {
    std::string url;
    std::string method;
    std::string want;
  };
  std::vector<Case> cases = {
      {"", "GET", "Get \"\": unsupported protocol scheme \"\""},
      {"/health", "GET", "Get \"/health\": unsupported protocol scheme \"\""},
      {"not a url", "GET", "parse \"not a url\": invalid URL"},
      {"127.0.0.1:8080/health", "GET", "parse \"127.0.0.1:8080/health\": invalid URL"},
      {"localhost:8080/health", "GET", "unsupported protocol scheme \"localhost\""},
      {"ftp://127.0.0.1/x", "GET",
       "Get \"ftp://127.0.0.1/x\": unsupported protocol scheme \"ftp\""},
      {"http:///nohost", "GET", "Get \"http:///nohost\": http: no Host in request URL"},
      {"http://[::1/", "GET", "parse \"http://[::1/\": invalid URL"},
      {"http://127.0.0.1:1/", "GE T", "net/http: invalid method \"GE T\""},
      {"http://127.0.0.1:99999/", "GET", "invalid port"},
  };
  for (const auto& c : cases) {
    auto spec = spec_for(c.url, 300ms);
    spec.method = c.method;
    auto r = probe_http(spec);
    EXPECT_EQ(r.status, "critical") << c.url;
    EXPECT_NE(r.output.find(c.want), std::string::npos) << c.url << " -> " << r.output;
  }
}

TEST(HttpProbe, RejectsHeaderInjection) {
  HttpServer server([](const std::string&) { return http_response(200, "OK", ""); });
  auto spec = spec_for(server.url("/"));
  spec.header = {{"X-Evil", {"a\r\nInjected: yes"}}};
  auto r = probe_http(spec);
  EXPECT_EQ(r.status, "critical");
  EXPECT_EQ(r.output,
            "Get \"" + server.url("/") + "\": net/http: invalid header field value for \"X-Evil\"");
  spec.header = {{"Bad Name", {"v"}}};
  r = probe_http(spec);
  EXPECT_EQ(r.status, "critical");
  EXPECT_NE(r.output.find("invalid header field name \"Bad Name\""), std::string::npos);
  EXPECT_TRUE(server.requests().empty());
}

TEST(HttpProbe, UserinfoIsBasicAuthAndHiddenInErrors) {
  HttpServer server([](const std::string&) { return http_response(200, "OK", ""); });
  std::string url = "http://user:secret@127.0.0.1:" + std::to_string(server.port()) + "/";
  EXPECT_EQ(probe_http(spec_for(url)).status, "passing");
  EXPECT_TRUE(has_line(server.requests().at(0), "Authorization: Basic dXNlcjpzZWNyZXQ="));

  int port = closed_port();
  auto r = probe_http(spec_for("http://user:secret@127.0.0.1:" + std::to_string(port) + "/"));
  EXPECT_EQ(r.status, "critical");
  EXPECT_EQ(r.output.find("secret"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("user:***@"), std::string::npos) << r.output;
}

// --- HTTPS ----------------------------------------------------------------------------------

// A self-signed P-256 certificate for IP 127.0.0.1 and DNS localhost, and a server context.
class TestTls {
 public:
  TestTls() {
    key_ = EVP_EC_gen("P-256");
    cert_ = X509_new();
    X509_set_version(cert_, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert_), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert_), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert_), 3600);
    X509_set_pubkey(cert_, key_);
    X509_NAME* name = X509_get_subject_name(cert_);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("probe test"), -1, -1, 0);
    X509_set_issuer_name(cert_, name);
    X509V3_CTX v3;
    X509V3_set_ctx_nodb(&v3);
    X509V3_set_ctx(&v3, cert_, cert_, nullptr, nullptr, 0);
    X509_EXTENSION* san =
        X509V3_EXT_conf_nid(nullptr, &v3, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost");
    X509_add_ext(cert_, san, -1);
    X509_EXTENSION_free(san);
    X509_sign(cert_, key_, EVP_sha256());
    server_ = SSL_CTX_new(TLS_server_method());
    SSL_CTX_use_certificate(server_, cert_);
    SSL_CTX_use_PrivateKey(server_, key_);
    ca_file_ = ::testing::TempDir() + "probe_test_ca_" + std::to_string(::getpid()) + ".pem";
    FILE* f = std::fopen(ca_file_.c_str(), "w");
    PEM_write_X509(f, cert_);
    std::fclose(f);
  }
  ~TestTls() {
    std::remove(ca_file_.c_str());
    SSL_CTX_free(server_);
    X509_free(cert_);
    EVP_PKEY_free(key_);
  }
  TestTls(const TestTls&) = delete;
  TestTls& operator=(const TestTls&) = delete;

  bool ok() const { return key_ != nullptr && cert_ != nullptr && server_ != nullptr; }
  SSL_CTX* server_ctx() const { return server_; }
  const std::string& ca_file() const { return ca_file_; }

 private:
  EVP_PKEY* key_ = nullptr;
  X509* cert_ = nullptr;
  SSL_CTX* server_ = nullptr;
  std::string ca_file_;
};

TEST(HttpsProbe, SelfSignedFailsVerification) {
  TestTls tls;
  ASSERT_TRUE(tls.ok());
  HttpServer server([](const std::string&) { return http_response(200, "OK", "tls"); },
                    tls.server_ctx());
  auto r = probe_http(spec_for(server.url("/")));
  EXPECT_EQ(r.status, "critical");
  EXPECT_EQ(r.output.rfind(
                "Get \"" + server.url("/") + "\": tls: failed to verify certificate: x509: ", 0),
            0u)
      << r.output;
}

TEST(HttpsProbe, SkipVerifyPasses) {
  TestTls tls;
  ASSERT_TRUE(tls.ok());
  HttpServer server([](const std::string&) { return http_response(200, "OK", "tls"); },
                    tls.server_ctx());
  auto spec = spec_for(server.url("/"));
  spec.tls_skip_verify = true;
  auto r = probe_http(spec);
  EXPECT_EQ(r.status, "passing") << r.output;
  EXPECT_EQ(r.output, "HTTP GET " + server.url("/") + ": 200 OK Output: tls");
}

TEST(HttpsProbe, VerifiesAgainstAConfiguredCa) {
  TestTls tls;
  ASSERT_TRUE(tls.ok());
  HttpServer server([](const std::string&) { return http_response(200, "OK", "tls"); },
                    tls.server_ctx());
  auto spec = spec_for(server.url("/"));
  spec.ca_file = tls.ca_file();
  auto r = probe_http(spec);
  EXPECT_EQ(r.status, "passing") << r.output;

  spec.url = "https://localhost:" + std::to_string(server.port()) + "/";  // DNS SAN
  r = probe_http(spec);
  EXPECT_EQ(r.status, "passing") << r.output;

  spec.tls_server_name = "other.example";  // not in the certificate
  r = probe_http(spec);
  EXPECT_EQ(r.status, "critical");
  EXPECT_NE(r.output.find("tls: failed to verify certificate"), std::string::npos) << r.output;

  spec.ca_file = "/nonexistent/ca.pem";
  r = probe_http(spec);
  EXPECT_EQ(r.status, "critical");
  EXPECT_NE(r.output.find("loading CA file /nonexistent/ca.pem"), std::string::npos) << r.output;
}

TEST(HttpsProbe, HttpsToAPlainServerFailsFast) {
  Listener l;
  std::thread peer([&] {
    int fd = ::accept(l.fd(), nullptr, nullptr);
    char buf[1024];
    (void)::recv(fd, buf, sizeof(buf), 0);  // the ClientHello, read as a garbled request
    std::string reply = "HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n";
    ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
    ::close(fd);
  });
  auto spec = spec_for("https://127.0.0.1:" + std::to_string(l.port()) + "/", 1s);
  auto start = Clock::now();
  auto r = probe_http(spec);
  auto elapsed = Clock::now() - start;
  peer.join();
  EXPECT_EQ(r.status, "critical");
  EXPECT_NE(r.output.find("tls: handshake failed"), std::string::npos) << r.output;
  EXPECT_LT(elapsed, 900ms);
}

// --- TCP ------------------------------------------------------------------------------------

TEST(TcpProbe, ConnectsAndReportsSuccess) {
  Listener l;
  std::string addr = "127.0.0.1:" + std::to_string(l.port());
  auto r = probe_tcp(addr, 500ms);
  EXPECT_EQ(r.status, "passing");
  EXPECT_EQ(r.output, "TCP connect " + addr + ": Success");
}

TEST(TcpProbe, ResolvesNames) {
  Listener l;
  std::string addr = "localhost:" + std::to_string(l.port());
  auto r = probe_tcp(addr, 2s);
  EXPECT_EQ(r.status, "passing") << r.output;
  EXPECT_EQ(r.output, "TCP connect " + addr + ": Success");
}

TEST(TcpProbe, Ipv6Literal) {
  Listener l(16, /*ipv6=*/true);
  if (!l.ok()) GTEST_SKIP() << "no IPv6 loopback here";
  std::string addr = "[::1]:" + std::to_string(l.port());
  EXPECT_EQ(probe_tcp(addr, 500ms).status, "passing");
}

TEST(TcpProbe, RefusedIsCritical) {
  int port = closed_port();
  auto r = probe_tcp("127.0.0.1:" + std::to_string(port), 500ms);
  EXPECT_EQ(r.status, "critical");
  EXPECT_EQ(r.output,
            "dial tcp 127.0.0.1:" + std::to_string(port) + ": connect: connection refused");
}

TEST(TcpProbe, BadAddressesAreCritical) {
  struct Case {
    const char* addr;
    const char* want;
  };
  for (const Case& c :
       {Case{"", "dial tcp: address : missing port in address"},
        Case{"nohostport", "dial tcp: address nohostport: missing port in address"},
        Case{"1:2:3", "dial tcp: address 1:2:3: too many colons in address"},
        Case{"[::1", "dial tcp: address [::1: missing ']' in address"},
        Case{"127.0.0.1:99999", "dial tcp: address 99999: invalid port"},
        Case{"127.0.0.1:nosuchservice", "dial tcp: lookup tcp/nosuchservice: unknown port"}}) {
    auto r = probe_tcp(c.addr, 300ms);
    EXPECT_EQ(r.status, "critical") << c.addr;
    EXPECT_EQ(r.output, c.want) << c.addr;
  }
}

TEST(TcpProbe, TimesOutWhenTheAcceptQueueIsFull) {
  Listener l(/*backlog=*/0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  to.sin_port = htons(static_cast<std::uint16_t>(l.port()));
  // Fill the queue: once it is full the kernel drops further SYNs, so a connect hangs.
  std::vector<int> fillers;
  bool full = false;
  for (int i = 0; i < 16 && !full; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    fillers.push_back(fd);
    ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to));
    pollfd pfd{fd, POLLOUT, 0};
    full = ::poll(&pfd, 1, 100) == 0;
  }
  if (!full) {
    for (int fd : fillers) ::close(fd);
    GTEST_SKIP() << "could not fill the accept queue here";
  }
  std::string addr = "127.0.0.1:" + std::to_string(l.port());
  auto start = Clock::now();
  auto r = probe_tcp(addr, 300ms);
  auto elapsed = Clock::now() - start;
  for (int fd : fillers) ::close(fd);
  EXPECT_EQ(r.status, "critical");
  EXPECT_EQ(r.output, "dial tcp " + addr + ": i/o timeout");
  EXPECT_GE(elapsed, 290ms);
  EXPECT_LT(elapsed, 1000ms);
}

TEST(TcpProbe, UnknownHostIsCriticalWithinTheTimeout) {
  auto start = Clock::now();
  auto r = probe_tcp("nosuchhost.invalid:80", 300ms);
  EXPECT_EQ(r.status, "critical");
  // "no such host" with a resolver that answers, "i/o timeout" with one that does not.
  EXPECT_EQ(r.output.rfind("dial tcp: lookup nosuchhost.invalid: ", 0), 0u) << r.output;
  EXPECT_LT(Clock::now() - start, 1000ms);
}

// --- Script ---------------------------------------------------------------------------------

std::vector<std::string> sh(std::string script) {
  return {"/bin/sh", "-c", std::move(script)};
}

TEST(ScriptProbe, ExitCodesMapToHealth) {
  auto r = probe_script(sh("echo all good"), 2s);
  EXPECT_EQ(r.status, "passing");
  EXPECT_EQ(r.output, "all good\n");
  r = probe_script(sh("echo degraded; exit 1"), 2s);
  EXPECT_EQ(r.status, "warning");
  EXPECT_EQ(r.output, "degraded\n");
  r = probe_script(sh("echo down; exit 2"), 2s);
  EXPECT_EQ(r.status, "critical");
  EXPECT_EQ(r.output, "down\n");
  r = probe_script(sh("exit 255"), 2s);
  EXPECT_EQ(r.status, "critical");
  EXPECT_EQ(r.output, "");
}

TEST(ScriptProbe, ArgsAreNotShellParsed) {
  auto r = probe_script({"/bin/echo", "a  b", "$HOME", "*"}, 2s);
  EXPECT_EQ(r.status, "passing");
  EXPECT_EQ(r.output, "a  b $HOME *\n");
  r = probe_script({"echo", "found", "in", "PATH"}, 2s);
  EXPECT_EQ(r.output, "found in PATH\n");
}

TEST(ScriptProbe, StdoutAndStderrShareOneStream) {
  auto r = probe_script(sh("echo out; echo err 1>&2; echo out2"), 2s);
  EXPECT_EQ(r.status, "passing");
  EXPECT_EQ(r.output, "out\nerr\nout2\n");
}

TEST(ScriptProbe, StdinIsEmpty) {
  auto r = probe_script({"/bin/cat"}, 2s);
  EXPECT_EQ(r.status, "passing");
  EXPECT_EQ(r.output, "");
}

TEST(ScriptProbe, OutputIsCappedLikeConsul) {
  std::string all;
  while (all.size() < 10000) all += "y\n";
  auto r = probe_script(sh("yes | head -c 10000"), 2s);
  EXPECT_EQ(r.status, "passing");
  EXPECT_EQ(r.output, "Captured 4096 of 10000 bytes\n...\n" + all.substr(10000 - 4096));

  r = probe_script(sh("printf 0123456789abcdef; exit 1"), 2s, 10);
  EXPECT_EQ(r.status, "warning");
  EXPECT_EQ(r.output, "Captured 10 of 16 bytes\n...\n6789abcdef");

  r = probe_script(sh("printf 0123456789"), 2s, 10);  // exactly the cap: not truncated
  EXPECT_EQ(r.output, "0123456789");
}

TEST(ScriptProbe, ScriptChildGetsDefaultSigpipe) {
  // This process ignores SIGPIPE; with it inherited, `yes` would print "Broken pipe".
  auto r = probe_script(sh("yes | head -c 4"), 2s);
  EXPECT_EQ(r.status, "passing");
  EXPECT_EQ(r.output, "y\ny\n");
}

TEST(ScriptProbe, TimeoutKillsAndSaysSo) {
  auto start = Clock::now();
  auto r = probe_script(sh("echo started; sleep 5"), 300ms);
  auto elapsed = Clock::now() - start;
  EXPECT_EQ(r.status, "critical");
  EXPECT_EQ(r.output, "Timed out (300ms) running check\n\nstarted\n");
  EXPECT_GE(elapsed, 290ms);
  EXPECT_LT(elapsed, 1000ms);

  r = probe_script({"/bin/sleep", "5"}, 200ms);
  EXPECT_EQ(r.output, "Timed out (200ms) running check");
}

bool process_gone(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  if (!stat) return true;
  std::string line;
  std::getline(stat, line);
  auto close_paren = line.rfind(')');
  return close_paren != std::string::npos && line.size() > close_paren + 2 &&
         (line[close_paren + 2] == 'Z' || line[close_paren + 2] == 'X');
}

TEST(ScriptProbe, KillRunningScriptsEndsEveryRunningProbeAtOnce) {
  ProbeResult result;
  std::atomic<bool> done{false};
  auto start = Clock::now();
  std::thread probe([&] {
    result = probe_script({"sleep", "30"}, 20s);
    done = true;
  });
  // The probe registers its child right after the spawn; keep asking until it has ended.
  while (!done && Clock::now() - start < 5s) {
    kill_running_scripts();
    std::this_thread::sleep_for(20ms);
  }
  probe.join();
  EXPECT_EQ(result.status, kProbeCritical);
  EXPECT_LT(Clock::now() - start, 5s);
  kill_running_scripts();  // nothing left: a no-op
}

TEST(ScriptProbe, TimeoutKillsTheWholeProcessGroup) {
  std::string pid_file = ::testing::TempDir() + "probe_test_pid_" + std::to_string(::getpid());
  // The shell exits at once, but its background child keeps the output pipe open: as with
  // Go's cmd.Wait the probe waits for the pipe, then kills the group at the deadline.
  auto r = probe_script(sh("sleep 5 & echo $! > " + pid_file + "; exit 0"), 300ms);
  EXPECT_EQ(r.status, "critical");
  EXPECT_EQ(r.output, "Timed out (300ms) running check");
  std::ifstream in(pid_file);
  pid_t grandchild = 0;
  in >> grandchild;
  std::remove(pid_file.c_str());
  ASSERT_GT(grandchild, 0);
  auto deadline = Clock::now() + 1s;
  while (!process_gone(grandchild) && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
  EXPECT_TRUE(process_gone(grandchild));
}

TEST(ScriptProbe, SpawnFailuresReadLikeGo) {
  auto r = probe_script({"no-such-command-pc-probe"}, 1s);
  EXPECT_EQ(r.status, "critical");
  EXPECT_EQ(r.output, "exec: \"no-such-command-pc-probe\": executable file not found in $PATH");
  r = probe_script({"/nonexistent/check"}, 1s);
  EXPECT_EQ(r.status, "critical");
  EXPECT_EQ(r.output, "fork/exec /nonexistent/check: no such file or directory");
  r = probe_script({"/dev/null"}, 1s);
  EXPECT_EQ(r.status, "critical");
  EXPECT_EQ(r.output, "fork/exec /dev/null: permission denied");
}

TEST(ScriptProbe, BadArgsAreCritical) {
  auto r = probe_script({}, 1s);
  EXPECT_EQ(r.status, "critical");
  EXPECT_EQ(r.output, "invalid check: Args is empty, nothing to run");
  r = probe_script({"/bin/echo", std::string("a\0b", 3)}, 1s);
  EXPECT_EQ(r.status, "critical");
  EXPECT_EQ(r.output, "fork/exec /bin/echo: invalid argument");
}

TEST(ScriptProbe, KilledBySignalIsCritical) {
  auto r = probe_script(sh("echo bye; kill -9 $$"), 2s);
  EXPECT_EQ(r.status, "critical");
  EXPECT_EQ(r.output, "bye\n");
}

TEST(ScriptProbe, ConcurrentCallsDoNotShareDescriptors) {
  // Long scripts spawned on other threads must not inherit a quick script's pipe, or the
  // quick one would wait for them to end.
  std::atomic<bool> stop{false};
  std::vector<std::thread> slow;
  for (int i = 0; i < 2; ++i) {
    slow.emplace_back([&] {
      while (!stop) probe_script({"/bin/sleep", "0.3"}, 2s);
    });
  }
  std::vector<std::thread> quick;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    quick.emplace_back([&] {
      for (int i = 0; i < 8; ++i) {
        auto start = Clock::now();
        auto r = probe_script({"/bin/echo", "hi"}, 2s);
        if (r.status != "passing" || r.output != "hi\n" || Clock::now() - start > 250ms) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : quick) t.join();
  stop = true;
  for (auto& t : slow) t.join();
  EXPECT_EQ(failures.load(), 0);
}

TEST(ScriptProbe, LeavesNoChildren) {
  (void)probe_script(sh("exit 3"), 1s);
  (void)probe_script(sh("sleep 5"), 100ms);
  (void)probe_script({"no-such-command-pc-probe"}, 1s);
  errno = 0;
  EXPECT_EQ(::waitpid(-1, nullptr, WNOHANG), -1);
  EXPECT_EQ(errno, ECHILD);
}

}  // namespace
}  // namespace pc::agent
