// Which certificate a client asking for a name gets (RFC 6125 matching, most specific wins).
#include "server/tls/sni_match.hpp"

#include <doctest/doctest.h>

namespace svcproxy::server {
namespace {

const std::vector<std::vector<std::string>> kNames = {
    {"web.example.com", "www.example.com"},   // 0
    {"*.example.com"},                        // 1
    {"api.example.com", "*.api.example.com"}  // 2
};

TEST_CASE("sni: an exact name beats a wildcard, case-insensitively") {
  CHECK(choose_certificate(kNames, "web.example.com") == 0u);
  CHECK(choose_certificate(kNames, "WWW.Example.COM") == 0u);
  CHECK(choose_certificate(kNames, "api.example.com") == 2u);  // exact, not *.example.com
}

TEST_CASE("sni: a wildcard covers one whole label; the longest suffix wins") {
  CHECK(choose_certificate(kNames, "shop.example.com") == 1u);
  CHECK(choose_certificate(kNames, "v2.api.example.com") == 2u);  // *.api beats *.
  CHECK_FALSE(choose_certificate(kNames, "example.com"));         // no label for the *
  CHECK_FALSE(choose_certificate(kNames, "a.b.c.example.org"));
  CHECK_FALSE(choose_certificate({{"*.example.com"}}, "a.b.example.com"));
  CHECK_FALSE(choose_certificate({{"*."}}, "a."));  // a bare "*." matches nothing
}

TEST_CASE("sni: no name, or no certificate for it, is left to the caller") {
  CHECK_FALSE(choose_certificate(kNames, ""));
  CHECK_FALSE(choose_certificate({}, "web.example.com"));
  // Two certificates for one name: the first, as the annotation lists them.
  CHECK(choose_certificate({{"a.test"}, {"a.test"}}, "a.test") == 0u);
}

}  // namespace
}  // namespace svcproxy::server
