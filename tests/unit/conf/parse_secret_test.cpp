#include <doctest/doctest.h>

#include "conf_test_support.hpp"
#include "tests/unit/test_certificates.hpp"

namespace svcproxy::conf {
namespace {

using testing::load;
using testing::load_ok;
using testing::only_error;

const std::string head = "apiVersion: v1\nkind: Secret\nmetadata: {name: web-tls}\n";

std::string base64(std::string_view text) {
  static const char* digits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  for (std::size_t i = 0; i < text.size(); i += 3) {
    std::uint32_t group = static_cast<unsigned char>(text[i]) << 16;
    if (i + 1 < text.size()) group |= static_cast<unsigned char>(text[i + 1]) << 8;
    if (i + 2 < text.size()) group |= static_cast<unsigned char>(text[i + 2]);
    out += digits[(group >> 18) & 63];
    out += digits[(group >> 12) & 63];
    out += i + 1 < text.size() ? digits[(group >> 6) & 63] : '=';
    out += i + 2 < text.size() ? digits[group & 63] : '=';
  }
  return out;
}

std::string tls_data(std::string_view certificate, std::string_view key) {
  return head + "type: kubernetes.io/tls\ndata:\n  tls.crt: " + base64(certificate) +
         "\n  tls.key: " + base64(key) + "\n";
}

TEST_CASE("a kubernetes.io/tls Secret decodes data and reads the certificate's names") {
  const Snapshot snapshot =
      load_ok(tls_data(svcproxy::testing::kWebCertificate, svcproxy::testing::kWebKey));
  REQUIRE(snapshot.secrets.size() == 1);
  CHECK(snapshot.secrets[0].name == "web-tls");
  CHECK(snapshot.secrets[0].certificate_pem == svcproxy::testing::kWebCertificate);
  CHECK(snapshot.secrets[0].private_key_pem == svcproxy::testing::kWebKey);
  CHECK(snapshot.secrets[0].dns_names ==
        std::vector<std::string>{"web.example.com", "www.example.com"});
}

TEST_CASE("stringData is read as is and wins over data") {
  std::string text = head + "type: kubernetes.io/tls\ndata: {tls.crt: Q0VSVA==}\nstringData:\n";
  text += "  tls.crt: " + svcproxy::testing::yaml_block(svcproxy::testing::kApiCertificate) +
          "  tls.key: " + svcproxy::testing::yaml_block(svcproxy::testing::kApiKey);
  const Snapshot snapshot = load_ok(text);
  CHECK(snapshot.secrets[0].certificate_pem == svcproxy::testing::kApiCertificate);
  CHECK(snapshot.secrets[0].dns_names ==
        std::vector<std::string>{"api.example.com", "*.api.example.com"});
}

TEST_CASE("invalid base64 and missing keys are errors") {
  CHECK(only_error(head + "type: kubernetes.io/tls\ndata:\n  tls.crt: Q0VSV\n  tls.key: S0VZ\n") ==
        "test.yaml:6:12: data.tls.crt: invalid base64");
  CHECK(only_error(head + "type: kubernetes.io/tls\ndata:\n  tls.crt: Q0VSVA==\n") ==
        "test.yaml:6:3: data: a kubernetes.io/tls Secret needs tls.key");
}

TEST_CASE("a certificate that does not parse, or a key that is not its key, is an error") {
  const std::string not_pem = only_error(tls_data("CERT", svcproxy::testing::kWebKey));
  CHECK(not_pem.starts_with("test.yaml:6:12: data.tls.crt: no PEM certificate could be read"));
  CHECK(only_error(tls_data(svcproxy::testing::kWebCertificate, svcproxy::testing::kApiKey)) ==
        "test.yaml:7:12: data.tls.key: the private key is not the key of the certificate in "
        "tls.crt");
  const std::string no_key = only_error(tls_data(svcproxy::testing::kWebCertificate, "KEY"));
  CHECK(no_key.starts_with("test.yaml:7:12: data.tls.key: no PEM private key could be read"));
}

TEST_CASE("other Secret types are skipped with a warning") {
  const LoadResult result = load(head + "type: Opaque\ndata: {password: '!!!'}\n");
  REQUIRE(result.ok());
  CHECK(result.snapshot->secrets.empty());
  REQUIRE(result.warnings.size() == 1);
  CHECK(result.warnings[0].to_string() ==
        "test.yaml:4:7: type: skipping Secret web-tls of type Opaque (only kubernetes.io/tls "
        "Secrets and the ca.crt of others are read)");
}

}  // namespace
}  // namespace svcproxy::conf

namespace svcproxy::conf {
namespace {

TEST_CASE("tls.ocsp must be a successful DER OCSP response") {
  const std::string secret =
      tls_data(svcproxy::testing::kWebCertificate, svcproxy::testing::kWebKey);
  CHECK(only_error(secret + "  tls.ocsp: " + base64("not an OCSP response") + "\n")
            .find("data.tls.ocsp: not a DER OCSP response") != std::string::npos);
  // A DER OCSPResponse whose status is tryLater (3) and which has no body.
  CHECK(only_error(secret + "  tls.ocsp: " + base64(std::string("\x30\x03\x0a\x01\x03", 5)) + "\n")
            .find("the OCSP response's status is trylater, not successful") != std::string::npos);
}

}  // namespace
}  // namespace svcproxy::conf
