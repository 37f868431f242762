// What a TLS port of a Service serves: one OpenSSL context per Secret, all with the same
// policy (TLS 1.2+ or 1.3 only, Mozilla "intermediate" ciphers and curves, no
// renegotiation, no compression, ALPN http/1.1), the first as the default and the others
// chosen by SNI (sni_match). Built on the control thread at a reload, then shared,
// read-only, by every worker's listeners for that port: OpenSSL contexts are safe to use
// from many threads once set up, and one context's session cache and ticket keys serve
// every worker, so a session resumes whichever worker takes the next connection.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <vector>

#include "conf/model.hpp"

namespace svcproxy::server {

class TlsTerminator {
 public:
  // nullptr with `error` set when a context cannot be made (a cipher list OpenSSL refuses,
  // a certificate it cannot load).
  static std::shared_ptr<TlsTerminator> make(const std::vector<const conf::TlsSecret*>& secrets,
                                             bool strict_sni, const conf::TlsSettings& settings,
                                             std::string& error);

  // The default context, which new connections start with (SNI may switch it).
  boost::asio::ssl::context& context() { return *contexts_.front(); }

  TlsTerminator(const TlsTerminator&) = delete;
  TlsTerminator& operator=(const TlsTerminator&) = delete;

 private:
  TlsTerminator() = default;
  static int on_server_name(SSL* ssl, int* alert, void* self);

  // A Secret's tls.ocsp, stapled while it is valid (the status callback's argument).
  struct OcspStaple {
    std::string der;
    long long next_update = 0;  // time_t; 0: none given
  };
  static int staple_ocsp(SSL* ssl, void* staple);

  std::vector<std::unique_ptr<boost::asio::ssl::context>> contexts_;
  std::vector<std::unique_ptr<OcspStaple>> staples_;
  std::vector<std::vector<std::string>> names_;
  bool strict_sni_ = false;
};

// Mozilla's "intermediate" TLS 1.2 ciphers (ECDHE only: no DHE parameters to keep), its
// TLS 1.3 suites and its key-exchange groups: svcproxy's TLS policy on either side.
extern const char* const kIntermediateCiphers;
extern const char* const kTls13Ciphers;
extern const char* const kTlsGroups;

// svcproxy's TLS policy on a context, either side: the versions (ProxyConfig tls), no
// compression or renegotiation, the ciphers, TLS 1.3 suites and groups. False, with
// `error` set, when OpenSSL refuses a list.
bool apply_protocol_policy(SSL_CTX* native, const conf::TlsSettings& settings, std::string& error);

}  // namespace svcproxy::server
