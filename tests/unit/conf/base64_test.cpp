#include "conf/base64.hpp"

#include <doctest/doctest.h>

namespace svcproxy::conf {
namespace {

TEST_CASE("base64 decodes with and without padding groups") {
  CHECK(decode_base64("") == "");
  CHECK(decode_base64("Zg==") == "f");
  CHECK(decode_base64("Zm8=") == "fo");
  CHECK(decode_base64("Zm9v") == "foo");
  CHECK(decode_base64("Zm9v\nYmFy\n") == "foobar");
  CHECK(decode_base64("/+8=") == "\xff\xef");
}

TEST_CASE("invalid base64 is rejected") {
  for (const char* bad : {"Zg=", "Zg", "Z===", "Zm9v!", "Zg==Zg==", "=Zg="}) {
    CAPTURE(bad);
    CHECK_FALSE(decode_base64(bad).has_value());
  }
}

}  // namespace
}  // namespace svcproxy::conf
