#include "server/upstream/upstream_tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "conf/tls_certificate.hpp"
#include "server/tls/tls_terminator.hpp"

namespace svcproxy::server {
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

std::string openssl_error() {
  return conf::openssl_error_text("unknown OpenSSL error");
}

// Every certificate of `bundle_pem` into the context's trust store.
bool trust(SSL_CTX* native, const std::string& bundle_pem, std::string& error) {
  BIO* bio = BIO_new_mem_buf(bundle_pem.data(), static_cast<int>(bundle_pem.size()));
  X509_STORE* store = SSL_CTX_get_cert_store(native);
  int added = 0;
  while (X509* certificate = PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)) {
    if (X509_STORE_add_cert(store, certificate) == 1) ++added;
    X509_free(certificate);
  }
  BIO_free(bio);
  ERR_clear_error();  // the end of the bundle reads as an error
  if (added == 0) error = "backend CA bundle: no certificate could be added";
  return added > 0;
}

constexpr unsigned char kAlpnHttp11[] = "\x08http/1.1";

}  // namespace

UpstreamTls::UpstreamTls(std::string hostname)
    : context_(asio::ssl::context::tls_client), hostname_(std::move(hostname)) {}

std::shared_ptr<const UpstreamTls> UpstreamTls::make(const std::string& ca_pem,
                                                     std::string hostname,
                                                     const conf::TlsSettings& settings,
                                                     std::string& error) {
  auto tls = std::make_shared<UpstreamTls>(std::move(hostname));
  SSL_CTX* native = tls->context_.native_handle();
  ERR_clear_error();
  if (!apply_protocol_policy(native, settings, error)) return nullptr;
  // Verification is never off: a pod whose certificate does not chain to the CA, or is not
  // for the hostname, fails the handshake.
  SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
  if (ca_pem.empty()) {
    if (SSL_CTX_set_default_verify_paths(native) != 1) {
      error = "the system's trust store: " + openssl_error();
      return nullptr;
    }
  } else if (!trust(native, ca_pem, error)) {
    return nullptr;
  }
  SSL_CTX_set_alpn_protos(native, kAlpnHttp11, sizeof kAlpnHttp11 - 1);
  return tls;
}

UpstreamTlsSession::UpstreamTlsSession(tcp::socket& socket,
                                       std::shared_ptr<const UpstreamTls> config_in)
    : stream(SocketRef(socket), config_in->context()), config(std::move(config_in)) {
  SSL* ssl = stream.native_handle();
  const std::string& hostname = config->hostname();
  SSL_set_tlsext_host_name(ssl, hostname.c_str());
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  SSL_set1_host(ssl, hostname.c_str());
}

asio::awaitable<std::unique_ptr<UpstreamTlsSession>> handshake_upstream(
    tcp::socket& socket, const std::shared_ptr<const UpstreamTls>& config, conf::Duration timeout,
    std::string& failure) {
  auto session = std::make_unique<UpstreamTlsSession>(socket, config);
  // A callback and a timer, as connect's wait: the handshake is cancelled through the
  // socket when the timer fires first, and both have completed before this returns.
  asio::steady_timer timer(socket.get_executor(), timeout);
  bool done = false;
  boost::system::error_code error;
  session->stream.async_handshake(asio::ssl::stream_base::client,
                                  [&](const boost::system::error_code& result) {
                                    done = true;
                                    error = result;
                                    timer.cancel();
                                  });
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
  if (!done) {
    boost::system::error_code ignored;
    socket.cancel(ignored);
    timer.expires_at(asio::steady_timer::time_point::max());
    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
    failure = "TLS handshake timed out";
    co_return nullptr;
  }
  if (!error) co_return session;
  const long verdict = SSL_get_verify_result(session->stream.native_handle());
  failure = "TLS handshake failed: " + error.message();
  if (verdict != X509_V_OK)
    failure += std::string(" (") + X509_verify_cert_error_string(verdict) +
               (verdict == X509_V_ERR_HOSTNAME_MISMATCH
                    ? ": the certificate is not for " + session->config->hostname()
                    : std::string()) +
               ")";
  ERR_clear_error();
  co_return nullptr;
}

bool upstream_tls_idle(UpstreamTlsSession& session) {
  return SSL_has_pending(session.stream.native_handle()) == 0;
}

}  // namespace svcproxy::server
