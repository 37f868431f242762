#include "server/tls/tls_terminator.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>

#include <boost/asio/buffer.hpp>
#include <cstring>
#include <ctime>

#include "conf/tls_certificate.hpp"
#include "server/tls/sni_match.hpp"
#include "server/tls/ticket_keys.hpp"

namespace svcproxy::server {
namespace asio = boost::asio;

const char* const kIntermediateCiphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

const char* const kTls13Ciphers =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
const char* const kTlsGroups = "X25519:prime256v1:secp384r1";

namespace {

// Session ids are looked up under this context id (any fixed bytes).
constexpr unsigned char kSessionContext[] = "svcproxy";

std::string openssl_error() {
  return conf::openssl_error_text("unknown OpenSSL error");
}

// ALPN: http/1.1 when the client offers it; a client offering only others (h2) gets the
// fatal no_application_protocol alert, as RFC 7301 asks, rather than a protocol it did not
// ask for.
int select_protocol(SSL*, const unsigned char** out, unsigned char* out_length,
                    const unsigned char* offered, unsigned int offered_length, void*) {
  static constexpr unsigned char kHttp11[] = "http/1.1";
  for (unsigned int i = 0; i < offered_length;) {
    const unsigned int length = offered[i];
    if (i + 1 + length > offered_length) break;
    if (length == 8 && std::memcmp(offered + i + 1, kHttp11, 8) == 0) {
      *out = offered + i + 1;
      *out_length = 8;
      return SSL_TLSEXT_ERR_OK;
    }
    i += 1 + length;
  }
  return SSL_TLSEXT_ERR_ALERT_FATAL;
}

bool apply_policy(SSL_CTX* native, const conf::TlsSettings& settings, std::string& error) {
  if (!apply_protocol_policy(native, settings, error)) return false;
  // The server's order (AES-128-GCM first: as safe, and cheaper for both ends than
  // AES-256-GCM with SHA-384, which OpenSSL clients list first), except that a client
  // listing ChaCha20 first (no AES instructions) gets ChaCha20.
  SSL_CTX_set_options(native, SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_PRIORITIZE_CHACHA);
  SSL_CTX_set_session_id_context(native, kSessionContext, sizeof kSessionContext - 1);
  SSL_CTX_set_alpn_select_cb(native, select_protocol, nullptr);
  use_shared_ticket_keys(
      native, std::chrono::duration_cast<std::chrono::seconds>(settings.ticket_key_rotation));
  return true;
}

}  // namespace

bool apply_protocol_policy(SSL_CTX* native, const conf::TlsSettings& settings, std::string& error) {
  SSL_CTX_set_min_proto_version(native,
                                settings.min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION);
  // OpenSSL 3 refuses client-initiated renegotiation by default; this refuses all of it.
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  const std::string ciphers = settings.ciphers.empty() ? kIntermediateCiphers : settings.ciphers;
  if (SSL_CTX_set_cipher_list(native, ciphers.c_str()) != 1) {
    error = "ProxyConfig tls.ciphers \"" + ciphers + "\": " + openssl_error();
    return false;
  }
  if (SSL_CTX_set_ciphersuites(native, kTls13Ciphers) != 1 ||
      SSL_CTX_set1_groups_list(native, kTlsGroups) != 1) {
    error = "TLS policy: " + openssl_error();
    return false;
  }
  return true;
}

std::shared_ptr<TlsTerminator> TlsTerminator::make(
    const std::vector<const conf::TlsSecret*>& secrets, bool strict_sni,
    const conf::TlsSettings& settings, std::string& error) {
  std::shared_ptr<TlsTerminator> terminator(new TlsTerminator());
  terminator->strict_sni_ = strict_sni;
  for (const conf::TlsSecret* secret : secrets) {
    auto context = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    if (!apply_policy(context->native_handle(), settings, error)) return nullptr;
    boost::system::error_code failure;
    context->use_certificate_chain(asio::buffer(secret->certificate_pem), failure);
    if (!failure)
      context->use_private_key(asio::buffer(secret->private_key_pem), asio::ssl::context::pem,
                               failure);
    if (failure) {
      error = "Secret " + secret->key() + ": " + failure.message();
      return nullptr;
    }
    if (!secret->ocsp_der.empty()) {
      auto staple = std::make_unique<OcspStaple>(
          OcspStaple{secret->ocsp_der, conf::ocsp_next_update(secret->ocsp_der)});
      SSL_CTX_set_tlsext_status_cb(context->native_handle(), &TlsTerminator::staple_ocsp);
      SSL_CTX_set_tlsext_status_arg(context->native_handle(), staple.get());
      terminator->staples_.push_back(std::move(staple));
    }
    terminator->names_.push_back(secret->dns_names);
    terminator->contexts_.push_back(std::move(context));
  }
  if (terminator->contexts_.empty()) {
    error = "no Secret to serve";
    return nullptr;
  }
  SSL_CTX* first = terminator->context().native_handle();
  SSL_CTX_set_tlsext_servername_callback(first, &TlsTerminator::on_server_name);
  SSL_CTX_set_tlsext_servername_arg(first, terminator.get());
  return terminator;
}

// Called only for a client that asked for the certificate's status. A response past its
// nextUpdate is not sent: a stale staple is worse than none to a client that checks.
int TlsTerminator::staple_ocsp(SSL* ssl, void* argument) {
  const auto& staple = *static_cast<const OcspStaple*>(argument);
  if (staple.next_update != 0 && std::time(nullptr) >= staple.next_update)
    return SSL_TLSEXT_ERR_NOACK;
  auto* copy = static_cast<unsigned char*>(OPENSSL_malloc(staple.der.size()));
  if (!copy) return SSL_TLSEXT_ERR_NOACK;
  std::memcpy(copy, staple.der.data(), staple.der.size());
  SSL_set_tlsext_status_ocsp_resp(ssl, copy, static_cast<long>(staple.der.size()));
  return SSL_TLSEXT_ERR_OK;
}

int TlsTerminator::on_server_name(SSL* ssl, int* alert, void* self) {
  const auto& terminator = *static_cast<TlsTerminator*>(self);
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  const auto chosen = choose_certificate(terminator.names_, name ? name : "");
  if (!chosen) {
    if (!terminator.strict_sni_) return SSL_TLSEXT_ERR_OK;  // the first certificate
    *alert = SSL_AD_UNRECOGNIZED_NAME;
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  if (*chosen != 0) SSL_set_SSL_CTX(ssl, terminator.contexts_[*chosen]->native_handle());
  return SSL_TLSEXT_ERR_OK;
}

}  // namespace svcproxy::server
