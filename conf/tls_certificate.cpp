#include "conf/tls_certificate.hpp"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>

namespace svcproxy::conf {
namespace {

template <auto Free>
struct Deleter {
  template <class T>
  void operator()(T* pointer) const {
    Free(pointer);
  }
};
using Bio = std::unique_ptr<BIO, Deleter<BIO_free>>;
using Certificate = std::unique_ptr<X509, Deleter<X509_free>>;
using Key = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using Names = std::unique_ptr<GENERAL_NAMES, Deleter<GENERAL_NAMES_free>>;

Bio memory(const std::string& text) {
  return Bio(BIO_new_mem_buf(text.data(), static_cast<int>(text.size())));
}

std::string openssl_reason() {
  return openssl_error_text("no PEM block found");
}

std::vector<std::string> dns_names_of(X509* certificate) {
  std::vector<std::string> names;
  Names alt(static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(certificate, NID_subject_alt_name, nullptr, nullptr)));
  for (int i = 0; alt && i < sk_GENERAL_NAME_num(alt.get()); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(alt.get(), i);
    if (name->type != GEN_DNS) continue;
    const ASN1_IA5STRING* text = name->d.dNSName;
    names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(text)),
                       static_cast<std::size_t>(ASN1_STRING_length(text)));
  }
  if (!names.empty()) return names;
  // RFC 6125 6.4.4: the CN only when the certificate has no DNS subjectAltName.
  char common_name[256];
  const int length = X509_NAME_get_text_by_NID(X509_get_subject_name(certificate), NID_commonName,
                                               common_name, sizeof common_name);
  if (length > 0) names.emplace_back(common_name, static_cast<std::size_t>(length));
  return names;
}

}  // namespace

std::string openssl_error_text(const char* when_none) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return when_none;
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

namespace {

// Reads the PEM certificates left in `bio`; how many. `clean` is false when one of them
// did not parse (rather than the input simply ending).
int read_remaining_certificates(BIO* bio, bool& clean) {
  int count = 0;
  while (Certificate next{PEM_read_bio_X509(bio, nullptr, nullptr, nullptr)})
    ++count;
  const unsigned long last = ERR_peek_last_error();
  clean = last == 0 ||
          (ERR_GET_LIB(last) == ERR_LIB_PEM && ERR_GET_REASON(last) == PEM_R_NO_START_LINE);
  return count;
}

}  // namespace

std::optional<std::string> check_ca_bundle(const std::string& bundle_pem) {
  ERR_clear_error();
  Bio bundle = memory(bundle_pem);
  bool clean = true;
  const int count = read_remaining_certificates(bundle.get(), clean);
  if (count == 0) return "no PEM certificate could be read: " + openssl_reason();
  if (!clean)
    return "certificate " + std::to_string(count + 1) + " could not be read: " + openssl_reason();
  ERR_clear_error();
  return std::nullopt;
}

namespace {

using OcspResponse = std::unique_ptr<OCSP_RESPONSE, Deleter<OCSP_RESPONSE_free>>;
using OcspBasic = std::unique_ptr<OCSP_BASICRESP, Deleter<OCSP_BASICRESP_free>>;

OcspResponse parse_ocsp(const std::string& der) {
  const auto* data = reinterpret_cast<const unsigned char*>(der.data());
  return OcspResponse(d2i_OCSP_RESPONSE(nullptr, &data, static_cast<long>(der.size())));
}

}  // namespace

std::optional<std::string> check_ocsp_response(const std::string& der) {
  ERR_clear_error();
  const OcspResponse response = parse_ocsp(der);
  if (!response) return "not a DER OCSP response: " + openssl_reason();
  const int status = OCSP_response_status(response.get());
  if (status != OCSP_RESPONSE_STATUS_SUCCESSFUL)
    return std::string("the OCSP response's status is ") + OCSP_response_status_str(status) +
           ", not successful";
  const OcspBasic basic(OCSP_response_get1_basic(response.get()));
  OCSP_SINGLERESP* single = basic ? OCSP_resp_get0(basic.get(), 0) : nullptr;
  if (!single) return "the OCSP response holds no certificate status";
  int reason = 0;
  if (OCSP_single_get0_status(single, &reason, nullptr, nullptr, nullptr) ==
      V_OCSP_CERTSTATUS_REVOKED)
    return "the OCSP response says the certificate is revoked";
  return std::nullopt;
}

long long ocsp_next_update(const std::string& der) {
  const OcspResponse response = parse_ocsp(der);
  const OcspBasic basic(response ? OCSP_response_get1_basic(response.get()) : nullptr);
  OCSP_SINGLERESP* single = basic ? OCSP_resp_get0(basic.get(), 0) : nullptr;
  ASN1_GENERALIZEDTIME* next = nullptr;
  if (!single) return 0;
  OCSP_single_get0_status(single, nullptr, nullptr, nullptr, &next);
  std::tm when{};
  if (!next || ASN1_TIME_to_tm(next, &when) != 1) return 0;
  return static_cast<long long>(timegm(&when));
}

CertificateCheck check_certificate(const std::string& certificate_pem,
                                   const std::string& private_key_pem) {
  CertificateCheck check;
  ERR_clear_error();
  Bio certificates = memory(certificate_pem);
  Certificate leaf(PEM_read_bio_X509(certificates.get(), nullptr, nullptr, nullptr));
  if (!leaf) {
    check.error = "no PEM certificate could be read: " + openssl_reason();
    check.error_key = "tls.crt";
    return check;
  }
  // The rest of the chain must parse too: a truncated intermediate fails clients later.
  bool clean = true;
  read_remaining_certificates(certificates.get(), clean);
  if (!clean) {
    check.error = "a certificate of the chain could not be read: " + openssl_reason();
    check.error_key = "tls.crt";
    return check;
  }
  ERR_clear_error();
  Bio key_text = memory(private_key_pem);
  Key key(PEM_read_bio_PrivateKey(key_text.get(), nullptr, nullptr, nullptr));
  if (!key) {
    check.error =
        "no PEM private key could be read (an encrypted key is not supported): " + openssl_reason();
    check.error_key = "tls.key";
    return check;
  }
  if (X509_check_private_key(leaf.get(), key.get()) != 1) {
    ERR_clear_error();
    check.error = "the private key is not the key of the certificate in tls.crt";
    check.error_key = "tls.key";
    return check;
  }
  check.dns_names = dns_names_of(leaf.get());
  return check;
}

}  // namespace svcproxy::conf
