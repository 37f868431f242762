// Self-signed ECDSA P-256 certificates for the tests (100-year validity, never used
// outside them): web (DNS web.example.com, www.example.com) and api (api.example.com,
// *.api.example.com). `openssl req -x509 -newkey ec ...` made them.
#pragma once

#include <string>
#include <string_view>

namespace svcproxy::testing {

// `pem` as a YAML literal block ("|" and each line indented four spaces), for a Secret's
// stringData written inline in a test's YAML.
inline std::string yaml_block(std::string_view pem) {
  std::string out = "|\n";
  std::size_t start = 0;
  while (start < pem.size()) {
    const auto end = pem.find('\n', start);
    out += "    " + std::string(pem.substr(start, end - start)) + "\n";
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return out;
}

inline constexpr const char* kWebCertificate = R"(-----BEGIN CERTIFICATE-----
MIIBujCCAV+gAwIBAgIUG566N8EQ1frCe/haAbunZXZ7jTUwCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPd2ViLmV4YW1wbGUuY29tMCAXDTI2MTIwMzEzMjcwNVoYDzIx
MjYxMTA5MTMyNzA1WjAaMRgwFgYDVQQDDA93ZWIuZXhhbXBsZS5jb20wWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAAQdwsZbr1OZlEaUCqL1qGiW4EL3hoCexLRDICJ9
mZXmgkG7SCZZ3TEi+wHcidP1VA+MXKRpNfKPo2P9CINnp5doo4GAMH4wHQYDVR0O
BBYEFB2Kq736O7JS9hAOpDhLP0Jsst2xMB8GA1UdIwQYMBaAFB2Kq736O7JS9hAO
pDhLP0Jsst2xMA8GA1UdEwEB/wQFMAMBAf8wKwYDVR0RBCQwIoIPd2ViLmV4YW1w
bGUuY29tgg93d3cuZXhhbXBsZS5jb20wCgYIKoZIzj0EAwIDSQAwRgIhAK6kjPKl
KSS334S0n2FGdSWYxrJoTDwcTVA0VKiotZ/0AiEAy3ej+8YXefHZxMpGAADty5GC
oBaAEyKUyAXGOLssbVM=
-----END CERTIFICATE-----
)";
inline constexpr const char* kWebKey = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgR7KHs4l3dssd6s+8
edsJyA3G90Y0xd/whSnmvYD1kIGhRANCAAQdwsZbr1OZlEaUCqL1qGiW4EL3hoCe
xLRDICJ9mZXmgkG7SCZZ3TEi+wHcidP1VA+MXKRpNfKPo2P9CINnp5do
-----END PRIVATE KEY-----
)";
inline constexpr const char* kApiCertificate = R"(-----BEGIN CERTIFICATE-----
MIIBvDCCAWKgAwIBAgIUYshtcJs84WKUsWyatdb+XvwZ8YkwCgYIKoZIzj0EAwIw
GjEYMBYGA1UEAwwPYXBpLmV4YW1wbGUuY29tMCAXDTI2MTIwMzEzMjcwNVoYDzIx
MjYxMTA5MTMyNzA1WjAaMRgwFgYDVQQDDA9hcGkuZXhhbXBsZS5jb20wWTATBgcq
hkjOPQIBBggqhkjOPQMBBwNCAARGxVXFeOyAtL9uVkroEtD08shFLSC2sCt7Hiiw
HkY9b3Iv2RgHfeRD+gVBgb0bhOiZHmqYvDeUUXeSarBzcHbfo4GDMIGAMB0GA1Ud
DgQWBBTnWGH5gW0fUExEXg04JpME0V7H/jAfBgNVHSMEGDAWgBTnWGH5gW0fUExE
Xg04JpME0V7H/jAPBgNVHRMBAf8EBTADAQH/MC0GA1UdEQQmMCSCD2FwaS5leGFt
cGxlLmNvbYIRKi5hcGkuZXhhbXBsZS5jb20wCgYIKoZIzj0EAwIDSAAwRQIgaW2u
mFAqwVf1oUslfJL1A7rwVS6LMS2J0g/h+G3JXrsCIQDe0WmLOH/yb/tqKycEvs38
K+0CpA2iWJ0TX8dsyUjS1g==
-----END CERTIFICATE-----
)";
inline constexpr const char* kApiKey = R"(-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgDDtAQWil63rE9Wzd
P54tUKMs2AVCbLRJkYV6KEDzAb6hRANCAARGxVXFeOyAtL9uVkroEtD08shFLSC2
sCt7HiiwHkY9b3Iv2RgHfeRD+gVBgb0bhOiZHmqYvDeUUXeSarBzcHbf
-----END PRIVATE KEY-----
)";

}  // namespace svcproxy::testing
