// TLS from svcproxy to the pods of a Service port with backend TLS (conf::BackendTls):
// the client context (svcproxy's TLS policy, the CA bundle of backend-ca-secret or the
// system's trust store, peer verification always on) and the per-connection session that
// sends the hostname as SNI and checks the pod's certificate is for it, as Gateway API's
// BackendTLSPolicy does. A context is built on the control thread at a reload and shared
// read-only by the workers; a session lives with its pod connection (UpstreamLink) and
// goes into the keep-alive pool with it.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "conf/model.hpp"
#include "server/net/socket_ref.hpp"
#include "server/tls/tls_socket.hpp"

namespace svcproxy::server {

class UpstreamTls {
 public:
  // nullptr with `error` set when the bundle cannot be loaded or the policy is refused.
  // `ca_pem` empty: the system's trust store.
  static std::shared_ptr<const UpstreamTls> make(const std::string& ca_pem, std::string hostname,
                                                 const conf::TlsSettings& settings,
                                                 std::string& error);

  // OpenSSL counts its own references to the context; Asio's streams want it non-const.
  boost::asio::ssl::context& context() const { return context_; }
  const std::string& hostname() const { return hostname_; }

  explicit UpstreamTls(std::string hostname);
  ~UpstreamTls();
  UpstreamTls(const UpstreamTls&) = delete;
  UpstreamTls& operator=(const UpstreamTls&) = delete;

  // The last session a pod (`pod`: the raw bytes of its address) gave, so the next
  // connection to it resumes instead of paying a full handshake (nginx's
  // proxy_ssl_session_reuse): nullptr or a reference the caller frees. A TLS 1.3 session
  // is handed out once (RFC 8446 8.1: a client does not use a ticket twice); its
  // connection brings the next. Only verified handshakes make sessions, and sessions are
  // kept per context, so a resumption never skips a check this context makes.
  SSL_SESSION* session_for(const std::string& pod) const;
  void remember(const std::string& pod, SSL_SESSION* session) const;  // takes it

 private:
  static constexpr std::size_t kMaxSessions = 1024;  // pods per context; then one goes
  mutable boost::asio::ssl::context context_;
  std::string hostname_;
  mutable std::mutex sessions_mutex_;
  mutable std::unordered_map<std::string, SSL_SESSION*> sessions_;
};

// Upstream TLS per route key (discovery::route_key) of the routes that reach pods.
using UpstreamTlsMap = std::unordered_map<std::string, std::shared_ptr<const UpstreamTls>>;
using UpstreamTlsMapPtr = std::shared_ptr<const UpstreamTlsMap>;

using UpstreamTlsStream = BasicTlsSocket<SocketRef>;

// One TLS session to a pod, over the socket of its UpstreamLink.
struct UpstreamTlsSession {
  UpstreamTlsSession(boost::asio::ip::tcp::socket& socket,
                     std::shared_ptr<const UpstreamTls> config, std::string pod);
  ~UpstreamTlsSession();
  UpstreamTlsSession(const UpstreamTlsSession&) = delete;
  UpstreamTlsSession& operator=(const UpstreamTlsSession&) = delete;
  std::string pod;  // the pod's address bytes, the key of its sessions (before `stream`,
                    // which points OpenSSL at it)
  UpstreamTlsStream stream;
  std::shared_ptr<const UpstreamTls> config;  // which context and hostname it was made for
};

// Handshakes a new session on `socket` (connected to the pod at `pod`) within `timeout`,
// resuming the pod's last session when there is one: the session, or nothing with
// `failure` saying why ("certificate verify failed: hostname mismatch").
boost::asio::awaitable<std::unique_ptr<UpstreamTlsSession>> handshake_upstream(
    boost::asio::ip::tcp::socket& socket, const boost::asio::ip::tcp::endpoint& pod,
    const std::shared_ptr<const UpstreamTls>& config, conf::Duration timeout, std::string& failure);

// True when the session holds no bytes OpenSSL read and nobody asked for: it can carry the
// next request after the socket's own idle check.
bool upstream_tls_idle(UpstreamTlsSession& session);

}  // namespace svcproxy::server
