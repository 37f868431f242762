#include "conf/names.hpp"

#include <doctest/doctest.h>

#include <string>

namespace svcproxy::conf {
namespace {

TEST_CASE("RFC 1123 and RFC 1035 labels") {
  CHECK(is_dns1123_label("web"));
  CHECK(is_dns1123_label("1web"));
  CHECK(is_dns1123_label(std::string(63, 'a')));
  CHECK_FALSE(is_dns1123_label(std::string(64, 'a')));
  for (const char* bad : {"", "Web", "web-", "-web", "web.x", "web_x"})
    CHECK_FALSE(is_dns1123_label(bad));
  CHECK(is_dns1035_label("web-1"));
  CHECK_FALSE(is_dns1035_label("1web"));
}

TEST_CASE("RFC 1123 subdomains") {
  CHECK(is_dns1123_subdomain("web-1.example.com"));
  CHECK(is_dns1123_subdomain("1.2"));
  for (const char* bad : {"", ".", "a..b", "a.", ".a", "A.b"})
    CHECK_FALSE(is_dns1123_subdomain(bad));
  CHECK_FALSE(is_dns1123_subdomain(std::string(254, 'a')));
}

TEST_CASE("IANA service names (container port names)") {
  CHECK(is_iana_service_name("http"));
  CHECK(is_iana_service_name("h2c-port"));
  CHECK(is_iana_service_name(std::string(15, 'a')));
  for (const char* bad : {"", "8080", "a--b", "-a", "a-", "HTTP", "aaaaaaaaaaaaaaaa"})
    CHECK_FALSE(is_iana_service_name(bad));
}

}  // namespace
}  // namespace svcproxy::conf
