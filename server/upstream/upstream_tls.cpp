#include "server/upstream/upstream_tls.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "conf/tls_certificate.hpp"
#include "server/tls/tls_counters.hpp"
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

// Our own ex_data slots, not the "app data" one: Asio's ssl::context deletes whatever sits
// there as its verify callback when it is destroyed.
int owner_index() {  // SSL_CTX -> its UpstreamTls
  static const int index = SSL_CTX_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}
int pod_index() {  // SSL -> the pod key of its UpstreamTlsSession
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// OpenSSL's new-session callback: a session (TLS 1.2 at the end of the handshake, TLS 1.3
// with each ticket the pod sends after it) is kept for the pod's next connection.
int remember_session(SSL* ssl, SSL_SESSION* session) {
  const auto* tls =
      static_cast<const UpstreamTls*>(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), owner_index()));
  const auto* pod = static_cast<const std::string*>(SSL_get_ex_data(ssl, pod_index()));
  if (tls == nullptr || pod == nullptr || SSL_SESSION_is_resumable(session) != 1) return 0;
  tls->remember(*pod, session);
  return 1;  // the session is ours now
}

std::string pod_key(const tcp::endpoint& pod) {
  return std::string(reinterpret_cast<const char*>(pod.data()), pod.size());
}

}  // namespace

UpstreamTls::UpstreamTls(std::string hostname)
    : context_(asio::ssl::context::tls_client), hostname_(std::move(hostname)) {}

UpstreamTls::~UpstreamTls() {
  for (auto& [pod, session] : sessions_)
    SSL_SESSION_free(session);
}

SSL_SESSION* UpstreamTls::session_for(const std::string& pod) const {
  std::lock_guard lock(sessions_mutex_);
  const auto found = sessions_.find(pod);
  if (found == sessions_.end()) return nullptr;
  SSL_SESSION* session = found->second;
  if (SSL_SESSION_get_protocol_version(session) == TLS1_3_VERSION)
    sessions_.erase(found);  // the caller's reference is the cache's
  else
    SSL_SESSION_up_ref(session);
  return session;
}

void UpstreamTls::remember(const std::string& pod, SSL_SESSION* session) const {
  std::lock_guard lock(sessions_mutex_);
  auto [slot, added] = sessions_.try_emplace(pod, session);
  if (!added) {
    SSL_SESSION_free(slot->second);
    slot->second = session;
  } else if (sessions_.size() > kMaxSessions) {
    auto victim = sessions_.begin() == slot ? std::next(sessions_.begin()) : sessions_.begin();
    SSL_SESSION_free(victim->second);
    sessions_.erase(victim);
  }
}

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
  // Sessions are kept by pod (remember_session), not in OpenSSL's cache, which would
  // offer any of them to any pod.
  SSL_CTX_set_ex_data(native, owner_index(), tls.get());
  SSL_CTX_set_session_cache_mode(native, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(native, remember_session);
  return tls;
}

UpstreamTlsSession::UpstreamTlsSession(tcp::socket& socket,
                                       std::shared_ptr<const UpstreamTls> config_in,
                                       std::string pod_in)
    : pod(std::move(pod_in)),
      stream(SocketRef(socket), config_in->context()),
      config(std::move(config_in)) {
  SSL* ssl = stream.native_handle();
  const std::string& hostname = config->hostname();
  SSL_set_tlsext_host_name(ssl, hostname.c_str());
  SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  SSL_set1_host(ssl, hostname.c_str());
  SSL_set_ex_data(ssl, pod_index(), &pod);
  if (SSL_SESSION* last = config->session_for(pod)) {
    SSL_set_session(ssl, last);  // takes its own reference
    SSL_SESSION_free(last);
  }
}

UpstreamTlsSession::~UpstreamTlsSession() {
  // Pods mostly close without a close_notify (nginx after keepalive_requests, a restart),
  // and svcproxy drops idle pooled connections without one: SSL_free would then mark the
  // session not resumable. Since TLS 1.1 an unclean close need not end a session (RFC 5246
  // 7.2.1), so a session whose handshake finished stays resumable.
  SSL* ssl = stream.native_handle();
  if (SSL_is_init_finished(ssl) == 1)
    SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
}

asio::awaitable<std::unique_ptr<UpstreamTlsSession>> handshake_upstream(
    tcp::socket& socket, const tcp::endpoint& pod, const std::shared_ptr<const UpstreamTls>& config,
    conf::Duration timeout, std::string& failure) {
  auto session = std::make_unique<UpstreamTlsSession>(socket, config, pod_key(pod));
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
  if (!error) {
    SSL* ssl = session->stream.native_handle();
    count_upstream_tls_handshake(tls_version(SSL_get_version(ssl)), SSL_session_reused(ssl) == 1);
    co_return session;
  }
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
