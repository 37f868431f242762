// What svcproxy checks of a kubernetes.io/tls Secret before it serves it: the certificate
// chain and the private key parse as PEM, the key is the leaf certificate's, and which DNS
// names the leaf is for (what SNI is matched against). Pure (OpenSSL's parsers only, no
// context); any thread.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace svcproxy::conf {

struct CertificateCheck {
  std::vector<std::string> dns_names;  // subjectAltName DNS entries, else the subject CN
  // Why the Secret cannot be served, and which key of it is at fault ("tls.crt", "tls.key").
  std::optional<std::string> error;
  std::string error_key;
};

// The oldest error on this thread's OpenSSL error queue as text, the queue then cleared;
// `when_none` when it is empty.
std::string openssl_error_text(const char* when_none);

CertificateCheck check_certificate(const std::string& certificate_pem,
                                   const std::string& private_key_pem);

// Why a `ca.crt` bundle cannot verify anything (no certificate, or one that does not
// parse), or nothing when every PEM block in it is a certificate.
std::optional<std::string> check_ca_bundle(const std::string& bundle_pem);

// Why a `tls.ocsp` value cannot be stapled (not a DER OCSP response, not "successful", no
// single response, or one that says the certificate is revoked), or nothing.
std::optional<std::string> check_ocsp_response(const std::string& der);

// When an OCSP response stops being valid (its nextUpdate, as time_t); 0 when it has none.
long long ocsp_next_update(const std::string& der);

}  // namespace svcproxy::conf
